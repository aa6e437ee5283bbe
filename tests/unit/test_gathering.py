"""``all_of``: results in order; one lookup in the caller's task, several concurrently."""

from __future__ import annotations

import asyncio

from crmgraph.resolvers.gathering import all_of


async def _task_of_lookup() -> asyncio.Task[object] | None:
    return asyncio.current_task()


async def test_a_single_lookup_runs_in_the_callers_own_task() -> None:
    assert await all_of([_task_of_lookup()]) == [asyncio.current_task()]


async def test_several_lookups_run_concurrently_and_answer_in_order() -> None:
    first, second = asyncio.Event(), asyncio.Event()

    async def lookup(name: str, mine: asyncio.Event, other: asyncio.Event) -> str:
        # Each waits for the other: run one after the other, they would never finish.
        mine.set()
        await other.wait()
        return name

    found = await asyncio.wait_for(
        all_of([lookup("a", first, second), lookup("b", second, first)]), timeout=5
    )
    assert found == ["a", "b"]


async def test_no_lookups_give_no_results() -> None:
    assert await all_of([]) == []
