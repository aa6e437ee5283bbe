"""Mutations that manage the world the CRM lives in: groups, members, projects, issues, notes."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from crmgraph.domain.roles import AccessLevel as Role
from crmgraph.mutations import groups as group_writes
from crmgraph.mutations import issues as issue_writes
from crmgraph.mutations import members as member_writes
from crmgraph.mutations import notes as note_writes
from crmgraph.mutations import projects as project_writes
from crmgraph.mutations import quick_actions as quick_action_runs
from crmgraph.schema.arguments import Info
from crmgraph.schema.directives import AccessLevel
from crmgraph.schema.enums import IssueStateEvent
from crmgraph.schema.groups import Group
from crmgraph.schema.issues import Issue, Note
from crmgraph.schema.projects import Project
from crmgraph.schema.scalars import NoteableID

CLIENT_MUTATION_ID = "A unique identifier for the client performing the mutation."
ERRORS = "Errors encountered during the mutation."
INPUT = "Parameters for the mutation."


def provided(**fields: Any) -> dict[str, Any]:
    """The input fields the client actually sent (explicit nulls included, absent keys not)."""
    return {name: v for name, v in fields.items() if v is not strawberry.UNSET}


@strawberry.input(description="Create a root group or a subgroup.")
class GroupCreateInput:
    client_mutation_id: str | None = strawberry.field(default=None, description=CLIENT_MUTATION_ID)
    path: str = strawberry.field(description="Path of the new group (letters, digits, _ - .).")
    name: str = strawberry.field(description="Name of the new group.")
    parent_path: strawberry.ID | None = strawberry.field(
        default=None, description="Full path of the parent group; null creates a root group."
    )


@strawberry.type(description="Result of groupCreate.")
class GroupCreatePayload:
    client_mutation_id: str | None = strawberry.field(description=CLIENT_MUTATION_ID)
    group: Group | None = strawberry.field(description="The new group.")
    errors: list[str] = strawberry.field(description=ERRORS)


@strawberry.input(description="Change a group's settings (Owners only).")
class GroupUpdateInput:
    client_mutation_id: str | None = strawberry.field(default=None, description=CLIENT_MUTATION_ID)
    full_path: strawberry.ID = strawberry.field(description="Full path of the group.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    crm_enabled: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Switch customer relations on or off for the group."
    )
    crm_source_group_path: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "Full path of the contact source group; empty string clears it (use the root group)."
        ),
    )


@strawberry.type(description="Result of groupUpdate.")
class GroupUpdatePayload:
    client_mutation_id: str | None = strawberry.field(description=CLIENT_MUTATION_ID)
    group: Group | None = strawberry.field(description="The group after the change.")
    errors: list[str] = strawberry.field(description=ERRORS)


@strawberry.input(description="Add a member to a group or change their role.")
class GroupMemberSetInput:
    client_mutation_id: str | None = strawberry.field(default=None, description=CLIENT_MUTATION_ID)
    full_path: strawberry.ID = strawberry.field(description="Full path of the group.")
    username: str = strawberry.field(description="Username of the member.")
    access_level: AccessLevel = strawberry.field(description="Role to give.")


@strawberry.type(description="Result of groupMemberSet.")
class GroupMemberSetPayload:
    client_mutation_id: str | None = strawberry.field(description=CLIENT_MUTATION_ID)
    errors: list[str] = strawberry.field(description=ERRORS)


@strawberry.input(description="Remove a direct member from a group.")
class GroupMemberRemoveInput:
    client_mutation_id: str | None = strawberry.field(default=None, description=CLIENT_MUTATION_ID)
    full_path: strawberry.ID = strawberry.field(description="Full path of the group.")
    username: str = strawberry.field(description="Username of the member.")


@strawberry.type(description="Result of groupMemberRemove.")
class GroupMemberRemovePayload:
    client_mutation_id: str | None = strawberry.field(description=CLIENT_MUTATION_ID)
    errors: list[str] = strawberry.field(description=ERRORS)


@strawberry.input(description="Create a project in a group.")
class ProjectCreateInput:
    client_mutation_id: str | None = strawberry.field(default=None, description=CLIENT_MUTATION_ID)
    group_path: strawberry.ID = strawberry.field(description="Full path of the group.")
    path: str = strawberry.field(description="Path of the new project.")
    name: str = strawberry.field(description="Name of the new project.")


@strawberry.type(description="Result of projectCreate.")
class ProjectCreatePayload:
    client_mutation_id: str | None = strawberry.field(description=CLIENT_MUTATION_ID)
    project: Project | None = strawberry.field(description="The new project.")
    errors: list[str] = strawberry.field(description=ERRORS)


@strawberry.input(description="Add a member to a project or change their role.")
class ProjectMemberSetInput:
    client_mutation_id: str | None = strawberry.field(default=None, description=CLIENT_MUTATION_ID)
    full_path: strawberry.ID = strawberry.field(description="Full path of the project.")
    username: str = strawberry.field(description="Username of the member.")
    access_level: AccessLevel = strawberry.field(description="Role to give.")


@strawberry.type(description="Result of projectMemberSet.")
class ProjectMemberSetPayload:
    client_mutation_id: str | None = strawberry.field(description=CLIENT_MUTATION_ID)
    errors: list[str] = strawberry.field(description=ERRORS)


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
class WorldMutation:
    @strawberry.mutation(description="Create a root group (you become its Owner) or a subgroup.")
    async def group_create(
        self, info: Info, input: Annotated[GroupCreateInput, strawberry.argument(description=INPUT)]
    ) -> GroupCreatePayload | None:
        out = await group_writes.create_group(
            info.context, path=input.path, name=input.name, parent_path=input.parent_path
        )
        return GroupCreatePayload(
            client_mutation_id=input.client_mutation_id, group=out.value, errors=out.errors
        )

    @strawberry.mutation(description="Change a group's name and CRM settings (Owners only).")
    async def group_update(
        self, info: Info, input: Annotated[GroupUpdateInput, strawberry.argument(description=INPUT)]
    ) -> GroupUpdatePayload | None:
        changes = provided(
            name=input.name,
            crm_enabled=input.crm_enabled,
            crm_source_group_path=input.crm_source_group_path,
        )
        out = await group_writes.update_group(
            info.context, full_path=input.full_path, changes=changes
        )
        return GroupUpdatePayload(
            client_mutation_id=input.client_mutation_id, group=out.value, errors=out.errors
        )

    @strawberry.mutation(description="Add a group member or change their role.")
    async def group_member_set(
        self,
        info: Info,
        input: Annotated[GroupMemberSetInput, strawberry.argument(description=INPUT)],
    ) -> GroupMemberSetPayload | None:
        out = await member_writes.set_group_member(
            info.context,
            full_path=input.full_path,
            username=input.username,
            level=Role(input.access_level),
        )
        return GroupMemberSetPayload(client_mutation_id=input.client_mutation_id, errors=out.errors)

    @strawberry.mutation(description="Remove a direct member from a group.")
    async def group_member_remove(
        self,
        info: Info,
        input: Annotated[GroupMemberRemoveInput, strawberry.argument(description=INPUT)],
    ) -> GroupMemberRemovePayload | None:
        out = await member_writes.remove_group_member(
            info.context, full_path=input.full_path, username=input.username
        )
        return GroupMemberRemovePayload(
            client_mutation_id=input.client_mutation_id, errors=out.errors
        )

    @strawberry.mutation(description="Create a project in a group (Maintainers and above).")
    async def project_create(
        self,
        info: Info,
        input: Annotated[ProjectCreateInput, strawberry.argument(description=INPUT)],
    ) -> ProjectCreatePayload | None:
        out = await project_writes.create_project(
            info.context, group_path=input.group_path, path=input.path, name=input.name
        )
        return ProjectCreatePayload(
            client_mutation_id=input.client_mutation_id, project=out.value, errors=out.errors
        )

    @strawberry.mutation(description="Add a project member or change their role.")
    async def project_member_set(
        self,
        info: Info,
        input: Annotated[ProjectMemberSetInput, strawberry.argument(description=INPUT)],
    ) -> ProjectMemberSetPayload | None:
        out = await member_writes.set_project_member(
            info.context,
            full_path=input.full_path,
            username=input.username,
            level=Role(input.access_level),
        )
        return ProjectMemberSetPayload(
            client_mutation_id=input.client_mutation_id, errors=out.errors
        )

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
