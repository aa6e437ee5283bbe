"""Creating and changing groups."""

from __future__ import annotations

from typing import Any

from crmgraph.authz.abilities import Ability
from crmgraph.context import RequestContext
from crmgraph.domain.crm import SOURCE_NOT_FOUND, source_change_errors
from crmgraph.domain.groups import Group, join_path, name_errors, path_errors
from crmgraph.domain.roles import AccessLevel
from crmgraph.mutations.lookups import group_with
from crmgraph.mutations.outcome import Outcome
from crmgraph.persistence import groups as groups_repo
from crmgraph.persistence import issue_contacts as links_repo
from crmgraph.persistence import members as members_repo

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
            await members_repo.set_group_member(
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
    """Name, CRM switch and contact source; Owners only. ``changes`` holds only the keys
    the client sent."""
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
    if "crm_source_group_path" in changes:
        source, source_errors = await _contact_source(ctx, changes["crm_source_group_path"])
        errors += source_errors
        values["crm_source_group_id"] = None if source is None else source.id
    if errors:
        return Outcome.failed(errors, group)
    if not values:
        return Outcome(group)
    async with ctx.db.transaction() as conn:
        if "crm_source_group_id" in values:
            # Checked inside the transaction, so a link added meanwhile cannot slip through.
            errors = source_change_errors(
                group.id,
                values["crm_source_group_id"],
                current_source_id=group.crm_source_group_id,
                issues_have_contacts=await links_repo.issues_below_have_contacts(conn, group),
                source_accessible=True,
            )
            if errors:
                return Outcome.failed(errors, group)
        updated = await groups_repo.update_group(conn, group.id, values, ctx.now())
    ctx.loaders.prime(ctx.loaders.groups, updated.id, updated)
    ctx.loaders.group_chains.clear_all()
    return Outcome(updated)


async def _contact_source(ctx: RequestContext, path: str | None) -> tuple[Group | None, list[str]]:
    """The new contact source; empty or null clears it. It must exist and the actor
    needs Developer access there, else the same message either way (no existence leak)."""
    if not path:
        return None, []
    async with ctx.db.connect() as conn:
        source = await groups_repo.group_by_full_path(conn, path)
    if source is None or await ctx.group_level(source.id) < AccessLevel.DEVELOPER:
        return None, [SOURCE_NOT_FOUND]
    return source, []
