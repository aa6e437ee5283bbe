"""Who is asking: a user with a token's scopes, or nobody."""

from __future__ import annotations

from dataclasses import dataclass

from crmgraph.domain.users import Scope, User


@dataclass(frozen=True, slots=True)
class Actor:
    user: User | None
    scopes: frozenset[Scope] = frozenset()

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(user=None)

    @property
    def user_id(self) -> int | None:
        return None if self.user is None else self.user.id

    @property
    def is_admin(self) -> bool:
        return self.user is not None and self.user.admin

    @property
    def may_write(self) -> bool:
        """Only a token with the ``api`` scope may change anything."""
        return self.user is not None and Scope.API in self.scopes
