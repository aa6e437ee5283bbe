"""In-process change notifications for GraphQL subscriptions.

One process only: with several workers, a subscriber hears about changes made by its
own worker. A shared broker (PostgreSQL LISTEN/NOTIFY) is the next step for that.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class EventBus:
    def __init__(self) -> None:
        self._subscribers: defaultdict[tuple[str, int], set[asyncio.Queue[int]]] = defaultdict(set)

    def publish(self, topic: str, key: int) -> None:
        for queue in list(self._subscribers.get((topic, key), ())):
            queue.put_nowait(key)

    @asynccontextmanager
    async def subscribe(self, topic: str, key: int) -> AsyncIterator[asyncio.Queue[int]]:
        queue: asyncio.Queue[int] = asyncio.Queue()
        self._subscribers[(topic, key)].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[(topic, key)].discard(queue)
            if not self._subscribers[(topic, key)]:
                del self._subscribers[(topic, key)]


ISSUE_CRM_CONTACTS_UPDATED = "issue_crm_contacts_updated"
