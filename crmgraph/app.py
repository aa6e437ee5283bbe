"""The ASGI application: GraphQL over HTTP, GraphiQL, probes."""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator
from functools import cache

import strawberry
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crmgraph.context import RequestContext, TokenCache
from crmgraph.events import EventBus
from crmgraph.graphiql import static_routes
from crmgraph.observability import (
    REQUEST_ID_HEADER,
    bind_request_id,
    configure_logging,
    install_redaction,
    new_request_id,
    sane_request_id,
    unbind_request_id,
)
from crmgraph.persistence.engine import parse_database_url
from crmgraph.persistence.unit_of_work import Database, DatabaseUnavailable
from crmgraph.ratelimit import FailedAttempts
from crmgraph.resolvers import crm as crm_reads
from crmgraph.schema.root import (
    INTERNAL_ERROR,
    TIMED_OUT_CODE,
    UNAVAILABLE_CODE,
    UNAVAILABLE_ERROR,
    build_schema,
)
from crmgraph.settings import Settings
from crmgraph.web import GraphQLEndpoint
from crmgraph.web_request import Refusal, request_actor

#: SQLSTATE query_canceled: statement_timeout (or a cancel request) stopped a statement.
QUERY_CANCELED = "57014"
logger = logging.getLogger("crmgraph.app")
access_logger = logging.getLogger("crmgraph.access")


def classify(exc: BaseException) -> str | None:
    """What a failure means for the client: the database is away, or a statement ran out
    of time (both 503); None for a bug."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DatabaseUnavailable | ConnectionError):
            return UNAVAILABLE_CODE
        if isinstance(current, DBAPIError):
            if current.connection_invalidated:
                return UNAVAILABLE_CODE
            if getattr(current.orig, "sqlstate", None) == QUERY_CANCELED:
                return TIMED_OUT_CODE
        current = current.__cause__ or current.__context__
    return None


@cache
def schema_for(settings: Settings) -> strawberry.Schema:
    """One schema per distinct settings (the limits live in its extensions)."""
    return build_schema(settings, classify=classify)


def schema() -> strawberry.Schema:
    """The schema with the default settings."""
    return schema_for(Settings())


def database_url(settings: Settings) -> str:
    """On PostgreSQL: a short connect timeout, so that an outage answers 503 quickly, and a
    statement timeout just past the request's as a backstop for work left running."""
    url = parse_database_url(settings.database_url)
    if not url.drivername.startswith("postgresql"):
        return settings.database_url
    query = dict(url.query)
    query.setdefault("connect_timeout", str(settings.database_connect_timeout_seconds))
    if settings.request_timeout_seconds > 0 and "options" not in query:
        milliseconds = int((settings.request_timeout_seconds + 1) * 1000)
        query["options"] = f"-c statement_timeout={milliseconds}"
    return url.set(query=query).render_as_string(hide_password=False)


class RequestScope:
    """Per request: an id, in the response header and in every log record; one access log
    line; and an answer for anything that escaped the routes (503 or a masked 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = sane_request_id(Headers(scope=scope).get(REQUEST_ID_HEADER)) or (
            new_request_id()
        )
        token = bind_request_id(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal response_started, status
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if response_started:
                raise
            await self.failure(exc, request_id)(scope, receive, send_with_id)
        finally:
            access_logger.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            unbind_request_id(token)

    @staticmethod
    def failure(exc: Exception, request_id: str) -> Response:
        kind = classify(exc)
        if kind == UNAVAILABLE_CODE:
            logger.warning("Database unavailable: %s", exc)
            return JSONResponse({"errors": [{"message": UNAVAILABLE_ERROR}]}, status_code=503)
        logger.error("Unhandled exception: %s", exc, exc_info=exc)
        error = {"message": INTERNAL_ERROR, "extensions": {"requestId": request_id}}
        return JSONResponse({"errors": [error]}, status_code=500)


async def autocomplete_contacts(request: Request) -> Response:
    """GitLab's REST autocomplete source for ``[contact:``, kept for its editors."""
    try:
        actor = await request_actor(request)
    except Refusal as refusal:
        return refusal.response()
    if request.query_params.get("type", "Issue") != "Issue":
        return JSONResponse({"message": "type must be Issue"}, status_code=400)
    ctx = RequestContext.build(request.app.state.db, actor, request, request.app.state.events)
    found = await crm_reads.autocomplete_contacts(
        ctx, request.path_params["project"], request.query_params.get("type_id")
    )
    if found is None:
        return JSONResponse({"message": "404 Not Found"}, status_code=404)
    return JSONResponse(found)


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readiness(request: Request) -> Response:
    if await request.app.state.db.ping():
        return JSONResponse({"status": "ok", "database": "ok"})
    return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)


def create_app(settings: Settings | None = None, db: Database | None = None) -> Starlette:
    """The service; pass ``db`` to share an engine (tests), else one is made from settings."""
    settings = settings or Settings.from_env()
    install_redaction()
    endpoint = GraphQLEndpoint(settings, lambda: schema_for(settings))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if db is not None:
            yield
            return
        app.state.db = Database.from_url(database_url(settings), pool_size=settings.pool_size)
        try:
            yield
        finally:
            await app.state.db.dispose()

    routes: list[BaseRoute] = [
        Route("/api/graphql", endpoint),
        Route("/graphql", endpoint),
        Route("/-/health", health),
        Route("/{project:path}/-/autocomplete_sources/contacts", autocomplete_contacts),
        Route("/-/readiness", readiness),
        *static_routes(),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(RequestScope)
    app.state.settings = settings
    app.state.secret = settings.token_secret()
    app.state.events = EventBus()
    app.state.tokens = TokenCache(settings.token_cache_seconds)
    app.state.failed_attempts = FailedAttempts(
        settings.auth_failure_limit, settings.auth_failure_window_seconds
    )
    if db is not None:
        app.state.db = db
    return app


#: Allocations the collector lets pass before it looks at young objects (Python's default
#: is 700). A request allocates tens of thousands of short-lived objects that reference
#: counting frees; looking at them every 700 was about a millisecond of a 100-issue page.
YOUNG_GENERATION_THRESHOLD = 5000


def settle_heap() -> None:
    """Tell the garbage collector that start-up is over. What it built (modules, the
    schema, caches) lives as long as the process: frozen, it is no longer walked by every
    full collection, which took 1.2 of the 1.7 ms a 100-issue page spent in the collector."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)


def app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory``: a server process's application, its schema built
    before the first request."""
    settings = Settings.from_env()
    configure_logging(settings.log_format, settings.log_level)
    app = create_app(settings)
    schema_for(settings)
    settle_heap()
    return app
