"""Request ids and logs: structured (text or JSON lines), and never holding secrets.

Every log record made in the process passes through :func:`redact` when it is created
(a record factory, so it holds for every logger and handler, uvicorn's and the test
suite's included): tokens, ``Authorization`` values, email addresses and phone numbers
are replaced before any handler sees the record. Each record also carries the id of the
request it was made in (``request_id``), which clients see in the ``X-Request-Id``
response header and in masked errors.

Standard library only: every layer may log.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import sys
from datetime import UTC, datetime
from typing import Any

REQUEST_ID_HEADER = "X-Request-Id"
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "crmgraph_request_id", default=None
)
#: An incoming id is kept only if it is short and plain, so it cannot forge log lines.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def new_request_id() -> str:
    return secrets.token_hex(16)


def sane_request_id(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value if _SANE_REQUEST_ID.fullmatch(value) else None


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(request_id: str | None) -> contextvars.Token[str | None]:
    return _request_id.set(request_id)


def unbind_request_id(token: contextvars.Token[str | None]) -> None:
    _request_id.reset(token)


# ---------------------------------------------------------------- redaction

REDACTED = "[REDACTED]"
_SECRETS = [
    # Our tokens and GitLab's, wherever they appear.
    re.compile(r"\b(?:crmpat|glpat)-[A-Za-z0-9_\-]{8,}"),
    # Header values as they would be printed: "Authorization: Bearer x", "PRIVATE-TOKEN=x".
    re.compile(r"(?i)(\bbearer\s+)[^\s,;'\"]+"),
    re.compile(r"(?i)(\bbasic\s+)[A-Za-z0-9+/=]{8,}"),
    re.compile(r"(?i)(\b(?:private[-_]token|authorization)['\"]?\s*[:=]\s*['\"]?)[^\s,;'\"]+"),
]
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
#: Something that may be a phone number: 7 to 15 digits with the usual separators.
_PHONE_CANDIDATE = re.compile(r"(?<![\w./:-])\+?\(?\d[\d ()./-]{5,}\d(?![\w/:-])")
_NOT_A_PHONE = [
    re.compile(r"\d{4}-\d{2}-\d{2}"),  # a date
    re.compile(r"\d{1,3}(?:\.\d{1,3}){3}"),  # an IPv4 address
    re.compile(r"\d{1,2}:\d{2}"),  # a time
    re.compile(r"\d+\.\d+"),  # a decimal number (durations)
]


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(ch.isdigit() for ch in text)
    if not 7 <= digits <= 15 or any(p.fullmatch(text.strip()) for p in _NOT_A_PHONE):
        return text
    return "[phone]"


def redact(text: str) -> str:
    """``text`` without tokens, credentials, email addresses and phone numbers."""
    for pattern in _SECRETS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + REDACTED, text)
    text = _EMAIL.sub("[email]", text)
    return _PHONE_CANDIDATE.sub(_phone, text)


def _redacted_arg(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    # Anything else is printed with %s or %r: its text is what must be clean.
    return redact(value if isinstance(value, str) else str(value))


_base_factory: Any = None


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record: logging.LogRecord = _base_factory(*args, **kwargs)
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    else:
        record.msg = redact(str(record.msg))
    if isinstance(record.args, dict):
        record.args = {key: _redacted_arg(value) for key, value in record.args.items()}
    elif record.args:
        record.args = tuple(_redacted_arg(value) for value in record.args)
    if record.exc_info and record.exc_info[0] is not None:
        # Formatted now, so that every formatter prints the redacted traceback.
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record.request_id = _request_id.get()
    return record


def install_redaction() -> None:
    """Redact every log record made from now on in this process (idempotent)."""
    global _base_factory
    if logging.getLogRecordFactory() is _redacting_factory:
        return
    _base_factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(_redacting_factory)


# ---------------------------------------------------------------- formatting

_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))
) | {"message", "asctime", "request_id", "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = _redacted_arg(value) if not isinstance(value, dict | list) else value
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = None
        return super().format(record)


_HANDLER_NAME = "crmgraph"


def configure_logging(log_format: str = "text", level: str = "INFO") -> None:
    """Our loggers (and uvicorn's) write to stderr in ``log_format``; idempotent."""
    install_redaction()
    formatter: logging.Formatter = JsonFormatter() if log_format == "json" else TextFormatter()
    ours = logging.getLogger("crmgraph")
    ours.setLevel(level)
    ours.propagate = False
    handler = next((h for h in ours.handlers if h.get_name() == _HANDLER_NAME), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(_HANDLER_NAME)
        ours.addHandler(handler)
    handler.setFormatter(formatter)
    # Our access log (crmgraph.access) replaces uvicorn's: it names the request id and
    # leaves out query strings, which may carry search terms such as email addresses.
    logging.getLogger("uvicorn.access").disabled = True
    if log_format == "json":
        # uvicorn has set up its own handlers by the time the app is made: one format.
        for name in ("uvicorn", "uvicorn.error"):
            for uvicorn_handler in logging.getLogger(name).handlers:
                uvicorn_handler.setFormatter(formatter)
