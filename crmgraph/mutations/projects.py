"""Creating projects."""

from __future__ import annotations

from crmgraph.authz.abilities import Ability
from crmgraph.context import RequestContext
from crmgraph.domain.groups import Project, join_path, name_errors, path_errors
from crmgraph.mutations.groups import PATH_TAKEN
from crmgraph.mutations.lookups import group_with
from crmgraph.mutations.outcome import Outcome
from crmgraph.persistence import groups as groups_repo


async def create_project(
    ctx: RequestContext, *, group_path: str, path: str, name: str
) -> Outcome[Project]:
    ctx.require_writer()
    group, _ = await group_with(ctx, group_path, Ability.CREATE_PROJECT)
    errors = path_errors(path) + name_errors(name)
    if errors:
        return Outcome.failed(errors)
    async with ctx.db.transaction() as conn:
        if await groups_repo.full_path_taken(conn, join_path(group.full_path, path)):
            return Outcome.failed([PATH_TAKEN])
        try:
            project = await groups_repo.create_project(
                conn, group=group, path=path, name=name.strip(), now=ctx.now()
            )
        except groups_repo.PathTaken:
            return Outcome.failed([PATH_TAKEN])
    return Outcome(project)
