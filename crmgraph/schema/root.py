"""The root types and the schema."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, MaxTokensLimiter, ParserCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from crmgraph.domain.errors import PublicError
from crmgraph.observability import current_request_id
from crmgraph.resolvers import groups as group_reads
from crmgraph.resolvers import issues as issue_reads
from crmgraph.resolvers import projects as project_reads
from crmgraph.resolvers import users as user_reads
from crmgraph.schema import (
    crm_mutations,
    group_mutations,
    issue_contact_mutations,
    issue_mutations,
    move_mutations,
)
from crmgraph.schema.arguments import Info
from crmgraph.schema.directives import install_guards, reachable_types
from crmgraph.schema.execution import DirectLeafExecutionContext
from crmgraph.schema.groups import Group
from crmgraph.schema.issues import Issue
from crmgraph.schema.limits import QueryLimits
from crmgraph.schema.lookahead import install_ready_values
from crmgraph.schema.projects import Project
from crmgraph.schema.scalars import SCALARS, IssueID, NoteID, ProjectID, UserID
from crmgraph.schema.subscriptions import Subscription
from crmgraph.schema.users import UserCore
from crmgraph.schema.validation import QueryLimitsExtension, StaticChecks
from crmgraph.settings import Settings

INTERNAL_ERROR = "Internal server error"
UNAVAILABLE_ERROR = "Service unavailable: the database cannot be reached"
TIMED_OUT_ERROR = "Request timed out. Please try a less complex query or a smaller set of records."
#: ``extensions.code`` of the errors that the HTTP layer answers with 503.
UNAVAILABLE_CODE = "SERVICE_UNAVAILABLE"
TIMED_OUT_CODE = "TIMED_OUT"
#: What an exception means beyond "unexpected": ``UNAVAILABLE_CODE``, ``TIMED_OUT_CODE``
#: or None. The app passes one that knows the database's exceptions (the schema may not).
Classifier = Callable[[BaseException], str | None]
_SUGGESTION = re.compile(r"\s*Did you mean .*\?$", re.DOTALL)
logger = logging.getLogger("crmgraph.errors")


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
    (
        group_mutations.GroupMutation,
        issue_mutations.IssueMutation,
        crm_mutations.CrmMutation,
        issue_contact_mutations.IssueContactMutation,
        move_mutations.MoveMutation,
    ),
)


def _is_public(error: GraphQLError) -> bool:
    original = error.original_error
    return original is None or isinstance(original, PublicError | GraphQLError)


def should_mask(error: GraphQLError) -> bool:
    """Only messages written for clients reach them; anything unexpected is masked."""
    return not _is_public(error)


def _no_classes(_: BaseException) -> str | None:
    return None


def query_limits(settings: Settings) -> QueryLimits:
    return QueryLimits(
        max_depth_anonymous=settings.max_depth_anonymous,
        max_depth_authenticated=settings.max_depth_authenticated,
        max_complexity_anonymous=settings.max_complexity_anonymous,
        max_complexity_authenticated=settings.max_complexity_authenticated,
        max_aliases=settings.max_aliases,
        max_directives=settings.max_directives,
        max_field_repeats=settings.max_field_repeats,
        max_tokens=settings.max_tokens,
        introspection=settings.introspection,
    )


class CrmSchema(strawberry.Schema):
    """Logs what clients will not see, and keeps schema names out of errors when asked."""

    def __init__(self, *args: Any, classify: Classifier, hide_suggestions: bool, **kw: Any):
        super().__init__(*args, **kw)
        self.classify = classify
        self.hide_suggestions = hide_suggestions

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if self.hide_suggestions:
                # Validation hides them already; variable coercion during execution not.
                error.message = _SUGGESTION.sub("", error.message)
            if not should_mask(error):
                continue
            original = error.original_error
            assert original is not None
            kind = self.classify(original)
            if kind is None:
                logger.error(
                    "Unexpected error in %s: %s",
                    ".".join(map(str, error.path or [])) or "the operation",
                    original,
                    exc_info=original,
                )
            else:
                # Expected in an outage, and no bug: one line each, no traceback.
                logger.warning("%s: %s", kind, original)


class MaskUnexpected(MaskErrors):
    """Unexpected errors say only ``Internal server error`` and the request id to quote;
    an unreachable database or a cancelled statement say so, for the HTTP layer's 503."""

    def __init__(self, classify: Classifier) -> None:
        super().__init__(should_mask_error=should_mask, error_message=INTERNAL_ERROR)
        self.classify = classify

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        assert error.original_error is not None
        kind = self.classify(error.original_error)
        message = {UNAVAILABLE_CODE: UNAVAILABLE_ERROR, TIMED_OUT_CODE: TIMED_OUT_ERROR}.get(
            kind or "", INTERNAL_ERROR
        )
        extensions: dict[str, Any] = {"requestId": current_request_id()}
        if kind is not None:
            extensions["code"] = kind
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=extensions,
        )


def build_schema(
    settings: Settings | None = None, *, classify: Classifier = _no_classes
) -> strawberry.Schema:
    """The schema with the limits of ``settings`` (defaults: ``Settings()``)."""
    settings = settings or Settings()
    limits = query_limits(settings)
    checks = StaticChecks(limits)
    install_guards(reachable_types([Query, Mutation, Subscription]))
    schema = CrmSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # Part of GitLab's contract although no field uses them yet.
        types=[ProjectID, NoteID, UserID],
        config=StrawberryConfig(
            scalar_map=SCALARS, disable_field_suggestions=not limits.introspection
        ),
        extensions=[
            lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
            lambda: ParserCache(maxsize=1000),
            lambda: QueryLimitsExtension(limits, checks),
            lambda: MaskUnexpected(classify),
        ],
        classify=classify,
        hide_suggestions=not limits.introspection,
        execution_context_class=DirectLeafExecutionContext,
    )
    install_ready_values(schema._schema)
    return schema
