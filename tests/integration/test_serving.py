"""``crmgraph serve --workers N``: one listening socket per worker, restarts, clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.run import child_pids
from crmgraph.persistence.migrate import upgrade_url

BINARY = Path(sys.executable).parent / "crmgraph"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _listening_inodes(port: int) -> set[str]:
    """Inodes of the sockets listening on ``port`` (state 0A in /proc/net/tcp)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":
            inodes.add(fields[9])
    return inodes


def _socket_inodes(pid: int) -> set[str]:
    """The process's socket inodes; none once it has exited (a killed worker may still be
    listed as a child a moment before its /proc entry goes)."""
    inodes: set[str] = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except FileNotFoundError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def _wait(predicate: object, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"
    upgrade_url(url)
    port = _free_port()
    env = dict(os.environ, CRMGRAPH_DATABASE_URL=url, CRMGRAPH_SECRET="serve-secret")
    server = subprocess.Popen(
        [str(BINARY), "serve", "--port", str(port), "--workers", "2", "--log-level", "warning"],
        env=env, start_new_session=True,
    )  # fmt: skip
    try:
        assert _wait(lambda: _healthy(port)), "the server did not answer within 30 s"
        yield server, port
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _workers(server: subprocess.Popen[bytes], port: int) -> list[int]:
    listening = _listening_inodes(port)
    return [pid for pid in child_pids(server.pid) if _socket_inodes(pid) & listening]


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="needs SO_REUSEPORT")
def test_each_worker_accepts_on_a_listening_socket_of_its_own(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    server, port = served
    assert _wait(lambda: len(_workers(server, port)) == 2)
    listening = _listening_inodes(port)
    first, second = (_socket_inodes(pid) & listening for pid in _workers(server, port))
    # Two sockets on the port, one per worker: the kernel spreads connections over them.
    assert len(listening) == 2
    assert first and second and not first & second


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="needs SO_REUSEPORT")
def test_a_worker_that_dies_is_replaced_and_stop_ends_all_of_them(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    server, port = served
    assert _wait(lambda: len(_workers(server, port)) == 2)
    victim = _workers(server, port)[0]
    os.kill(victim, signal.SIGKILL)
    assert _wait(lambda: len(_workers(server, port)) == 2 and victim not in _workers(server, port))
    # The replacement holds its socket before it has started the app; connections the
    # kernel gives that socket wait in its backlog meanwhile (seconds on a busy machine).
    assert _wait(lambda: _healthy(port))

    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=30) == 0
    assert not _listening_inodes(port)


@pytest.mark.parametrize(("level", "logged"), [("warning", False), ("info", True)])
def test_the_log_level_option_governs_the_access_log(
    tmp_path: Path, level: str, logged: bool
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'logs.db'}"
    upgrade_url(url)
    port = _free_port()
    env = dict(os.environ, CRMGRAPH_DATABASE_URL=url, CRMGRAPH_SECRET="serve-secret")
    env.pop("CRMGRAPH_LOG_LEVEL", None)
    server = subprocess.Popen(
        [str(BINARY), "serve", "--port", str(port), "--log-level", level.upper()],
        env=env, start_new_session=True, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert _wait(lambda: _healthy(port)), "the server did not answer within 30 s"
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    assert ("crmgraph.access" in stderr) is logged, stderr


def test_a_port_in_use_is_one_line_error(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}"
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = dict(os.environ, CRMGRAPH_DATABASE_URL=url, CRMGRAPH_SECRET="serve-secret")
        done = subprocess.run(
            [str(BINARY), "serve", "--port", str(port), "--workers", "2"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith(f"crmgraph: cannot listen on 127.0.0.1:{port}: ")


def test_a_server_process_builds_its_schema_and_freezes_the_start_up_heap() -> None:
    # In a process of its own: freezing is process-wide and would outlive this test.
    probe = (
        "import gc\n"
        "from crmgraph.app import YOUNG_GENERATION_THRESHOLD, app_from_env, schema_for\n"
        "before = gc.get_freeze_count()\n"
        "app_from_env()\n"
        "print(before, gc.get_freeze_count(), gc.get_threshold()[0] == "
        "YOUNG_GENERATION_THRESHOLD, schema_for.cache_info().currsize)\n"
    )
    env = {**os.environ, "CRMGRAPH_SECRET": "serving-test-secret"}
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    before, frozen, threshold_set, schemas = done.stdout.split()
    assert (before, threshold_set, schemas) == ("0", "True", "1")
    # Modules and the schema: well over a hundred thousand objects on CPython 3.11.
    assert int(frozen) > 50_000
