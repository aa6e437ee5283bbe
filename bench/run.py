"""``make bench``: load the bench data, start ``crmgraph serve``, load it with wrk, report.

Each operation runs for a fixed time with a fixed number of concurrent connections from
wrk (a C load generator, so the client does not eat the server's CPU). SQL statements
per request are counted in-process on the same database; peak memory is each worker's
VmHWM. Results print as a table and are written as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.operations import Operation, build
from crmgraph import bench_rows, bench_seed
from crmgraph.app import create_app
from crmgraph.mutations.accounts import issue_token
from crmgraph.persistence.migrate import upgrade_url
from crmgraph.persistence.unit_of_work import Database
from crmgraph.settings import Settings

SECRET = "bench-secret"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/crmgraph_bench"
LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
local bodies = {%(bodies)s}
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, bodies[(n %% #bodies) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT {\\"p50\\":%%.3f,\\"p95\\":%%.3f,\\"p99\\":%%.3f,\\"rps\\":%%.1f,\\"requests\\":%%d,"
    .. "\\"socket_errors\\":%%d,\\"non_2xx\\":%%d}\\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6),
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def ensure_database(url: str) -> None:
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{parsed.database}"')


async def prepare(url: str, scale: float) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
    """Seed if needed, issue a token, and find the ids and cursors the operations use."""
    db = Database.from_url(url)
    try:
        seeded = None
        if not await bench_seed.bench_exists(db):
            seeded = await bench_seed.load_bench(db, scale)
        token = (
            await issue_token(
                db, username=bench_seed.BENCH_USER, secret=SECRET, name="bench",
                now=datetime.now(UTC),
            )
        ).token  # fmt: skip
        facts = await find_facts(db, token)
    finally:
        await db.dispose()
    return token, facts, seeded


async def gql(client: httpx.AsyncClient, token: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(
        "/api/graphql", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    data: dict[str, Any] = response.json()
    if response.status_code != 200 or data.get("errors"):
        raise RuntimeError(f"bench query failed: {response.status_code} {data}")
    return data


async def find_facts(db: Database, token: str) -> dict[str, Any]:
    app = create_app(Settings(secret=SECRET), db=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        contacts = await gql(client, token, {"query": (
            '{ group(fullPath: "bench") { contacts(first: 20, state: active) '
            "{ nodes { id email } } } }")})  # fmt: skip
        nodes = contacts["data"]["group"]["contacts"]["nodes"]
        issues = await gql(
            client,
            token,
            {
                "query": (
                    '{ project(fullPath: "bench/p2") { issues(first: 50) { nodes { id iid } } } }'
                )
            },
        )
        cursor = ""
        for _ in range(49):
            page = await gql(
                client,
                token,
                {
                    "query": 'query($a: String) { group(fullPath: "bench") { contacts(first: 100, '
                    "after: $a) { pageInfo { endCursor } } } }",
                    "variables": {"a": cursor},
                },
            )
            cursor = page["data"]["group"]["contacts"]["pageInfo"]["endCursor"]
    return {
        "contact_gids": [n["id"] for n in nodes],
        "email": next(n["email"] for n in nodes if n["email"]),
        "issues": [
            {"project": "bench/p2", "iid": n["iid"], "gid": n["id"]}
            for n in issues["data"]["project"]["issues"]["nodes"]
        ],
        "deep_cursor": cursor,
        # Surnames spread over the alphabet, lower-cased: what people type to find someone.
        "search_words": [name.lower() for name in bench_rows.SURNAMES[100::200]][:4],
    }


async def count_statements(url: str, token: str, operations: list[Operation]) -> dict[str, float]:
    """SQL statements per request, in-process on the same database (after a warm-up)."""
    db = Database.from_url(url)
    counts: dict[str, float] = {}
    try:
        app = create_app(Settings(secret=SECRET), db=db)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for op in operations:
                total = 0
                for body in op.bodies[:2]:
                    await gql(client, token, body)
                    db.counter.reset()
                    await gql(client, token, body)
                    total += db.counter.count
                counts[op.key] = total / len(op.bodies[:2])
    finally:
        await db.dispose()
    return counts


def start_server(
    url: str, port: int, workers: int, tree: Path | None = None
) -> subprocess.Popen[bytes]:
    """``crmgraph serve`` on ``url``; with ``tree``, the code of that checkout (the
    package is installed editable, so without it a server runs this checkout's code)."""
    env = dict(os.environ, CRMGRAPH_DATABASE_URL=url, CRMGRAPH_SECRET=SECRET)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    binary = Path(sys.executable).parent / "crmgraph"
    server = subprocess.Popen(
        [str(binary), "serve", "--port", str(port), "--workers", str(workers),
         "--log-level", "warning"],
        env=env, start_new_session=True, cwd=tree,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/readiness", timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    raise RuntimeError("the server did not become ready within 30 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def worker_peak_memory_mb(server: subprocess.Popen[bytes]) -> float:
    """The highest peak resident size (VmHWM) among the server's processes."""
    peaks = []
    for pid in [server.pid, *child_pids(server.pid)]:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return round(max(peaks, default=0.0), 1)


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of one process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(server: subprocess.Popen[bytes]) -> dict[int, float]:
    """CPU seconds used so far by the server's process and its workers, by pid."""
    return {p: cpu_seconds(p) for p in [server.pid, *child_pids(server.pid)]}


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def cpu_snapshot(server: subprocess.Popen[bytes]) -> dict[str, float]:
    """CPU seconds used so far by the server's processes, PostgreSQL's and finished children
    of this process (wrk), to split each request's CPU between them."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers = server_cpu_seconds(server)
    if os.environ.get("BENCH_SHOW_WORKERS"):
        print("  worker CPU s:", {p: round(v, 2) for p, v in workers.items()})
    return {
        "server": sum(workers.values()),
        "database": sum(cpu_seconds(p) for p in _postgres_pids()),
        "client": usage.ru_utime + usage.ru_stime,
    }


def cpu_per_request(
    before: dict[str, float], after: dict[str, float], requests: int
) -> dict[str, float]:
    """Milliseconds of CPU per request for each party (PostgreSQL backends that ended during
    the run are not counted: the pools keep theirs open)."""
    return {
        f"cpu_ms_{party}": round((after[party] - before[party]) * 1000 / max(requests, 1), 2)
        for party in before
    }


def run_wrk(op: Operation, token: str, port: int, seconds: int, connections: int) -> dict[str, Any]:
    bodies = ",".join(f"[==[{p}]==]" for p in op.payloads())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % {"token": token, "bodies": bodies})
    try:
        out = subprocess.run(
            # wrk refuses more threads than connections.
            ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s",
             "--timeout", "10s", "-s", script.name, f"http://127.0.0.1:{port}/api/graphql"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(script.name)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database-url", default=os.environ.get("CRMGRAPH_BENCH_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--only", help="comma-separated operation keys, e.g. Q1,Q7")
    parser.add_argument("--out", default="bench/results/latest.json")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench: wrk is needed (apt-get install wrk)", file=sys.stderr)
        return 1

    ensure_database(args.database_url)
    upgrade_url(args.database_url)
    token, facts, seeded = asyncio.run(prepare(args.database_url, args.scale))
    if seeded:
        print("seeded: " + ", ".join(f"{k} {v}" for k, v in seeded.items()))
    operations = [op for op in build(facts) if not args.only or op.key in args.only.split(",")]
    statements = asyncio.run(count_statements(args.database_url, token, operations))

    server = start_server(args.database_url, args.port, args.workers)
    results = []
    try:
        for op in operations:
            run_wrk(op, token, args.port, 2, args.connections)  # warm-up: caches, pools
            before = cpu_snapshot(server)
            measured = run_wrk(op, token, args.port, args.seconds, args.connections)
            cpu = cpu_per_request(before, cpu_snapshot(server), measured["requests"])
            results.append({"key": op.key, "title": op.title,
                            "sql_per_request": statements[op.key], **measured, **cpu})  # fmt: skip
        memory = worker_peak_memory_mb(server)
    finally:
        stop_server(server)

    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": make_url(args.database_url).render_as_string(hide_password=True),
        "scale": args.scale,
        "workers": args.workers,
        "connections": args.connections,
        "seconds": args.seconds,
        "peak_worker_memory_mb": memory,
        "results": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(f"\nwritten to {out}")
    failed = [r["key"] for r in results if r["non_2xx"] or r["socket_errors"]]
    if failed:
        print(f"bench: errors during {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def print_table(report: dict[str, Any]) -> None:
    print(
        f"\nscale {report['scale']}, {report['workers']} workers, "
        f"{report['connections']} connections, {report['seconds']} s each, "
        f"peak worker memory {report['peak_worker_memory_mb']} MB"
    )
    header = (
        f"{'op':<4} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'SQL/req':>8} "
        f"{'CPU ms: server':>15} {'db':>5} {'wrk':>5}  what"
    )
    print(header)
    print("-" * len(header))
    for r in report["results"]:
        print(
            f"{r['key']:<4} {r['rps']:>8.0f} {r['p50']:>8.2f} {r['p95']:>8.2f} {r['p99']:>8.2f} "
            f"{r['sql_per_request']:>8.1f} {r['cpu_ms_server']:>15.2f} "
            f"{r['cpu_ms_database']:>5.2f} "
            f"{r['cpu_ms_client']:>5.2f}  {r['title']}"
        )


if __name__ == "__main__":
    sys.exit(main())
