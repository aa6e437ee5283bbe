"""Who may see an object, by the scope its type declares in ``@requiresRole``.

This is the single read-side check behind the schema directive: the schema names the
role and scope, this module knows how to find the scope of each kind of object.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from crmgraph.authz.policy import can_read_issue
from crmgraph.context import RequestContext
from crmgraph.domain.groups import Group, Project
from crmgraph.domain.issues import Issue
from crmgraph.resolvers.gathering import all_of


class Scope(enum.Enum):
    CRM_GROUP = "CRM_GROUP"
    GROUP = "GROUP"
    PROJECT = "PROJECT"


class UnknownScope(TypeError):
    pass


def scope_id(obj: Any, scope: Scope) -> int:
    """The group or project whose level decides whether ``obj`` may be seen."""
    if scope is Scope.GROUP:
        return int(obj.id if isinstance(obj, Group) else obj.group_id)
    if scope is Scope.PROJECT:
        return int(obj.id if isinstance(obj, Project) else obj.project_id)
    if scope is Scope.CRM_GROUP:
        return int(obj.group_id)
    raise UnknownScope(scope)


async def level_at(ctx: RequestContext, scope: Scope, target: int) -> int:
    if scope is Scope.GROUP:
        return await ctx.group_level(target)
    if scope is Scope.PROJECT:
        return await ctx.project_level(target)
    return await crm_read_level(ctx, target)


async def crm_read_level(ctx: RequestContext, crm_group_id: int) -> int:
    group = await ctx.loaders.group(crm_group_id)
    return 0 if group is None else await ctx.crm_level(group)


def permits(ctx: RequestContext, obj: Any, level: int, role: int) -> bool:
    if level < role:
        return False
    if isinstance(obj, Issue):
        return can_read_issue(ctx.actor, level, obj)
    return True


async def can_see(ctx: RequestContext, obj: Any, role: int, scope: Scope) -> bool:
    return permits(ctx, obj, await level_at(ctx, scope, scope_id(obj, scope)), role)


async def visible(ctx: RequestContext, items: Sequence[Any], role: int, scope: Scope) -> list[bool]:
    """Which of ``items`` may be seen; each distinct scope is looked up once (one batch)."""
    ids = [scope_id(item, scope) for item in items]
    targets = list(set(ids))
    levels = dict(
        zip(targets, await all_of([level_at(ctx, scope, t) for t in targets]), strict=True)
    )
    return [
        permits(ctx, item, levels[target], role) for item, target in zip(items, ids, strict=True)
    ]
