"""Creating and updating issues."""

from __future__ import annotations

from typing import Any

from crmgraph.authz.abilities import Ability
from crmgraph.authz.policy import can_update_issue
from crmgraph.context import RequestContext
from crmgraph.domain.errors import ResourceNotAvailable
from crmgraph.domain.issues import Issue, IssueState, description_errors, title_errors
from crmgraph.mutations.lookups import project_with, readable_issue
from crmgraph.mutations.outcome import Outcome
from crmgraph.persistence import issues as issues_repo

CLOSE = "CLOSE"
REOPEN = "REOPEN"


async def create_issue(
    ctx: RequestContext,
    *,
    project_path: str,
    title: str,
    description: str | None,
    confidential: bool,
) -> Outcome[Issue]:
    ctx.require_writer()
    project, _ = await project_with(ctx, project_path, Ability.CREATE_ISSUE)
    errors = title_errors(title) + description_errors(description)
    if errors:
        return Outcome.failed(errors)
    assert ctx.actor.user_id is not None
    async with ctx.db.transaction() as conn:
        issue = await issues_repo.create_issue(
            conn,
            project_id=project.id,
            title=title.strip(),
            description=description,
            confidential=confidential,
            author_id=ctx.actor.user_id,
            now=ctx.now(),
        )
    ctx.loaders.prime(ctx.loaders.issues, issue.id, issue)
    return Outcome(issue)


async def update_issue(
    ctx: RequestContext, *, project_path: str, iid: str, changes: dict[str, Any]
) -> Outcome[Issue]:
    """Title, description, confidentiality, close/reopen; only the keys the client sent."""
    ctx.require_writer()
    issue, level = await readable_issue(ctx, project_path, iid)
    if not can_update_issue(ctx.actor, level, issue):
        raise ResourceNotAvailable()
    values: dict[str, Any] = {}
    errors: list[str] = []
    if "title" in changes:
        title = changes["title"] or ""
        errors += title_errors(title)
        values["title"] = title.strip()
    if "description" in changes:
        errors += description_errors(changes["description"])
        values["description"] = changes["description"]
    if changes.get("confidential") is not None:
        values["confidential"] = bool(changes["confidential"])
    event = changes.get("state_event")
    now = ctx.now()
    if event == CLOSE and issue.state is IssueState.OPENED:
        values.update(state=IssueState.CLOSED.value, closed_at=now)
    elif event == REOPEN and issue.state is IssueState.CLOSED:
        values.update(state=IssueState.OPENED.value, closed_at=None)
    if errors:
        return Outcome.failed(errors, issue)
    if not values:
        return Outcome(issue)
    async with ctx.db.transaction() as conn:
        updated = await issues_repo.update_issue(conn, issue.id, values, now)
    ctx.loaders.prime(ctx.loaders.issues, updated.id, updated)
    return Outcome(updated)
