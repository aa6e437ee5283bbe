"""The caller."""

from __future__ import annotations

from crmgraph.context import RequestContext
from crmgraph.domain.users import User


def current_user(ctx: RequestContext) -> User | None:
    return ctx.actor.user
