"""Creating and changing groups."""

from __future__ import annotations

from typing import Any

from crmgraph.authz.abilities import Ability
from crmgraph.context import RequestContext
from crmgraph.domain.groups import Group, join_path, name_errors, path_errors
from crmgraph.domain.roles import AccessLevel
from crmgraph.mutations.lookups import group_with
from crmgraph.mutations.outcome import Outcome
from crmgraph.persistence import groups as groups_repo

PATH_TAKEN = "Path has already been taken"


async def create_group(
    ctx: RequestContext, *, path: str, name: str, parent_path: str | None
) -> Outcome[Group]:
    """A root group (its creator becomes Owner) or a subgroup (Maintainer+ of the parent)."""
    ctx.require_writer()
    parent = None
    if parent_path:
        parent, _ = await group_with(ctx, parent_path, Ability.CREATE_SUBGROUP)
    errors = path_errors(path) + name_errors(name)
    if errors:
        return Outcome.failed(errors)
    full_path = join_path(None if parent is None else parent.full_path, path)
    assert ctx.actor.user_id is not None
    async with ctx.db.transaction() as conn:
        if await groups_repo.full_path_taken(conn, full_path):
            return Outcome.failed([PATH_TAKEN])
        try:
            group = await groups_repo.create_group(
                conn,
                parent=parent,
                path=path,
                name=name.strip(),
                full_path=full_path,
                now=ctx.now(),
            )
        except groups_repo.PathTaken:
            return Outcome.failed([PATH_TAKEN])
        if parent is None:
            await groups_repo.set_group_member(
                conn,
                group_id=group.id,
                user_id=ctx.actor.user_id,
                level=AccessLevel.OWNER,
                now=ctx.now(),
            )
    ctx.forget_levels()
    return Outcome(group)


async def update_group(
    ctx: RequestContext, *, full_path: str, changes: dict[str, Any]
) -> Outcome[Group]:
    """Name and CRM switch; Owners only. ``changes`` holds only the keys the client sent."""
    ctx.require_writer()
    group, _ = await group_with(ctx, full_path, Ability.ADMIN_GROUP)
    values: dict[str, Any] = {}
    errors: list[str] = []
    if "name" in changes:
        name = changes["name"]
        if name is None:
            errors.append("Name can't be blank")
        else:
            errors += name_errors(name)
            values["name"] = name.strip()
    if "crm_enabled" in changes:
        if changes["crm_enabled"] is None:
            errors.append("Crm enabled can't be blank")
        else:
            values["crm_enabled"] = bool(changes["crm_enabled"])
    if errors:
        return Outcome.failed(errors, group)
    if not values:
        return Outcome(group)
    async with ctx.db.transaction() as conn:
        updated = await groups_repo.update_group(conn, group.id, values, ctx.now())
    ctx.loaders.prime(ctx.loaders.groups, updated.id, updated)
    return Outcome(updated)
