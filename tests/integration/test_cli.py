"""The command line: one clear line and a non-zero exit on errors, never a traceback."""

from __future__ import annotations

import json

import pytest

from crmgraph.cli import main
from crmgraph.persistence.unit_of_work import Database


@pytest.fixture
def url(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_users_and_tokens_can_be_created_and_revoked(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRMGRAPH_SECRET", "cli-secret")
    code, out, _ = run(capsys, "users", "create", "carol", "--admin", "--database-url", url)
    assert code == 0
    assert "created user carol" in out and "admin" in out
    code, out, err = run(
        capsys, "tokens", "create", "carol", "--scope", "read_api", "--database-url", url
    )
    assert code == 0
    token = out.strip()
    assert token.startswith("crmpat-")
    assert "shown only now" in err
    code, out, _ = run(capsys, "tokens", "revoke", token, "--database-url", url)
    assert code == 0
    assert out.startswith("revoked token")
    code, _, err = run(capsys, "tokens", "revoke", token, "--database-url", url)
    assert (code, err.strip()) == (1, "crmgraph: No active token matches")


def test_duplicate_username_is_one_line_error(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "users", "create", "dave", "--database-url", url)[0] == 0
    code, _, err = run(capsys, "users", "create", "DAVE", "--database-url", url)
    assert code == 1
    assert err == "crmgraph: Username DAVE has already been taken\n"


def test_token_for_unknown_user_is_refused(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "tokens", "create", "nobody", "--database-url", url)
    assert (code, err) == (1, "crmgraph: No user named nobody\n")


def test_bad_expiry_date_is_refused(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "users", "create", "erin", "--database-url", url)
    code, _, err = run(
        capsys, "tokens", "create", "erin", "--expires-at", "tomorrow", "--database-url", url
    )
    assert code == 1
    assert "takes a date like 2027-01-31" in err


def test_unsupported_database_url_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "migrate", "--database-url", "mysql://x/y")
    assert code == 1
    assert err.startswith("crmgraph: Unsupported database URL") and err.count("\n") == 1


def test_unreachable_database_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/none"
    code, _, err = run(capsys, "users", "create", "frank", "--database-url", url)
    assert code == 1
    assert err.startswith("crmgraph: cannot use the database:") and err.count("\n") == 1


def test_schema_export_prints_sdl_with_the_directive(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema", "export")
    assert code == 0
    assert "type Group @requiresRole(role: GUEST, scope: GROUP)" in out


def test_quick_actions_parse_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "quick-actions", "parse", "Hi\n/add_contacts [contact:a@b.co]")
    assert code == 0
    parsed = json.loads(out)
    assert parsed["text"] == "Hi"
    assert parsed["commands"][0]["name"] == "add_contacts"
    assert parsed["commands"][0]["args"] == ["a@b.co"]


def test_seed_demo_loads_once_and_prints_a_token_per_demo_user(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRMGRAPH_SECRET", "cli-secret")
    code, out, _ = run(capsys, "seed", "--demo", "--database-url", url)
    assert code == 0
    assert "loaded the demo world" in out
    users = [line.split()[0] for line in out.splitlines() if "crmpat-" in line]
    expected = ["owner", "maintainer", "developer", "reporter", "planner", "guest", "outsider"]
    assert users == [*expected, "admin"]
    code, out, _ = run(capsys, "seed", "--demo", "--database-url", url)
    assert code == 0
    assert "kept as it is" in out
    assert len([line for line in out.splitlines() if "crmpat-" in line]) == 8
