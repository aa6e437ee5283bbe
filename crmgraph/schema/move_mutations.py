"""Moving issues, projects and groups (spec §9); the rules live in ``mutations.moves*``."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crmgraph.mutations import moves as move_writes
from crmgraph.mutations import moves_group as group_move_writes
from crmgraph.mutations import moves_issue as issue_move_writes
from crmgraph.schema.arguments import Info
from crmgraph.schema.groups import Group
from crmgraph.schema.issues import Issue
from crmgraph.schema.mutation_base import CLIENT_MUTATION_ID, ERRORS, INPUT
from crmgraph.schema.projects import Project


@strawberry.input(description="Move an issue to another project.")
class IssueMoveInput:
    client_mutation_id: str | None = strawberry.field(default=None, description=CLIENT_MUTATION_ID)
    project_path: strawberry.ID = strawberry.field(
        description="Full path of the project the issue is in."
    )
    iid: str = strawberry.field(description="IID of the issue to move.")
    target_project_path: strawberry.ID = strawberry.field(
        description="Full path of the project to move the issue to."
    )


@strawberry.type(description="Result of issueMove.")
class IssueMovePayload:
    client_mutation_id: str | None = strawberry.field(description=CLIENT_MUTATION_ID)
    issue: Issue | None = strawberry.field(
        description="The issue in its new project (with its new IID); null on errors."
    )
    errors: list[str] = strawberry.field(description=ERRORS)


@strawberry.input(description="Move a group (with its subgroups and projects) elsewhere.")
class GroupTransferInput:
    client_mutation_id: str | None = strawberry.field(default=None, description=CLIENT_MUTATION_ID)
    full_path: strawberry.ID = strawberry.field(description="Full path of the group to move.")
    new_parent_path: strawberry.ID | None = strawberry.field(
        default=None, description="Null makes it a root group."
    )


@strawberry.type(description="Result of groupTransfer.")
class GroupTransferPayload:
    client_mutation_id: str | None = strawberry.field(description=CLIENT_MUTATION_ID)
    group: Group | None = strawberry.field(
        description="The group at its new place (new full path); null on errors."
    )
    errors: list[str] = strawberry.field(description=ERRORS)


@strawberry.input(description="Move a project (with its issues) to another group.")
class ProjectTransferInput:
    client_mutation_id: str | None = strawberry.field(default=None, description=CLIENT_MUTATION_ID)
    full_path: strawberry.ID = strawberry.field(description="Full path of the project to move.")
    new_group_path: strawberry.ID = strawberry.field(
        description="Full path of the group to move the project to."
    )


@strawberry.type(description="Result of projectTransfer.")
class ProjectTransferPayload:
    client_mutation_id: str | None = strawberry.field(description=CLIENT_MUTATION_ID)
    project: Project | None = strawberry.field(
        description="The project in its new group (new full path); null on errors."
    )
    errors: list[str] = strawberry.field(description=ERRORS)


@strawberry.type
class MoveMutation:
    @strawberry.mutation(
        description=(
            "Move an issue to another project (Reporters and above in both). It gets a new "
            "IID there; contacts stay only if both projects use the same CRM group."
        )
    )
    async def issue_move(
        self, info: Info, input: Annotated[IssueMoveInput, strawberry.argument(description=INPUT)]
    ) -> IssueMovePayload | None:
        out = await issue_move_writes.move_issue(
            info.context,
            project_path=input.project_path,
            iid=input.iid,
            target_project_path=input.target_project_path,
        )
        return IssueMovePayload(
            client_mutation_id=input.client_mutation_id, issue=out.value, errors=out.errors
        )

    @strawberry.mutation(
        description=(
            "Move a group under another parent, or make it a root group (Owners of the group, "
            "Maintainers and above of the new parent). Its CRM records follow it to the new "
            "CRM group."
        )
    )
    async def group_transfer(
        self,
        info: Info,
        input: Annotated[GroupTransferInput, strawberry.argument(description=INPUT)],
    ) -> GroupTransferPayload | None:
        out = await group_move_writes.transfer_group(
            info.context, full_path=input.full_path, new_parent_path=input.new_parent_path
        )
        return GroupTransferPayload(
            client_mutation_id=input.client_mutation_id, group=out.value, errors=out.errors
        )

    @strawberry.mutation(
        description=(
            "Move a project to another group (Owners of its group, Maintainers and above of the "
            "target). Its issues lose their contacts if the CRM group changes."
        )
    )
    async def project_transfer(
        self,
        info: Info,
        input: Annotated[ProjectTransferInput, strawberry.argument(description=INPUT)],
    ) -> ProjectTransferPayload | None:
        out = await move_writes.transfer_project(
            info.context, full_path=input.full_path, new_group_path=input.new_group_path
        )
        return ProjectTransferPayload(
            client_mutation_id=input.client_mutation_id, project=out.value, errors=out.errors
        )
