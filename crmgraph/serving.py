"""Several server processes, each accepting on its own socket (SO_REUSEPORT).

uvicorn's own multi-process mode shares one listening socket between its workers; the
worker that wakes first accepts whatever is queued. Clients that open a few keep-alive
connections at once (a load balancer, a benchmark) then often end up all on one
worker: measured with 8 wrk connections, one worker used 10 s of CPU in 10 s and the
other 0.08 s, so the service ran at half its capacity. Here each worker gets its own
listening socket on the same port, and the kernel spreads new connections over them.

The supervisor binds the sockets (so a port in use fails at once, in the foreground),
starts one worker per socket, restarts a worker that dies, and stops them all on
SIGINT/SIGTERM. Note that another process of the same user binding the same port with
SO_REUSEPORT would share its connections: run one service per port.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import uvicorn

logger = logging.getLogger("crmgraph.serving")


def reuse_port_supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int, backlog: int = 2048) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def _worker(config_kwargs: dict[str, Any], sock: socket.socket) -> None:
    config = uvicorn.Config(**config_kwargs)
    uvicorn.Server(config).run(sockets=[sock])


class Supervisor:
    """Runs ``workers`` uvicorn servers built from ``config_kwargs`` (uvicorn.Config's)."""

    def __init__(self, config_kwargs: dict[str, Any], workers: int) -> None:
        self.config_kwargs = config_kwargs
        host, port = config_kwargs["host"], config_kwargs["port"]
        self.sockets = [listening_socket(host, port) for _ in range(workers)]
        self.context = multiprocessing.get_context("spawn")
        self.processes: list[BaseProcess] = []
        self.stopping = False

    def _start(self, index: int) -> BaseProcess:
        process = self.context.Process(
            target=_worker, args=(self.config_kwargs, self.sockets[index]), daemon=False
        )
        process.start()
        return process

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> None:
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGTERM, self._stop)
        self.processes = [self._start(i) for i in range(len(self.sockets))]
        logger.info(
            "started %d workers on port %s", len(self.processes), self.config_kwargs["port"]
        )
        while not self.stopping:
            for index, process in enumerate(self.processes):
                if not process.is_alive() and not self.stopping:
                    logger.warning("worker %s exited (%s); starting another", process.pid,
                                   process.exitcode)  # fmt: skip
                    self.processes[index] = self._start(index)
            time.sleep(0.25)
        for process in self.processes:
            if process.is_alive() and process.pid is not None:
                process.terminate()
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        for sock in self.sockets:
            sock.close()
