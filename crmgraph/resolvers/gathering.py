"""Awaiting several lookups at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar

T = TypeVar("T")


async def all_of(awaitables: Sequence[Awaitable[T]]) -> list[T]:
    """The results of ``awaitables`` in order, run concurrently. One alone is awaited
    directly: ``asyncio.gather`` wraps each in a task, and a list whose items share one
    scope (the usual case) has one lookup to make."""
    if len(awaitables) == 1:
        return [await awaitables[0]]
    return list(await asyncio.gather(*awaitables))
