"""GraphQL over HTTP: status codes, batches, time limit (reading the request: web_request).

Follows the GraphQL-over-HTTP spec (and passes the ``graphql-http`` audit, see
``tests/http_audit``): ``application/graphql-response+json`` when the client accepts it,
``application/json`` otherwise (and for ``*/*`` or no ``Accept``); 406 when it accepts
neither. A document that cannot be parsed or validated, or variables that do not fit,
answer 400 under ``application/graphql-response+json`` and 200 under
``application/json`` (the legacy rule the spec keeps for it, and what GitLab's clients
expect); under the former the response has no ``data``, under the latter ``"data": null``
as before. The limits and their status codes are
listed in ``docs/security.md``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType as StrawberryOperationType

from crmgraph.context import RequestContext
from crmgraph.graphiql import graphiql_page
from crmgraph.request_tasks import recording_request_tasks
from crmgraph.schema.root import (
    TIMED_OUT_CODE,
    TIMED_OUT_ERROR,
    UNAVAILABLE_CODE,
)
from crmgraph.settings import Settings
from crmgraph.web_request import (
    GRAPHQL_RESPONSE,
    JSON,
    MUTATION_OVER_GET,
    QUERY_TOO_LARGE,
    Operation,
    Refusal,
    Unavailable,
    is_mutation,
    json_response,
    negotiate,
    read_operations,
    request_actor,
    wants_html,
)

logger = logging.getLogger("crmgraph.web")


# ---------------------------------------------------------------- answering


def _codes(result: ExecutionResult) -> set[str]:
    return {
        str((error.extensions or {}).get("code"))
        for error in result.errors or []
        if (error.extensions or {}).get("code")
    }


def is_request_error(result: ExecutionResult) -> bool:
    """Nothing was executed: parsing, validation, a limit or the variables failed."""
    errors = result.errors or []
    # Field errors always have a path; request errors never do.
    return result.data is None and bool(errors) and all(error.path is None for error in errors)


def result_body(result: ExecutionResult, media: str) -> dict[str, Any]:
    # The spec forbids ``data`` in a request error; legacy JSON clients got ``null``.
    omit_data = media == GRAPHQL_RESPONSE and is_request_error(result)
    body: dict[str, Any] = {} if omit_data else {"data": result.data}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        body["extensions"] = result.extensions
    return body


class GraphQLEndpoint:
    """The ASGI endpoint behind ``/api/graphql`` and ``/graphql``."""

    def __init__(self, settings: Settings, schema: Callable[[], strawberry.Schema]) -> None:
        self.settings = settings
        self.schema = schema

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.answer(request)
        await response(scope, receive, send)

    async def answer(self, request: Request) -> Response:
        if request.method not in ("GET", "POST"):
            return Refusal(
                405, "GraphQL only supports GET and POST requests", {"Allow": "GET, POST"}
            ).response()
        ide = request.method == "GET" and "query" not in request.query_params
        if ide and wants_html(request.headers):
            if self.settings.graphiql:
                return HTMLResponse(graphiql_page(request.url.path))
            return Refusal(404, "Not Found").response()
        media = negotiate(request.headers.get("accept"))
        if media is None:
            return Refusal(
                406, f"Not Acceptable: this endpoint answers {GRAPHQL_RESPONSE} or {JSON}"
            ).response()
        try:
            operations = await read_operations(request, self.settings.max_body_bytes)
            batch = isinstance(operations, list)
            listed = operations if isinstance(operations, list) else [operations]
            self.check(request, listed, batch=batch)
            return await self.within_time_limit(request, listed, media, batch=batch)
        except Refusal as refusal:
            return refusal.response(media)

    def check(self, request: Request, operations: list[Operation], *, batch: bool) -> None:
        if batch and not operations:
            raise Refusal(400, "The batch holds no operation")
        if batch and len(operations) > self.settings.max_batch_size:
            raise Refusal(
                400,
                f"A batch may hold at most {self.settings.max_batch_size} operations, "
                f"this one holds {len(operations)}",
            )
        # Before parsing: a long text costs time even to be refused by the parser.
        if any(len(op.query) > self.settings.max_query_length for op in operations):
            raise Refusal(422, QUERY_TOO_LARGE)
        if request.method == "GET" and any(is_mutation(op) for op in operations):
            raise Refusal(405, MUTATION_OVER_GET, {"Allow": "POST"})

    async def within_time_limit(
        self, request: Request, operations: list[Operation], media: str, *, batch: bool
    ) -> Response:
        limit = self.settings.request_timeout_seconds
        with recording_request_tasks() as tasks:
            try:
                async with asyncio.timeout(limit if limit > 0 else None) as deadline:
                    try:
                        return await self.execute(request, operations, media, batch=batch)
                    except Unavailable:
                        # Connections the server dropped (a restart, a failover) are found
                        # dead only when used; the pool has replaced them by now. Reads run
                        # once more, writes never: a lost COMMIT may have been applied.
                        if any(is_mutation(op) for op in operations):
                            raise
                        logger.info("Database connection lost; running the query once more")
                        return await self.execute(request, operations, media, batch=batch)
            except TimeoutError:
                if not deadline.expired():
                    raise
                logger.warning("Request timed out after %s s", limit)
                await tasks.stop()
                raise Refusal(503, TIMED_OUT_ERROR) from None

    async def execute(
        self, request: Request, operations: list[Operation], media: str, *, batch: bool
    ) -> Response:
        actor = await request_actor(request)
        state = request.app.state
        allowed = (
            {StrawberryOperationType.QUERY}
            if request.method == "GET"
            else {StrawberryOperationType.QUERY, StrawberryOperationType.MUTATION}
        )
        results = []
        # One after the other, each with its own context: a query after a mutation in the
        # same batch must not read what loaders cached before the change.
        for op in operations:
            context = RequestContext.build(state.db, actor, request, state.events)
            context.json_answers = True  # json_response writes with orjson
            try:
                result = await self.schema().execute(
                    op.query,
                    variable_values=op.variables,
                    context_value=context,
                    operation_name=op.operation_name,
                    allowed_operation_types=allowed,
                    operation_extensions=op.extensions,
                )
            except CannotGetOperationTypeError as exc:
                # Without a name strawberry takes the first operation: there was none.
                message = (
                    "Must provide an operation."
                    if exc.operation_name is None
                    else exc.as_http_error_reason()
                )
                raise Refusal(400, message) from None
            except InvalidOperationTypeError as exc:
                if exc.operation_type is StrawberryOperationType.MUTATION:
                    raise Refusal(405, MUTATION_OVER_GET, {"Allow": "POST"}) from None
                raise Refusal(400, "Subscriptions are not supported over HTTP") from None
            finally:
                context.release()
            codes = _codes(result)
            if UNAVAILABLE_CODE in codes:
                raise Unavailable
            if TIMED_OUT_CODE in codes:
                raise Refusal(503, TIMED_OUT_ERROR)
            results.append(result)
        if batch:
            return json_response([result_body(result, media) for result in results], 200, media)
        [result] = results
        status = 400 if media == GRAPHQL_RESPONSE and is_request_error(result) else 200
        return json_response(result_body(result, media), status, media)
