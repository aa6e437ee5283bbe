"""Writing comments on issues."""

from __future__ import annotations

from crmgraph.authz.abilities import Ability, allowed
from crmgraph.context import RequestContext
from crmgraph.domain.errors import ResourceNotAvailable
from crmgraph.domain.issues import Note, note_errors
from crmgraph.mutations.lookups import readable_issue_by_id
from crmgraph.mutations.outcome import Outcome
from crmgraph.persistence import issues as issues_repo


async def create_note(ctx: RequestContext, *, issue_id: int, body: str) -> Outcome[Note]:
    ctx.require_writer()
    issue, level = await readable_issue_by_id(ctx, issue_id)
    if not allowed(level, Ability.CREATE_NOTE):
        raise ResourceNotAvailable()
    errors = note_errors(body)
    if errors:
        return Outcome.failed(errors)
    assert ctx.actor.user_id is not None
    async with ctx.db.transaction() as conn:
        note = await issues_repo.create_note(
            conn,
            issue_id=issue.id,
            author_id=ctx.actor.user_id,
            body=body,
            system=False,
            now=ctx.now(),
        )
    return Outcome(note)
