"""Which of a request's tasks are cancelled when it times out, and how long it waits."""

from __future__ import annotations

import asyncio
import logging

import pytest

from crmgraph.request_tasks import recording_request_tasks


async def test_a_batch_started_by_a_finished_dispatch_task_is_cancelled() -> None:
    cancelled: list[str] = []

    async def batch() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append("batch")
            raise

    started: list[asyncio.Task[None]] = []

    async def dispatch() -> None:
        # As aiodataloader's dispatch does: start the batch and return at once.
        started.append(asyncio.ensure_future(batch()))

    with recording_request_tasks() as tasks:
        asyncio.get_running_loop().call_soon(asyncio.ensure_future, dispatch())
        await asyncio.sleep(0.01)
        await tasks.stop()
    assert cancelled == ["batch"]
    assert [task.cancelled() for task in started] == [True]


async def test_a_task_started_outside_the_request_is_not_recorded() -> None:
    outside = asyncio.ensure_future(asyncio.sleep(0.05))
    with recording_request_tasks() as tasks:
        inside = asyncio.ensure_future(asyncio.sleep(0))
        await tasks.stop()
    assert (inside.done(), outside.cancelled()) == (True, False)
    await outside


async def test_cleanup_that_outlasts_the_bound_is_left_running_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def stubborn() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            await asyncio.sleep(0.3)  # cleanup that takes its time
            raise

    with recording_request_tasks() as tasks:
        task = asyncio.ensure_future(stubborn())
        await asyncio.sleep(0)
        with caplog.at_level(logging.WARNING, logger="crmgraph.request_tasks"):
            await tasks.stop(seconds=0.05)
    assert (task.done(), task.cancelling()) == (False, 1)
    assert "1 task(s) still cleaning up after a timed-out request" in caplog.text
    with pytest.raises(asyncio.CancelledError):
        await task
