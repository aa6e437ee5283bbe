"""Writing comments on issues, with their quick actions (spec §7)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from crmgraph.authz.abilities import Ability, allowed
from crmgraph.context import RequestContext
from crmgraph.domain.errors import ResourceNotAvailable
from crmgraph.domain.issues import Note, note_errors
from crmgraph.domain.quick_actions import parse_quick_actions
from crmgraph.mutations.lookups import readable_issue_by_id
from crmgraph.mutations.quick_actions import (
    QuickActionsOutcome,
    QuickActionsStatus,
    announce_quick_actions,
    authorize_quick_actions,
    run_quick_actions,
)
from crmgraph.persistence import issues as issues_repo


@dataclass(frozen=True, slots=True)
class NoteOutcome:
    """``note`` is None on errors and for a note made only of commands (not stored).

    ``quick_actions`` is None when the body held no commands. What the commands could
    not do is in ``quick_actions.error_messages``, not in ``errors``: the note itself
    was fine (GitLab's payload does the same).
    """

    note: Note | None = None
    errors: list[str] = field(default_factory=list)
    quick_actions: QuickActionsStatus | None = None


async def create_note(ctx: RequestContext, *, issue_id: int, body: str) -> NoteOutcome:
    ctx.require_writer()
    issue, level = await readable_issue_by_id(ctx, issue_id)
    if not allowed(level, Ability.CREATE_NOTE):
        raise ResourceNotAvailable()
    errors = note_errors(body)
    if errors:
        return NoteOutcome(errors=errors)
    parsed = parse_quick_actions(body)
    # Without commands the body is stored exactly as written (the parser would
    # normalize line endings and trim blank lines).
    text = parsed.text if parsed.commands else body
    plan = await authorize_quick_actions(ctx, issue, level, parsed)
    assert ctx.actor.user_id is not None
    author_id = ctx.actor.user_id

    async def write(conn: AsyncConnection) -> tuple[Note | None, QuickActionsOutcome]:
        note = None
        if not plan.commands_only:
            # The comment first, its commands after, as GitLab: the system note
            # "added 1 contact" follows the comment that caused it.
            note = await issues_repo.create_note(
                conn, issue_id=issue.id, author_id=author_id, body=text, system=False, now=ctx.now()
            )
        return note, await run_quick_actions(ctx, conn, issue, plan)

    note, ran = await ctx.db.run_in_transaction(write)
    announce_quick_actions(ctx, ran)
    return NoteOutcome(note=note, quick_actions=ran.status)
