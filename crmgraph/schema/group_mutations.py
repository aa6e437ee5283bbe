"""Mutations that shape where the CRM lives: groups, their members, projects."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crmgraph.domain.roles import AccessLevel as Role
from crmgraph.mutations import groups as group_writes
from crmgraph.mutations import members as member_writes
from crmgraph.mutations import projects as project_writes
from crmgraph.schema.arguments import Info
from crmgraph.schema.directives import AccessLevel
from crmgraph.schema.groups import Group
from crmgraph.schema.mutation_base import CLIENT_MUTATION_ID, ERRORS, INPUT, provided
from crmgraph.schema.projects import Project


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


@strawberry.type
class GroupMutation:
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
