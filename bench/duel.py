"""Two builds under the same load at the same time: the CPU each request costs each.

The machines' speed drifts by up to a factor of two within an hour, so two builds
measured one after the other differ by more than most changes do. Here both serve at
once, on the same database, each loaded by its own wrk with its own connections:
whatever the machine does, it does to both. Every round prints each build's requests/s
and the CPU milliseconds per request of its server processes and of its PostgreSQL
backends (told apart by ``application_name``); the medians close the report. Both share
two cores, so the absolute figures are not those of ``make bench``: compare the builds
with each other only.

    make duel BENCH_ARGS="--old HEAD~1 --only Q2"

The older build is checked out into a temporary git worktree and runs with this
checkout's virtualenv on a database migrated to this checkout's schema.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.operations import Operation, build
from bench.run import (
    DEFAULT_URL,
    cpu_seconds,
    ensure_database,
    prepare,
    run_wrk,
    server_cpu_seconds,
    start_server,
    stop_server,
)
from crmgraph.persistence.migrate import upgrade_url

ROOT = Path(__file__).resolve().parent.parent


def backends(url: str, name: str) -> list[int]:
    """The PostgreSQL backends a build's server opened (by ``application_name``)."""
    admin = make_url(url).set(drivername="postgresql", query={}).render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (name,)
        ).fetchall()
    return [pid for (pid,) in rows]


class Contender:
    """One build serving on its own port."""

    def __init__(self, name: str, tree: Path, url: str, port: int, workers: int) -> None:
        self.name, self.url, self.port = name, url, port
        named = make_url(url).update_query_dict({"application_name": name})
        self.server = start_server(named.render_as_string(False), port, workers, tree)

    def cpu(self) -> tuple[float, dict[int, float]]:
        database = {pid: cpu_seconds(pid) for pid in backends(self.url, self.name)}
        return sum(server_cpu_seconds(self.server).values()), database


def one_round(
    contenders: list[Contender], op: Operation, token: str, seconds: int, connections: int
) -> dict[str, tuple[float, float, float]]:
    """requests/s, server and database CPU ms per request, by build, loaded together."""
    before = {c.name: c.cpu() for c in contenders}
    measured: dict[str, dict[str, Any]] = {}

    def load(c: Contender) -> None:
        measured[c.name] = run_wrk(op, token, c.port, seconds, connections)

    threads = [threading.Thread(target=load, args=(c,)) for c in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = {}
    for c in contenders:
        server, database = c.cpu()
        requests = max(measured[c.name]["requests"], 1)
        was_server, was_database = before[c.name]
        used_database = sum(cpu - was_database.get(pid, 0.0) for pid, cpu in database.items())
        result[c.name] = (
            measured[c.name]["rps"],
            (server - was_server) * 1000 / requests,
            used_database * 1000 / requests,
        )
    return result


def worktree(commit: str, where: Path) -> Path:
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), commit],
        check=True, capture_output=True,
    )  # fmt: skip
    return where


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--old", required=True, help="the commit to compare this checkout with")
    parser.add_argument(
        "--database-url", default=os.environ.get("CRMGRAPH_BENCH_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--only", default="Q2", help="comma-separated operation keys")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4, help="per build")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    ensure_database(args.database_url)
    upgrade_url(args.database_url)
    token, facts, _ = asyncio.run(prepare(args.database_url, 1.0))
    operations = [op for op in build(facts) if op.key in args.only.split(",")]
    if not operations:
        print(f"duel: no operation among {args.only!r}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="crmgraph-old-") as scratch:
        old_tree = worktree(args.old, Path(scratch) / "tree")
        contenders: list[Contender] = []
        try:
            for n, (name, tree) in enumerate((("new", ROOT), ("old", old_tree))):
                contenders.append(
                    Contender(name, tree, args.database_url, args.port + n, args.workers)
                )
            for op in operations:
                for c in contenders:  # warm-up: caches, pools, prepared statements
                    run_wrk(op, token, c.port, 2, args.connections)
                rounds = []
                for _ in range(args.rounds):
                    rounds.append(one_round(contenders, op, token, args.seconds, args.connections))
                    print(op.key, " | ".join(
                        f"{name}: {rps:.0f} req/s, CPU ms server {server:.2f} db {db:.2f}"
                        for name, (rps, server, db) in rounds[-1].items()
                    ), flush=True)  # fmt: skip
                for c in contenders:
                    server = statistics.median(r[c.name][1] for r in rounds)
                    database = statistics.median(r[c.name][2] for r in rounds)
                    print(f"{op.key} {c.name} median CPU ms: server {server:.2f}, "
                          f"db {database:.2f}, both {server + database:.2f}")  # fmt: skip
        finally:
            for c in contenders:
                stop_server(c.server)
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old_tree)],
                check=False, capture_output=True,
            )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
