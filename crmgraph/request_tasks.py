"""The tasks a request starts, so that a request that times out stops them too.

Dataloader batches run in tasks of their own: when a request runs out of time its SQL
must stop with it, so every task started while answering it is recorded here, with the
task that started it.

Stopping them must not abandon cleanup half done. SQLAlchemy closes a connection in a
task of its own, shielded, and waits for it even when cancelled; cancelling that inner
task from outside leaves the connection checked out for ever (the garbage collector finds
it later). So a task is cancelled only when nobody else owns it: it was started by the
request itself, by a callback (as aiodataloader starts its batches), or by a task that
has finished. A task whose starter still runs is the starter's to stop or to wait for.
The request then waits, for a bounded time, until its tasks have finished, so that their
connections are back in the pool before the answer goes out.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

logger = logging.getLogger(__name__)

#: How long a timed-out request waits for its cancelled tasks to clean up. Cleanup that
#: takes longer carries on after the answer; it is never cancelled a second time.
CLEANUP_SECONDS = 2.0


class RequestTasks:
    """The tasks started while answering one request, each with the task that started it."""

    def __init__(self, request_task: asyncio.Task[Any] | None) -> None:
        self.request_task = request_task
        self.starters: weakref.WeakKeyDictionary[asyncio.Task[Any], asyncio.Task[Any] | None] = (
            weakref.WeakKeyDictionary()
        )

    def add(self, task: asyncio.Task[Any], starter: asyncio.Task[Any] | None) -> None:
        self.starters[task] = starter

    def unfinished(self) -> list[asyncio.Task[Any]]:
        return [task for task in list(self.starters) if not task.done()]

    def unowned(self, task: asyncio.Task[Any]) -> bool:
        starter = self.starters.get(task)
        return starter is None or starter is self.request_task or starter.done()

    async def stop(self, seconds: float = CLEANUP_SECONDS) -> None:
        """Cancel the unowned tasks, once each, and wait until all have finished."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while pending := self.unfinished():
            for task in pending:
                # A task already being cancelled is cleaning up: a second cancel would
                # interrupt that cleanup.
                if task.cancelling() == 0 and self.unowned(task):
                    task.cancel()
            remaining = deadline - loop.time()
            if remaining <= 0:
                logger.warning(
                    "%d task(s) still cleaning up after a timed-out request", len(pending)
                )
                return
            # One finished task may leave its own tasks unowned: look again after each.
            await asyncio.wait(pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)


_current: ContextVar[RequestTasks | None] = ContextVar("crmgraph_request_tasks", default=None)


def _record_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Install, once per loop, a task factory that records tasks started for a request."""
    previous = loop.get_task_factory()
    if getattr(previous, "records_request_tasks", False):
        return

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        if previous is not None:
            task: asyncio.Task[Any] = previous(loop, coro, **kwargs)  # type: ignore[assignment]
        else:
            task = asyncio.Task(coro, loop=loop, **kwargs)
        recorded = _current.get()
        if recorded is not None:
            recorded.add(task, asyncio.current_task(loop))
        return task

    factory.records_request_tasks = True  # type: ignore[attr-defined]
    loop.set_task_factory(factory)


@contextmanager
def recording_request_tasks() -> Iterator[RequestTasks]:
    """Within this block, tasks started (in this context) are recorded in the result."""
    _record_tasks(asyncio.get_running_loop())
    tasks = RequestTasks(asyncio.current_task())
    token = _current.set(tasks)
    try:
        yield tasks
    finally:
        _current.reset(token)
        # The request's task holds ``tasks`` in its context: drop the way back, so that
        # the two do not wait for the garbage collector together.
        tasks.request_task = None
