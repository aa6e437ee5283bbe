"""Moving things (spec §9): what the three moves share, and ``projectTransfer``.

Issue moves live in ``moves_issue``, group transfers in ``moves_group``. Every move is one
transaction: it reads the rows it changes again inside that transaction (locked on
PostgreSQL), so a concurrent move cannot slip between check and write, and any failure
rolls the whole move back.

Project transfer decisions:

- Right: Owner of the project's current group (a group-level right: the transfer changes
  what the group contains; a project-only membership does not count) and Maintainer+ of
  the target group (the right to create projects there). Missing either, or not seeing
  the project → the top-level resource error (spec §3).
- Same group → ``Project is already in this namespace.`` (GitLab's message); a project or
  group with the new full path → ``Path has already been taken``.
- CRM group unchanged (same root, or the same contact source) → links stay. CRM group
  changed → every link of the project's issues is dropped, as in GitLab; **Better:** each
  issue that lost links gets the system note ``removed N contacts`` (GitLab deletes them
  silently), and subscribers hear of the change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from crmgraph.authz.abilities import Ability, allowed
from crmgraph.context import RequestContext
from crmgraph.domain.crm import crm_group_id, system_note
from crmgraph.domain.errors import ResourceNotAvailable
from crmgraph.domain.groups import Project, join_path
from crmgraph.events import ISSUE_CRM_CONTACTS_UPDATED
from crmgraph.mutations.groups import PATH_TAKEN
from crmgraph.mutations.lookups import group_with, project_with
from crmgraph.mutations.outcome import Outcome
from crmgraph.persistence import groups as groups_repo
from crmgraph.persistence import issue_contacts as links_repo
from crmgraph.persistence import moves as moves_repo

ALREADY_IN_GROUP = "Project is already in this namespace."


async def crm_group_ids(conn: AsyncConnection, group_ids: Sequence[int]) -> dict[int, int]:
    """The CRM group of each group, read on ``conn`` (inside a move: the state it sees)."""
    chains = await links_repo.group_chains(conn, group_ids)
    return {group_id: crm_group_id(chain) for group_id, chain in chains.items()}


def removal_notes(links: Iterable[moves_repo.Link]) -> dict[int, str]:
    """``removed N contacts`` for every issue that loses the given links."""
    counts = Counter(link.issue_id for link in links)
    notes = {issue_id: system_note(0, n) for issue_id, n in counts.items()}
    return {issue_id: body for issue_id, body in notes.items() if body is not None}


def forget_moved(ctx: RequestContext, changed_issue_ids: Iterable[int] = ()) -> None:
    """After commit: paths, parents, CRM groups and links may all have changed, so this
    request's caches go, and subscribers of issues whose contacts changed are told."""
    ctx.forget_levels()
    loaders = ctx.loaders
    for loader in (
        loaders.group_chains,
        loaders.groups,
        loaders.projects,
        loaders.issues,
        loaders.issue_notes,
        loaders.issue_contacts,
        loaders.contacts,
        loaders.organizations,
    ):
        loader.clear_all()
    for issue_id in sorted(set(changed_issue_ids)):
        ctx.events.publish(ISSUE_CRM_CONTACTS_UPDATED, issue_id)


async def transfer_project(
    ctx: RequestContext, *, full_path: str, new_group_path: str
) -> Outcome[Project]:
    """``projectTransfer``: the project and its issues move to another group."""
    ctx.require_writer()
    project, _ = await project_with(ctx, full_path, Ability.READ_PROJECT)
    if not allowed(await ctx.group_level(project.group_id), Ability.ADMIN_GROUP):
        raise ResourceNotAvailable()
    target, _ = await group_with(ctx, new_group_path, Ability.CREATE_PROJECT)
    if target.id == project.group_id:
        return Outcome.failed([ALREADY_IN_GROUP])
    assert ctx.actor.user_id is not None
    now = ctx.now()
    async with ctx.db.transaction() as conn:
        locked = await moves_repo.lock_project(conn, project.id)
        if locked is None or locked.group_id != project.group_id:
            # Moved or gone since the checks above: they no longer hold.
            raise ResourceNotAvailable()
        new_path = join_path(target.full_path, locked.path)
        if await groups_repo.full_path_taken(conn, new_path):
            return Outcome.failed([PATH_TAKEN])
        crm = await crm_group_ids(conn, [locked.group_id, target.id])
        try:
            moved = await moves_repo.move_project(
                conn, locked.id, group_id=target.id, full_path=new_path, now=now
            )
        except groups_repo.PathTaken:
            return Outcome.failed([PATH_TAKEN])
        dropped: list[moves_repo.Link] = []
        if crm[locked.group_id] != crm[target.id]:
            dropped = await moves_repo.links_of_project(conn, locked.id)
            await moves_repo.drop_links(conn, [link.id for link in dropped])
            await moves_repo.add_system_notes(
                conn, removal_notes(dropped), author_id=ctx.actor.user_id, now=now
            )
    forget_moved(ctx, (link.issue_id for link in dropped))
    return Outcome(moved)
