"""Reading a GraphQL-over-HTTP request: who is asking, which media type they accept, and
the operations they sent; and ``Refusal``, the one-message HTTP error used before or
instead of GraphQL. ``crmgraph/web.py`` answers the request.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
    parse,
)
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response

from crmgraph.authz.actor import Actor
from crmgraph.context import authenticate, utc_now
from crmgraph.persistence.unit_of_work import DatabaseUnavailable
from crmgraph.schema.root import UNAVAILABLE_ERROR

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
INVALID_TOKEN = "Invalid token"
TOO_MANY_FAILURES = "Too many failed attempts"
MUTATION_OVER_GET = "Mutations are forbidden in GET requests"
QUERY_TOO_LARGE = "Query too large"
NO_QUERY = "No GraphQL query found in the request"
logger = logging.getLogger(__name__)


class Refusal(Exception):
    """A request answered with an HTTP error and one message, before or instead of GraphQL."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    def response(self, media_type: str = JSON) -> Response:
        body = {"errors": [{"message": self.message}]}
        return json_response(body, self.status, media_type, self.headers)


class Unavailable(Refusal):
    """The database could not be reached (503)."""

    def __init__(self) -> None:
        super().__init__(503, UNAVAILABLE_ERROR)


class _JSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        # orjson: 0.08 ms for a 100-issue answer (88 kB) where the standard library takes
        # 1.1 ms, about 6 % of that request.
        try:
            return orjson.dumps(content)
        except TypeError:
            pass  # what orjson refuses (integers beyond 64 bits, lone surrogates) below
        try:
            return json.dumps(
                content,
                ensure_ascii=False,
                allow_nan=False,
                separators=(",", ":"),
                default=_written,
            ).encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate echoed from the request (in an error message, in a
            # clientMutationId) has no UTF-8 form; as a \u escape it is valid JSON.
            return json.dumps(
                content,
                ensure_ascii=True,
                allow_nan=False,
                separators=(",", ":"),
                default=_written,
            ).encode("ascii")


def _written(value: Any) -> Any:
    """JSON written ahead (``orjson.Fragment``, schema/contact_json.py) as the value it
    holds, for the standard library."""
    if isinstance(value, orjson.Fragment):
        return orjson.loads(orjson.dumps(value))
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_response(
    body: Any, status: int = 200, media_type: str = JSON, headers: dict[str, str] | None = None
) -> Response:
    return _JSONResponse(
        body, status_code=status, headers=headers, media_type=f"{media_type}; charset=utf-8"
    )


# ---------------------------------------------------------------- who is asking


def bearer_token(request: HTTPConnection) -> str | None:
    """The token of ``Authorization: Bearer`` or GitLab's ``PRIVATE-TOKEN`` header.

    A present but malformed header yields what it holds, so that it fails as a bad token
    (401) instead of silently making the caller anonymous.
    """
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.strip().partition(" ")
        return value.strip() if scheme.lower() == "bearer" else header.strip()
    private = request.headers.get("private-token")
    return None if private is None else private.strip()


def client_address(request: HTTPConnection) -> str:
    # The peer as the server saw it; behind a proxy, run uvicorn with --proxy-headers
    # (and --forwarded-allow-ips) so that this is the client, not the proxy.
    return request.client.host if request.client is not None else "unknown"


async def request_actor(request: HTTPConnection) -> Actor:
    """The caller, or a ``Refusal``: 401 bad token, 429 too many bad tokens, 503 no database.

    While an address is over its limit of failed attempts every token it sends is refused
    unread, the right one too: otherwise guessing could go on and be told when it hit.
    """
    token = bearer_token(request)
    if token is None:
        return Actor.anonymous()
    state = request.app.state
    address = client_address(request)
    wait = state.failed_attempts.retry_after(address)
    if wait is not None:
        raise Refusal(429, TOO_MANY_FAILURES, {"Retry-After": str(wait)})
    try:
        found = await authenticate(state.db, state.secret, token, utc_now(), state.tokens)
    except DatabaseUnavailable as exc:
        raise Unavailable from exc
    if found is None:
        state.failed_attempts.failed(address)
        logger.info("Invalid token from %s", address)
        raise Refusal(401, INVALID_TOKEN)
    return found


# ---------------------------------------------------------------- content negotiation


def negotiate(accept: str | None) -> str | None:
    """The response media type for an ``Accept`` header; None if nothing fits (406)."""
    if accept is None or not accept.strip():
        return JSON
    best: tuple[float, int, int] | None = None
    chosen = None
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        media = media.lower()
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        # Explicit types beat wildcards at equal quality; a wildcard means the legacy JSON.
        if media == GRAPHQL_RESPONSE:
            rank, candidate = (quality, 1, 1), GRAPHQL_RESPONSE
        elif media == JSON:
            rank, candidate = (quality, 1, 0), JSON
        elif media in ("*/*", "application/*"):
            rank, candidate = (quality, 0, 0), JSON
        else:
            continue
        if best is None or rank > best:
            best, chosen = rank, candidate
    return chosen


def wants_html(headers: Headers) -> bool:
    return "text/html" in headers.get("accept", "")


# ---------------------------------------------------------------- reading the request


@dataclass(frozen=True)
class Operation:
    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None


def operation_from(data: Any) -> Operation:
    if not isinstance(data, dict):
        raise Refusal(400, "Each operation must be a JSON object")
    query = data.get("query")
    if query is None:
        raise Refusal(400, NO_QUERY)
    if not isinstance(query, str):
        raise Refusal(400, "The GraphQL operation's `query` must be a string")
    variables = data.get("variables")
    if not isinstance(variables, dict | None):
        raise Refusal(400, "The GraphQL operation's `variables` must be an object or null")
    name = data.get("operationName")
    if not isinstance(name, str | None):
        raise Refusal(400, "The GraphQL operation's `operationName` must be a string or null")
    extensions = data.get("extensions")
    if not isinstance(extensions, dict | None):
        raise Refusal(400, "The GraphQL operation's `extensions` must be an object or null")
    return Operation(query, variables, name, extensions)


def _json_parameter(request: Request, name: str) -> Any:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return json.loads(raw)
    # RecursionError: JSON nested deeper than the interpreter's stack.
    except (ValueError, RecursionError):
        raise Refusal(400, f"The `{name}` parameter is not valid JSON") from None


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it grows past ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Refusal(413, f"Request body too large (at most {limit} bytes)")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refusal(413, f"Request body too large (at most {limit} bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_operations(request: Request, max_body_bytes: int) -> list[Operation] | Operation:
    """One operation, or a batch (a JSON array); refusals are 400, 413 or 415."""
    if request.method == "GET":
        return operation_from(
            {
                "query": request.query_params.get("query"),
                "operationName": request.query_params.get("operationName"),
                "variables": _json_parameter(request, "variables"),
                "extensions": _json_parameter(request, "extensions"),
            }
        )
    content_type = request.headers.get("content-type", "")
    media, *params = (piece.strip().lower() for piece in content_type.split(";"))
    charsets = [p.partition("=")[2].strip('"') for p in params if p.startswith("charset=")]
    charset = charsets[0] if charsets else None
    if media != JSON or charset not in (None, "utf-8", "utf8"):
        raise Refusal(415, "Unsupported Media Type: send application/json (UTF-8)")
    body = await read_body(request, max_body_bytes)
    if not body.strip():
        raise Refusal(400, "The request body is empty")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise Refusal(400, "Unable to parse request body as JSON") from None
    if isinstance(data, list):
        return [operation_from(item) for item in data]
    return operation_from(data)


def is_mutation(operation: Operation) -> bool:
    """Whether the operation that would run is a mutation (without ``operationName``
    strawberry runs the document's first operation)."""
    try:
        document = parse(operation.query, max_tokens=100_000)
    except GraphQLError:
        return False
    if operation.operation_name is None:
        found = next(
            (d for d in document.definitions if isinstance(d, OperationDefinitionNode)), None
        )
    else:
        found = get_operation_ast(document, operation.operation_name)
    return found is not None and found.operation is OperationType.MUTATION
