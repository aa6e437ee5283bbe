"""Who may see an object, by the scope its type declares in ``@requiresRole``.

This is the single read-side check behind the schema directive: the schema names the
role and scope, this module knows how to find the scope of each kind of object.
"""

from __future__ import annotations

import enum
from typing import Any

from crmgraph.authz.policy import can_read_issue
from crmgraph.context import RequestContext
from crmgraph.domain.groups import Group, Project
from crmgraph.domain.issues import Issue


class Scope(enum.Enum):
    CRM_GROUP = "CRM_GROUP"
    GROUP = "GROUP"
    PROJECT = "PROJECT"


class UnknownScope(TypeError):
    pass


async def level_in_scope(ctx: RequestContext, obj: Any, scope: Scope) -> int:
    if scope is Scope.GROUP:
        return await ctx.group_level(obj.id if isinstance(obj, Group) else obj.group_id)
    if scope is Scope.PROJECT:
        return await ctx.project_level(obj.id if isinstance(obj, Project) else obj.project_id)
    if scope is Scope.CRM_GROUP:
        return await crm_read_level(ctx, obj.group_id)
    raise UnknownScope(scope)


async def crm_read_level(ctx: RequestContext, crm_group_id: int) -> int:
    group = await ctx.loaders.group(crm_group_id)
    return 0 if group is None else await ctx.crm_level(group)


async def can_see(ctx: RequestContext, obj: Any, role: int, scope: Scope) -> bool:
    level = await level_in_scope(ctx, obj, scope)
    if level < role:
        return False
    if isinstance(obj, Issue):
        return can_read_issue(ctx.actor, level, obj)
    return True
