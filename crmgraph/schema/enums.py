"""GraphQL enums whose values GitLab spells in lower case."""

from __future__ import annotations

import enum

import strawberry

from crmgraph.domain.issues import IssueState as DomainIssueState


@strawberry.enum(name="IssueState", description="State of an issue.")
class IssueState(enum.Enum):
    opened = "opened"
    closed = "closed"


@strawberry.enum(name="IssuableState", description="State of an issue, for filtering.")
class IssuableState(enum.Enum):
    opened = "opened"
    closed = "closed"
    all = "all"


@strawberry.enum(name="IssueStateEvent", description="Close or reopen an issue.")
class IssueStateEvent(enum.Enum):
    REOPEN = "REOPEN"
    CLOSE = "CLOSE"


def state_filter(state: IssuableState | None) -> DomainIssueState | None:
    if state is None or state is IssuableState.all:
        return None
    return DomainIssueState(state.value)
