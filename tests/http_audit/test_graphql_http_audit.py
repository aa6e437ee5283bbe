"""GraphQL-over-HTTP conformance: graphql-http's ``serverAudits`` against a real server.

Installs the pinned audit (``package.json``, ``package-lock.json``) into this folder on
first use, starts ``crmgraph`` under uvicorn on a free port against a fresh SQLite
database, runs ``audit.mjs`` with Node, and fails on any audit that is not "ok" (an
error, a warning, or even an optional notice), printing each one.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmgraph.persistence.migrate import upgrade_url

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is needed for the GraphQL-over-HTTP audit (Node 18 or later)")
    return found


def _install_audit() -> None:
    if (HERE / "node_modules" / "graphql-http" / "package.json").exists():
        return
    npm = _tool("npm")
    command = "ci" if (HERE / "package-lock.json").exists() else "install"
    done = subprocess.run(
        [npm, command, "--no-audit", "--no-fund"],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"npm {command} failed in {HERE}:\n{done.stdout}\n{done.stderr}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_up(base: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = server.stdout.read() if server.stdout else ""
            pytest.fail(f"the server exited with {server.returncode}:\n{output}")
        try:
            with urllib.request.urlopen(f"{base}/-/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail("the server did not come up within 30 s")


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("audit") / "audit.db"
    url = f"sqlite+aiosqlite:///{database}"
    upgrade_url(url)
    port = _free_port()
    env = {
        **os.environ,
        "CRMGRAPH_DATABASE_URL": url,
        "CRMGRAPH_SECRET": "audit",
        "CRMGRAPH_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "crmgraph.app:app_from_env"]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server)
        yield f"{base}/api/graphql"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()


def test_the_graphql_http_audit_passes_without_errors_or_warnings(endpoint: str) -> None:
    _install_audit()
    node = _tool("node")
    done = subprocess.run(
        [node, "audit.mjs", endpoint],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    try:
        report = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"the audit printed no report:\n{done.stdout}\n{done.stderr}")
    failing = [result for result in report["results"] if result["status"] != "ok"]
    for result in failing:
        print(
            f"{result['status'].upper()} {result['id']} {result['name']}: {result['reason']} "
            f"(HTTP {result['responseStatus']}: {result['responseBody'][:300]})"
        )
    summary = report["summary"]
    print(f"graphql-http audit: {summary}")
    assert summary["total"] >= 60, summary
    assert (summary["errors"], summary["warnings"], summary["notices"]) == (0, 0, 0), failing
    assert summary["ok"] == summary["total"]
