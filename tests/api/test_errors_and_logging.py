"""Unexpected errors: masked for clients with a request id, logged with the traceback;
structured logs that never hold tokens, emails or phone numbers."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from crmgraph import observability
from crmgraph.app import create_app
from crmgraph.domain.roles import AccessLevel
from crmgraph.observability import (
    JsonFormatter,
    TextFormatter,
    configure_logging,
    redact,
    sane_request_id,
)
from crmgraph.resolvers import crm as crm_reads
from crmgraph.resolvers import groups as group_reads
from crmgraph.settings import Settings
from tests.world import World

TOKEN = "crmpat-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd"
EMAIL = "ann.lee+crm@initech.example"
PHONE = "+1 (555) 123-4567"
GROUP = '{ group(fullPath: "acme") { id } }'
HEADER_WORDS = ("authorization", "bearer", "private-token", "private_token", "basic")


@pytest.fixture
def broken(monkeypatch: pytest.MonkeyPatch) -> None:
    """A resolver that fails the way a bug does, with secrets in its message."""

    async def fail(ctx: Any, full_path: str) -> None:
        raise RuntimeError(f"boom for {EMAIL} at {PHONE} with {TOKEN}")

    monkeypatch.setattr(group_reads, "group_by_full_path", fail)


async def post(world: World, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return await world.http("POST", "/api/graphql", json=body, headers=headers or {})


def error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


# ------------------------------------------------------------------ masking and request ids


async def test_an_unexpected_error_is_masked_with_a_request_id(
    world: World, broken: None, caplog: pytest.LogCaptureFixture
) -> None:
    response = await post(world, {"query": GROUP})
    request_id = response.headers["x-request-id"]
    assert response.status_code == 200
    assert response.json() == {
        "data": {"group": None},
        "errors": [
            {
                "message": "Internal server error",
                "locations": [{"line": 1, "column": 3}],
                "path": ["group"],
                "extensions": {"requestId": request_id},
            }
        ],
    }
    [record] = error_records(caplog)
    assert record.name == "crmgraph.errors"
    assert record.request_id == request_id  # type: ignore[attr-defined]
    assert record.exc_text is not None and "RuntimeError: boom" in record.exc_text
    assert "Traceback" in caplog.text and "in fail" in caplog.text


async def test_the_log_of_a_failure_holds_no_token_email_or_phone(
    world: World, broken: None, caplog: pytest.LogCaptureFixture
) -> None:
    owner = await world.user("owner")
    token = await world.token(owner)
    await post(world, {"query": GROUP}, {"Authorization": f"Bearer {token}"})
    await post(world, {"query": GROUP}, {"Authorization": f"Bearer {TOKEN}"})  # a bad token
    assert caplog.records, "something was logged"
    for text in (caplog.text, *(r.getMessage() for r in caplog.records)):
        for secret in (token, TOKEN, EMAIL, PHONE, "123-4567"):
            assert secret not in text
    assert "[email]" in caplog.text and "[phone]" in caplog.text and "[REDACTED]" in caplog.text


async def test_a_sane_incoming_request_id_is_kept_and_others_replaced(
    world: World, broken: None
) -> None:
    kept = await post(world, {"query": GROUP}, {"X-Request-Id": "edge-7f3a.42:1"})
    assert kept.headers["x-request-id"] == "edge-7f3a.42:1"
    assert kept.json()["errors"][0]["extensions"]["requestId"] == "edge-7f3a.42:1"
    for forged in ("two words", "x" * 200, "id;line", "<script>", "-leading-dash"):
        replaced = await post(world, {"query": GROUP}, {"X-Request-Id": forged})
        assert replaced.headers["x-request-id"] != forged
        assert len(replaced.headers["x-request-id"]) == 32


async def test_every_response_carries_a_request_id(world: World) -> None:
    ids = {(await world.http("GET", "/-/health")).headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


async def test_public_errors_are_not_masked_nor_logged_as_errors(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    response = await post(world, {"query": '{ issue(id: "nope") { id } }'})
    assert '"nope" is not a valid Global ID' in response.json()["errors"][0]["message"]
    assert error_records(caplog) == []


async def test_an_exception_outside_graphql_is_a_json_500_with_the_id(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def fail(*args: Any) -> None:
        raise ValueError(f"autocomplete broke for {EMAIL}")

    monkeypatch.setattr(crm_reads, "autocomplete_contacts", fail)
    owner = await world.user("owner")
    acme = await world.group("acme")
    await world.member(acme, owner, AccessLevel.OWNER)
    token = await world.token(owner)
    transport = httpx.ASGITransport(app=world.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t.test") as client:
        response = await client.get(
            "/acme/web/-/autocomplete_sources/contacts",
            headers={"Authorization": f"Bearer {token}"},
        )
    request_id = response.headers["x-request-id"]
    assert (response.status_code, response.json()) == (
        500,
        {"errors": [{"message": "Internal server error", "extensions": {"requestId": request_id}}]},
    )
    [record] = error_records(caplog)
    assert record.request_id == request_id  # type: ignore[attr-defined]
    assert "ValueError" in caplog.text and EMAIL not in caplog.text


# ------------------------------------------------------------------ redaction


@pytest.mark.parametrize(
    "secret",
    [
        TOKEN,
        "glpat-abcdefghijklmnopqrst",
        "Authorization: Bearer abc.def.ghi",
        "authorization=Bearer%20sometoken",
        "PRIVATE-TOKEN: s3cr3t-t0ken",
        "private_token=s3cr3t",
        "Basic dXNlcjpwYXNzd29yZA==",
        EMAIL,
        "ANN@EXAMPLE.COM",
        PHONE,
        "555-123-4567",
        "+44 20 7946 0958",
        "0049 30 1234567",
        "+33612345678",
    ],
)
def test_secrets_and_contact_details_are_redacted(secret: str) -> None:
    redacted = redact(f"before {secret} after")
    assert redacted.startswith("before ") and redacted.endswith(" after")
    remaining = redacted.removeprefix("before ").removesuffix(" after")
    for part in secret.replace(":", " ").replace("=", " ").split():
        if part.lower() not in HEADER_WORDS:
            assert part not in remaining, (secret, redacted)


@pytest.mark.parametrize(
    "harmless",
    [
        "127.0.0.1:8000",
        "2026-11-22T10:00:00Z",
        "2026-11-22 10:00:00,123",
        "GET /api/graphql HTTP/1.1 200",
        "took 12.5 ms",
        "gid://gitlab/Issue/12345",
        "request 3f2a9c0d1e2b4a5b8c7d6e5f4a3b2c1d",
        "issue #42 of project 7",
    ],
)
def test_ordinary_log_text_is_left_alone(harmless: str) -> None:
    assert redact(harmless) == harmless


def test_log_arguments_are_redacted_and_keep_their_types(
    caplog: pytest.LogCaptureFixture,
) -> None:
    observability.install_redaction()
    logger = logging.getLogger("crmgraph.test")
    with caplog.at_level(logging.INFO, logger="crmgraph.test"):
        logger.info("user %s has %d contacts: %r", EMAIL, 3, [EMAIL])
        logger.info("%(who)s called", {"who": PHONE})
    first, second = caplog.records
    assert first.getMessage() == "user [email] has 3 contacts: \"['[email]']\""
    assert second.getMessage() == "[phone] called"


def test_sane_request_ids() -> None:
    assert sane_request_id(" abc-123 ") == "abc-123"
    assert sane_request_id(None) is None
    assert sane_request_id("a b") is None
    assert sane_request_id("a" * 129) is None


# ------------------------------------------------------------------ formats


def _record(message: str, *args: Any, exc: BaseException | None = None) -> logging.LogRecord:
    observability.install_redaction()
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    record = logging.getLogRecordFactory()(
        "crmgraph.test", logging.ERROR, __file__, 1, message, args, exc_info
    )
    record.method = "POST"
    return record


def test_json_lines_hold_the_fields_a_log_pipeline_needs() -> None:
    token = observability.bind_request_id("req-1")
    try:
        try:
            raise RuntimeError(f"failed for {EMAIL}")
        except RuntimeError as exc:
            record = _record("contact %s failed", EMAIL, exc=exc)
    finally:
        observability.unbind_request_id(token)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "error" and entry["logger"] == "crmgraph.test"
    assert entry["message"] == "contact [email] failed"
    assert entry["request_id"] == "req-1" and entry["method"] == "POST"
    assert "RuntimeError: failed for [email]" in entry["exception"]
    assert entry["time"].endswith("+00:00")


def test_text_lines_name_the_request() -> None:
    line = TextFormatter().format(_record("hello"))
    assert "ERROR crmgraph.test [None] hello" in line


@pytest.fixture
def restored_loggers() -> Iterator[None]:
    names = ("crmgraph", "uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {
        name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate)
        for name in names
    }
    level = logging.getLogger("crmgraph").level
    disabled = logging.getLogger("uvicorn.access").disabled
    yield
    for name, (handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.propagate = propagate
    logging.getLogger("crmgraph").setLevel(level)
    logging.getLogger("uvicorn.access").disabled = disabled


def test_configure_logging_writes_json_lines(
    restored_loggers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    configure_logging("json", "INFO")
    configure_logging("json", "INFO")  # idempotent: still one handler
    assert len(logging.getLogger("crmgraph").handlers) == 1
    logging.getLogger("crmgraph.app").warning("token %s used", TOKEN)
    [line] = stream.getvalue().splitlines()
    assert json.loads(line)["message"] == "token [REDACTED] used"
    assert logging.getLogger("uvicorn.access").disabled  # ours has the request id instead


def test_the_log_format_is_a_setting() -> None:
    assert Settings.from_env({"CRMGRAPH_LOG_FORMAT": "JSON"}).log_format == "json"
    assert Settings.from_env({}).log_format == "text"
    with pytest.raises(ValueError, match="CRMGRAPH_LOG_FORMAT"):
        Settings.from_env({"CRMGRAPH_LOG_FORMAT": "xml"})


def test_create_app_installs_redaction() -> None:
    create_app(Settings(secret="s"))
    assert logging.getLogRecordFactory() is observability._redacting_factory
