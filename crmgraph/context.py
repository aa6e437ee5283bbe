"""Per-request context: who is asking, the loaders, the database, and authorization lookups."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from crmgraph.authz.actor import Actor
from crmgraph.authz.policy import admin_aware
from crmgraph.domain.crm import crm_group_id
from crmgraph.domain.errors import ReadOnlyToken
from crmgraph.domain.groups import Group
from crmgraph.domain.users import PersonalAccessToken, User, token_digest
from crmgraph.events import EventBus
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
    events: EventBus = field(default_factory=EventBus)
    #: Levels already known in this request; lets permission checks answer without awaiting.
    group_level_memo: dict[int, int] = field(default_factory=dict)
    project_level_memo: dict[int, int] = field(default_factory=dict)
    #: Per-project CRM answers (which CRM group, may the actor use it), asked per issue.
    project_crm_memo: dict[tuple[int, str], Any] = field(default_factory=dict)
    #: Values a list loaded ahead for the fields of its items (schema/lookahead.py).
    prefetched: dict[Hashable, Any] = field(default_factory=dict)
    #: The answer is serialized by orjson, which embeds written JSON (schema/contact_json.py).
    json_answers: bool = False

    @classmethod
    def build(
        cls, db: Database, actor: Actor, request: Any = None, events: EventBus | None = None
    ) -> RequestContext:
        return cls(
            db=db,
            actor=actor,
            loaders=Loaders(db, actor.user_id),
            request=request,
            events=events or EventBus(),
        )

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

    async def crm_group(self, group_id: int) -> Group | None:
        """The group that owns the CRM records used by ``group_id`` (spec §2)."""
        chain = await self.loaders.group_chain(group_id)
        if not chain:
            return None
        crm_id = crm_group_id(chain)
        return next((g for g in chain if g.id == crm_id), None) or await self.loaders.group(crm_id)

    async def crm_level(self, crm_group: Group) -> int:
        """Level in a CRM group; CRM switched off there counts as no access (a prevent-rule)."""
        return await self.group_level(crm_group.id) if crm_group.crm_enabled else 0

    def refresh(self) -> None:
        """Forget everything loaded so far (a long-lived subscription before each event)."""
        self.loaders = Loaders(self.db, self.actor.user_id)
        self._forget_memos()

    def release(self) -> None:
        """Drop what this request loaded, once its answer is complete. graphql-core's
        execution context refers to itself (and holds this context), so everything
        reachable from here would otherwise live on until the garbage collector ran:
        for a 100-issue page a few thousand objects a request, and most of its
        collection time."""
        self.loaders.clear_all()
        self.prefetched.clear()
        self._forget_memos()

    def forget_levels(self) -> None:
        """Memberships changed inside this request: later checks must look again."""
        self._forget_memos()
        self.loaders.group_levels.clear_all()
        self.loaders.project_levels.clear_all()

    def _forget_memos(self) -> None:
        """The levels and CRM answers this request worked out."""
        self.group_level_memo.clear()
        self.project_level_memo.clear()
        self.project_crm_memo.clear()


class TokenCache:
    """Tokens recently found in the database, so that most requests need no lookup.

    Only valid tokens are kept, for ``seconds``: a revocation takes effect within that
    time. Expiry is still checked on every use. ``seconds=0`` turns the cache off.
    """

    def __init__(self, seconds: float, max_entries: int = 10_000) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, PersonalAccessToken, User]] = {}

    def get(self, digest: str) -> tuple[PersonalAccessToken, User] | None:
        entry = self._entries.get(digest)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1], entry[2]

    def put(self, digest: str, token: PersonalAccessToken, user: User) -> None:
        if self.seconds <= 0:
            return
        if len(self._entries) >= self.max_entries:
            now = time.monotonic()
            self._entries = {d: e for d, e in self._entries.items() if e[0] >= now}
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
        self._entries[digest] = (time.monotonic() + self.seconds, token, user)


async def authenticate(
    db: Database, secret: str, token: str, now: datetime, cache: TokenCache | None = None
) -> Actor | None:
    """The actor a token stands for; None when the token is unknown, expired or revoked."""
    digest = token_digest(token, secret)
    found = None if cache is None else cache.get(digest)
    if found is None:
        async with db.connect() as conn:
            found = await token_with_user(conn, digest)
        if found is not None and cache is not None:
            cache.put(digest, *found)
    if found is None:
        return None
    pat, user = found
    if not pat.usable_at(now):
        return None
    return Actor(user=user, scopes=frozenset(pat.scopes))
