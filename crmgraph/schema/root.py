"""The root types and the schema."""

from __future__ import annotations

from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from crmgraph.domain.errors import PublicError
from crmgraph.resolvers import groups as group_reads
from crmgraph.resolvers import issues as issue_reads
from crmgraph.resolvers import projects as project_reads
from crmgraph.resolvers import users as user_reads
from crmgraph.schema import crm_mutations, move_mutations, world_mutations
from crmgraph.schema.directives import install_guards, reachable_types
from crmgraph.schema.scalars import SCALARS, IssueID, NoteID, ProjectID, UserID
from crmgraph.schema.subscriptions import Subscription
from crmgraph.schema.world import Group, Info, Issue, Project, UserCore

INTERNAL_ERROR = "Internal server error"


@strawberry.type(description="Entry points for reading.")
class Query:
    @strawberry.field(description="The user the request authenticates as; null when anonymous.")
    def current_user(self, info: Info) -> UserCore | None:
        return user_reads.current_user(info.context)

    @strawberry.field(description="A group by its full path; null when absent or not visible.")
    async def group(
        self,
        info: Info,
        full_path: Annotated[strawberry.ID, strawberry.argument(description="Full path.")],
    ) -> Group | None:
        return await group_reads.group_by_full_path(info.context, full_path)

    @strawberry.field(description="A project by its full path; null when absent or not visible.")
    async def project(
        self,
        info: Info,
        full_path: Annotated[strawberry.ID, strawberry.argument(description="Full path.")],
    ) -> Project | None:
        return await project_reads.project_by_full_path(info.context, full_path)

    @strawberry.field(description="An issue by its global ID; null when absent or not visible.")
    async def issue(
        self,
        info: Info,
        id: Annotated[IssueID, strawberry.argument(description="Global ID of the issue.")],
    ) -> Issue | None:
        return await issue_reads.issue_by_id(info.context, id)


Mutation = merge_types(
    "Mutation",
    (world_mutations.WorldMutation, crm_mutations.CrmMutation, move_mutations.MoveMutation),
)


def _is_public(error: GraphQLError) -> bool:
    original = error.original_error
    return original is None or isinstance(original, PublicError | GraphQLError)


def should_mask(error: GraphQLError) -> bool:
    """Only messages written for clients reach them; anything unexpected is masked."""
    return not _is_public(error)


def build_schema() -> strawberry.Schema:
    install_guards(reachable_types([Query, Mutation, Subscription]))
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # Part of GitLab's contract although no field uses them yet.
        types=[ProjectID, NoteID, UserID],
        config=StrawberryConfig(scalar_map=SCALARS),
        extensions=[
            lambda: ParserCache(maxsize=1000),
            lambda: ValidationCache(maxsize=1000),
            lambda: MaskErrors(should_mask_error=should_mask, error_message=INTERNAL_ERROR),
        ],
    )
