"""Subscriptions: changes pushed to clients over a WebSocket."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from crmgraph.events import ISSUE_CRM_CONTACTS_UPDATED
from crmgraph.resolvers import issues as issue_reads
from crmgraph.schema.arguments import Info
from crmgraph.schema.issues import Issue
from crmgraph.schema.scalars import IssuableID

Issuable = Annotated[
    Issue, strawberry.union("Issuable", description="Something contacts can be linked to.")
]


@strawberry.type(description="Changes that clients can subscribe to.")
class Subscription:
    @strawberry.subscription(description="The issue, each time its contacts change.")
    async def issue_crm_contacts_updated(
        self,
        info: Info,
        issuable_id: Annotated[IssuableID, strawberry.argument(description="The issue.")],
    ) -> AsyncGenerator[Issuable | None, None]:
        ctx = info.context
        async with ctx.events.subscribe(ISSUE_CRM_CONTACTS_UPDATED, issuable_id) as queue:
            while True:
                await queue.get()
                ctx.refresh()
                yield await issue_reads.visible_issue(ctx, issuable_id)
