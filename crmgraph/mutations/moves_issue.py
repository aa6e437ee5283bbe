"""``issueMove`` (spec §9): an issue goes to another project.

Decisions:

- **Re-homing, not copying.** GitLab creates a new issue in the target project and closes
  the old one. crmgraph moves the row itself: it gets the target project and the next iid
  there (``issues.allocate_iid``), and keeps its id, global ID, author, state, title,
  description, notes and timestamps of creation. So nothing has to be copied, links to the
  issue's GID keep working, and the move is one small transaction. The old reference
  (``project#iid``) is not kept; the system note ``moved from <project>#<iid>`` (GitLab's
  wording on a moved issue) records it instead.
- **Rights:** Reporter+ in both projects (GitLab's ``admin_issue`` on source and target),
  and the issue must be readable (confidential ones included). Anything missing, or a
  target the actor cannot see → the top-level resource error (spec §3), so a refusal says
  nothing about what exists.
- **Contacts** stay when the target project's CRM group is the source project's (same
  root without sources, or the same contact source), even where CRM is switched off, as
  links of a switched-off CRM stay everywhere else. Otherwise the links are dropped with
  the system note ``removed N contacts`` and subscribers are told.
- Moving to the project the issue is in → ``Cannot move issue to project it originates
  from!`` (GitLab's message) with no issue in the payload, as GitLab's ``issueMove``.
"""

from __future__ import annotations

from crmgraph.authz.abilities import Ability
from crmgraph.context import RequestContext
from crmgraph.domain.crm import system_note
from crmgraph.domain.errors import ResourceNotAvailable
from crmgraph.domain.issues import Issue
from crmgraph.domain.roles import AccessLevel
from crmgraph.mutations.lookups import project_with, readable_issue
from crmgraph.mutations.moves import crm_group_ids, forget_moved
from crmgraph.mutations.outcome import Outcome
from crmgraph.persistence import issue_contacts as links_repo
from crmgraph.persistence import issues as issues_repo
from crmgraph.persistence import moves as moves_repo

SAME_PROJECT = "Cannot move issue to project it originates from!"
#: GitLab's ``admin_issue``, needed in both projects.
MOVE_LEVEL = AccessLevel.REPORTER


def moved_from_note(project_full_path: str, iid: int) -> str:
    return f"moved from {project_full_path}#{iid}"


async def move_issue(
    ctx: RequestContext, *, project_path: str, iid: str, target_project_path: str
) -> Outcome[Issue]:
    ctx.require_writer()
    issue, level = await readable_issue(ctx, project_path, iid)
    if level < MOVE_LEVEL:
        raise ResourceNotAvailable()
    target, target_level = await project_with(ctx, target_project_path, Ability.READ_PROJECT)
    if target_level < MOVE_LEVEL:
        raise ResourceNotAvailable()
    if target.id == issue.project_id:
        return Outcome.failed([SAME_PROJECT])
    source = await ctx.loaders.project(issue.project_id)
    assert source is not None and ctx.actor.user_id is not None
    now = ctx.now()
    removed: set[int] = set()
    async with ctx.db.transaction() as conn:
        locked = await issues_repo.lock_issue(conn, issue.id)
        if locked is None or locked.project_id != source.id:
            # Moved or deleted since the checks above: they were about another place.
            raise ResourceNotAvailable()
        crm = await crm_group_ids(conn, [source.group_id, target.group_id])
        new_iid = await issues_repo.allocate_iid(conn, target.id)
        moved = await moves_repo.rehome_issue(
            conn, locked.id, project_id=target.id, iid=new_iid, now=now
        )
        bodies = [moved_from_note(source.full_path, locked.iid)]
        if crm[source.group_id] != crm[target.group_id]:
            removed = await links_repo.linked_contact_ids(conn, locked.id)
            await links_repo.unlink(conn, locked.id, sorted(removed))
            note = system_note(0, len(removed))
            if note is not None:
                bodies.append(note)
        for body in bodies:
            await issues_repo.create_note(
                conn,
                issue_id=moved.id,
                author_id=ctx.actor.user_id,
                body=body,
                system=True,
                now=now,
            )
    forget_moved(ctx, [moved.id] if removed else [])
    return Outcome(moved)
