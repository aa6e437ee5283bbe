"""psycopg's asynchronous connection, reading data that has already arrived at once.

psycopg reads a result in pieces: libpq takes what its buffer holds (16 to 32 kB), and
while the result is incomplete psycopg waits for the socket through the event loop: a
reader registered, a future, a timer, a loop iteration, all undone again. A page of 100
issues with their contacts' JSON (200 kB) came in about seven pieces, and by the time
the first was parsed the others were waiting in the socket already. This connection
looks first (``poll`` with no timeout, a few microseconds) and goes on reading when
data is there; only an empty socket is waited for through the loop. For that page,
1.18 against 1.44 ms of the client's CPU per statement.
"""

from __future__ import annotations

import select
from collections.abc import Generator
from typing import Any, TypeVar

import psycopg
from psycopg.waiting import Ready, Wait

RV = TypeVar("RV")


class EagerReadConnection(psycopg.AsyncConnection[Any]):
    """An ``AsyncConnection`` whose waits for reading skip the event loop when the
    socket has data already (``reading_ahead``). Everything else, cancelling a query
    when the waiting task is cancelled included, is psycopg's own."""

    async def wait(self, gen: Generator[Any, Any, RV], *args: Any, **kwargs: Any) -> RV:
        return await super().wait(reading_ahead(gen, self.pgconn.socket), *args, **kwargs)


def reading_ahead(gen: Generator[Any, Any, RV], fileno: int) -> Generator[Any, Any, RV]:
    """``gen`` (a psycopg generator: it yields what it waits for and is sent what is
    ready) with each wait for reading answered at once when ``fileno`` can be read
    (data, or an error libpq will report) without blocking."""
    poller = select.poll()
    poller.register(fileno, select.POLLIN)
    try:
        state = next(gen)
        while True:
            if state == Wait.R and poller.poll(0):
                state = gen.send(Ready.R)
                continue
            state = gen.send((yield state))
    except StopIteration as stop:
        result: RV = stop.value
        return result
