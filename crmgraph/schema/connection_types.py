"""Builds the edge and connection types of one node type.

No ``from __future__ import annotations`` here: the node type is a runtime value that the
annotations below must see.
"""

from typing import Any, Optional

import strawberry

from crmgraph.domain.pagination import Page
from crmgraph.schema.connections import PageInfo, page_info


def connection_types(node_type: type, prefix: str, noun: str) -> tuple[type, type]:
    """The edge and connection types over ``node_type``; a connection wraps a Page."""

    @strawberry.type(name=f"{prefix}Edge", description=f"An edge in a connection of {noun}.")
    class Edge:
        cursor: str = strawberry.field(description="A cursor for use in pagination.")
        node: Optional[node_type] = strawberry.field(  # noqa: UP045
            description="The item at the end of the edge."
        )

    @strawberry.type(name=f"{prefix}Connection", description=f"A page of {noun}.")
    class Connection:
        page: strawberry.Private[Page[Any]]
        #: Set when the page was filtered by its guard already (``screened_connections``).
        screened: strawberry.Private[bool] = False
        # A plain value rather than a resolver: lists of connections (an issue page with
        # each issue's contacts) then cost no resolver call per connection for their nodes.
        items: Optional[list[Optional[node_type]]] = strawberry.field(  # noqa: UP045
            name="nodes", description="A list of nodes.", default=None
        )

        def __post_init__(self) -> None:
            self.items = list(self.page.items)

        def replace_page(self, page: Page[Any]) -> None:
            self.page = page
            self.items = list(page.items)

        @strawberry.field(description="A list of edges.")
        def edges(self) -> Optional[list[Optional[Edge]]]:  # noqa: UP045
            return [
                Edge(cursor=cursor, node=item)
                for item, cursor in zip(self.page.items, self.page.cursors, strict=True)
            ]

        @strawberry.field(description="Information to aid in pagination.")
        def page_info(self) -> PageInfo:
            return page_info(self.page)

    # The field that returns the connection filters its page once (schema/directives.py),
    # so edges and nodes are plain values with no per-item guard.
    Connection.node_type = node_type  # type: ignore[attr-defined]
    Connection.guarded_upstream = True  # type: ignore[attr-defined]
    Edge.guarded_upstream = True  # type: ignore[attr-defined]
    return Edge, Connection
