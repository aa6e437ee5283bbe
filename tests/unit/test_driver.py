"""Waits for reading that data already in the socket answers."""

from __future__ import annotations

import socket
from collections.abc import Generator
from typing import Any

from psycopg.waiting import Ready, Wait

from crmgraph.persistence.driver import reading_ahead


def _reader(sock: socket.socket, wanted: int) -> Generator[Wait, Any, bytes]:
    """Like psycopg's generators: read what is there, wait for reading until done."""
    got = b""
    while len(got) < wanted:
        ready = yield Wait.R
        assert ready == Ready.R
        got += sock.recv(wanted - len(got))
    return got


def _drive(gen: Generator[Wait, Any, bytes]) -> tuple[bytes, int]:
    """Run ``gen`` as psycopg's wait loop would, answering each wait with Ready.R:
    the result and how many waits reached the loop."""
    waits = 0
    try:
        state = next(gen)
        while True:
            waits += 1
            assert state == Wait.R
            state = gen.send(Ready.R)
    except StopIteration as stop:
        return stop.value, waits


def _finished(gen: Generator[Wait, Any, Any], ready: Ready) -> Any:
    """What ``gen`` returns when sent ``ready``; it must finish then."""
    try:
        gen.send(ready)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("the generator should have finished")


def test_data_already_in_the_socket_is_read_without_a_wait() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(b"abcdef")
        assert _drive(reading_ahead(_reader(ours, 6), ours.fileno())) == (b"abcdef", 0)


def test_an_empty_socket_is_waited_for_through_the_loop() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        gen = reading_ahead(_reader(ours, 3), ours.fileno())
        assert next(gen) == Wait.R  # nothing there: the caller waits
        theirs.sendall(b"xyz")
        assert _finished(gen, Ready.R) == b"xyz"


def test_other_waits_pass_through_unchanged() -> None:
    def writer() -> Generator[Wait, Any, str]:
        ready = yield Wait.W
        return f"sent after {ready!r}"

    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(b"data")  # readable, but the generator waits for writing
        gen = reading_ahead(writer(), ours.fileno())
        assert next(gen) == Wait.W
        assert _finished(gen, Ready.W) == f"sent after {Ready.W!r}"
