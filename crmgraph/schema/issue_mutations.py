"""Mutations on issues and the notes on them, quick actions included."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crmgraph.mutations import issues as issue_writes
from crmgraph.mutations import notes as note_writes
from crmgraph.mutations import quick_actions as quick_action_runs
from crmgraph.schema.arguments import Info
from crmgraph.schema.enums import IssueStateEvent
from crmgraph.schema.issues import Issue, Note
from crmgraph.schema.mutation_base import CLIENT_MUTATION_ID, ERRORS, INPUT, provided
from crmgraph.schema.scalars import NoteableID


@strawberry.input(description="Create an issue.")
class CreateIssueInput:
    client_mutation_id: str | None = strawberry.field(default=None, description=CLIENT_MUTATION_ID)
    project_path: strawberry.ID = strawberry.field(description="Full path of the project.")
    title: str = strawberry.field(description="Title of the issue.")
    description: str | None = strawberry.field(
        default=None,
        description=(
            "Description; its `/add_contacts` lines run as quick actions and are not stored "
            "(what they could not do is listed in `errors`)."
        ),
    )
    confidential: bool | None = strawberry.field(
        default=None, description="Whether the issue is confidential."
    )


@strawberry.type(description="Result of createIssue.")
class CreateIssuePayload:
    client_mutation_id: str | None = strawberry.field(description=CLIENT_MUTATION_ID)
    issue: Issue | None = strawberry.field(description="The new issue.")
    errors: list[str] = strawberry.field(description=ERRORS)


@strawberry.input(description="Change an issue; absent keys are left as they are.")
class UpdateIssueInput:
    client_mutation_id: str | None = strawberry.field(default=None, description=CLIENT_MUTATION_ID)
    project_path: strawberry.ID = strawberry.field(description="Full path of the project.")
    iid: str = strawberry.field(description="IID of the issue.")
    title: str | None = strawberry.field(default=strawberry.UNSET, description="New title.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "New description; null clears it. Its `/add_contacts` and `/remove_contacts` lines "
            "run as quick actions and are not stored."
        ),
    )
    confidential: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Whether the issue is confidential."
    )
    state_event: IssueStateEvent | None = strawberry.field(
        default=strawberry.UNSET, description="Close or reopen the issue."
    )


@strawberry.type(description="Result of updateIssue.")
class UpdateIssuePayload:
    client_mutation_id: str | None = strawberry.field(description=CLIENT_MUTATION_ID)
    issue: Issue | None = strawberry.field(description="The issue after the change.")
    errors: list[str] = strawberry.field(description=ERRORS)


@strawberry.input(description="Write a comment on an issue.")
class CreateNoteInput:
    client_mutation_id: str | None = strawberry.field(default=None, description=CLIENT_MUTATION_ID)
    noteable_id: NoteableID = strawberry.field(description="Global ID of the issue.")
    body: str = strawberry.field(
        description=(
            "Content of the note. Quick-action lines run and are not stored; a body of "
            "commands alone stores no note."
        )
    )


@strawberry.type(description="What the quick actions in a note did.")
class QuickActionsStatus:
    messages: list[str] | None = strawberry.field(
        description="What the commands changed, e.g. `Added 2 contacts.`."
    )
    error_messages: list[str] | None = strawberry.field(
        description="What the commands could not do, e.g. `No contact found for a@b.example.`."
    )
    command_names: list[str] | None = strawberry.field(
        description="Commands found in the text, one per command line, in order."
    )
    commands_only: bool | None = strawberry.field(
        description="Whether the note held only commands (and so was not stored)."
    )

    @classmethod
    def of(cls, status: quick_action_runs.QuickActionsStatus | None) -> QuickActionsStatus | None:
        if status is None:
            return None
        return cls(
            messages=status.messages,
            error_messages=status.error_messages,
            command_names=status.command_names,
            commands_only=status.commands_only,
        )


@strawberry.type(description="Result of createNote.")
class CreateNotePayload:
    client_mutation_id: str | None = strawberry.field(description=CLIENT_MUTATION_ID)
    note: Note | None = strawberry.field(description="The new note.")
    errors: list[str] = strawberry.field(description=ERRORS)
    quick_actions_status: QuickActionsStatus | None = strawberry.field(
        description="What the quick actions in the body did."
    )


@strawberry.type
class IssueMutation:
    @strawberry.mutation(description="Create an issue.")
    async def create_issue(
        self, info: Info, input: Annotated[CreateIssueInput, strawberry.argument(description=INPUT)]
    ) -> CreateIssuePayload | None:
        out = await issue_writes.create_issue(
            info.context,
            project_path=input.project_path,
            title=input.title,
            description=input.description,
            confidential=bool(input.confidential),
        )
        return CreateIssuePayload(
            client_mutation_id=input.client_mutation_id, issue=out.value, errors=out.errors
        )

    @strawberry.mutation(
        description="Change an issue's title, description, confidentiality or state."
    )
    async def update_issue(
        self, info: Info, input: Annotated[UpdateIssueInput, strawberry.argument(description=INPUT)]
    ) -> UpdateIssuePayload | None:
        changes = provided(
            title=input.title,
            description=input.description,
            confidential=input.confidential,
            state_event=None if not input.state_event else input.state_event.value,
        )
        out = await issue_writes.update_issue(
            info.context, project_path=input.project_path, iid=input.iid, changes=changes
        )
        return UpdateIssuePayload(
            client_mutation_id=input.client_mutation_id, issue=out.value, errors=out.errors
        )

    @strawberry.mutation(description="Write a comment on an issue.")
    async def create_note(
        self, info: Info, input: Annotated[CreateNoteInput, strawberry.argument(description=INPUT)]
    ) -> CreateNotePayload | None:
        out = await note_writes.create_note(
            info.context, issue_id=input.noteable_id, body=input.body
        )
        return CreateNotePayload(
            client_mutation_id=input.client_mutation_id,
            note=out.note,
            errors=out.errors,
            quick_actions_status=QuickActionsStatus.of(out.quick_actions),
        )
