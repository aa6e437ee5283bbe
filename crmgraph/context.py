"""Per-request context: who is asking, the loaders, the database, and authorization lookups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from crmgraph.authz.actor import Actor
from crmgraph.authz.policy import admin_aware
from crmgraph.domain.errors import ReadOnlyToken
from crmgraph.domain.users import token_digest
from crmgraph.persistence.loaders import Loaders
from crmgraph.persistence.unit_of_work import Database
from crmgraph.persistence.users import token_with_user


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class RequestContext:
    db: Database
    actor: Actor
    loaders: Loaders
    clock: Callable[[], datetime] = utc_now
    request: Any = None
    #: Levels already known in this request; lets permission checks answer without awaiting.
    group_level_memo: dict[int, int] = field(default_factory=dict)
    project_level_memo: dict[int, int] = field(default_factory=dict)

    @classmethod
    def build(cls, db: Database, actor: Actor, request: Any = None) -> RequestContext:
        return cls(db=db, actor=actor, loaders=Loaders(db, actor.user_id), request=request)

    def now(self) -> datetime:
        return self.clock()

    def require_writer(self) -> None:
        """Anonymous callers and read-only tokens run no mutation."""
        if not self.actor.may_write:
            raise ReadOnlyToken()

    async def group_level(self, group_id: int) -> int:
        """The actor's effective access level in a group (admins: Owner)."""
        level = self.group_level_memo.get(group_id)
        if level is None:
            if self.actor.user is None:
                level = 0
            else:
                level = admin_aware(self.actor, await self.loaders.group_levels.load(group_id))
            self.group_level_memo[group_id] = level
        return level

    async def project_level(self, project_id: int) -> int:
        level = self.project_level_memo.get(project_id)
        if level is None:
            if self.actor.user is None:
                level = 0
            else:
                level = admin_aware(self.actor, await self.loaders.project_levels.load(project_id))
            self.project_level_memo[project_id] = level
        return level

    def forget_levels(self) -> None:
        """Memberships changed inside this request: later checks must look again."""
        self.group_level_memo.clear()
        self.project_level_memo.clear()
        self.loaders.group_levels.clear_all()
        self.loaders.project_levels.clear_all()


async def authenticate(db: Database, secret: str, token: str, now: datetime) -> Actor | None:
    """The actor a token stands for; None when the token is unknown, expired or revoked."""
    async with db.connect() as conn:
        found = await token_with_user(conn, token_digest(token, secret))
    if found is None:
        return None
    pat, user = found
    if not pat.usable_at(now):
        return None
    return Actor(user=user, scopes=frozenset(pat.scopes))
