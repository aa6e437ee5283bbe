"""GitLab-style connections: ``edges { cursor node }``, ``nodes`` and ``pageInfo``."""

from __future__ import annotations

from typing import Any

import strawberry

from crmgraph.domain.pagination import Page, PageArgs


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether items follow this page.")
    has_previous_page: bool = strawberry.field(description="Whether items precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first item.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last item.")


def page_info(page: Page[Any]) -> PageInfo:
    return PageInfo(
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        start_cursor=page.start_cursor,
        end_cursor=page.end_cursor,
    )


def page_args(
    first: int | None, last: int | None, after: str | None, before: str | None
) -> PageArgs:
    return PageArgs.of(first=first, last=last, after=after, before=before)


FIRST = "Returns the first n elements (at most 100)."
LAST = "Returns the last n elements (at most 100)."
AFTER = "Returns the elements that come after this cursor; an empty string means none."
BEFORE = "Returns the elements that come before this cursor; an empty string means none."
