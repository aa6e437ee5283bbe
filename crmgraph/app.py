"""The ASGI application: GraphQL over HTTP, GraphiQL, probes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from crmgraph.authz.actor import Actor
from crmgraph.context import RequestContext, TokenCache, authenticate, utc_now
from crmgraph.events import EventBus
from crmgraph.graphiql import graphiql_page, static_routes
from crmgraph.persistence.unit_of_work import Database, DatabaseUnavailable
from crmgraph.resolvers import crm as crm_reads
from crmgraph.schema.root import build_schema
from crmgraph.settings import Settings

INVALID_TOKEN = {"errors": [{"message": "Invalid token"}]}
MUTATION_OVER_GET = {"errors": [{"message": "Mutations are forbidden in GET requests"}]}
UNAVAILABLE = {"errors": [{"message": "Service unavailable: the database cannot be reached"}]}


@cache
def schema() -> strawberry.Schema:
    return build_schema()


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


class GraphQLView(GraphQL[RequestContext, None]):
    def __init__(self, settings: Settings) -> None:
        super().__init__(
            schema(),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
        )

    async def get_context(self, request: Any, response: Any) -> RequestContext:
        state = request.scope["state"]
        return RequestContext.build(state["db"], state["actor"], request, state["events"])

    async def render_graphql_ide(self, request: Any) -> HTMLResponse:
        return HTMLResponse(graphiql_page(request.url.path))


def is_mutation_over_get(request: Request) -> bool:
    """GET may only carry queries (GraphQL over HTTP): a mutation there is answered 405."""
    if request.method != "GET" or "query" not in request.query_params:
        return False
    try:
        document = parse(request.query_params["query"])
    except GraphQLError:
        return False
    operation = get_operation_ast(document, request.query_params.get("operationName"))
    return operation is not None and operation.operation is OperationType.MUTATION


class AuthenticatedGraphQL:
    """Resolves the token before GraphQL runs: a bad token is an HTTP 401, not a query error."""

    def __init__(self, settings: Settings, view: GraphQLView) -> None:
        self.settings = settings
        self.view = view

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = HTTPConnection(scope, receive)
        if scope["type"] == "http" and is_mutation_over_get(Request(scope, receive)):
            response = JSONResponse(MUTATION_OVER_GET, status_code=405, headers={"Allow": "POST"})
            await response(scope, receive, send)
            return
        actor = await request_actor(request)
        if isinstance(actor, Response):
            await actor(scope, receive, send)
            return
        state = request.app.state
        scope.setdefault("state", {}).update(db=state.db, actor=actor, events=state.events)
        await self.view(scope, receive, send)


async def request_actor(request: HTTPConnection) -> Actor | Response:
    """The caller of a plain HTTP route, or the error response to send."""
    token = bearer_token(request)
    if token is None:
        return Actor.anonymous()
    try:
        state = request.app.state
        found = await authenticate(state.db, state.secret, token, utc_now(), state.tokens)
    except DatabaseUnavailable:
        return JSONResponse(UNAVAILABLE, status_code=503)
    return JSONResponse(INVALID_TOKEN, status_code=401) if found is None else found


async def autocomplete_contacts(request: Request) -> Response:
    """GitLab's REST autocomplete source for ``[contact:``, kept for its editors."""
    actor = await request_actor(request)
    if isinstance(actor, Response):
        return actor
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
    endpoint = AuthenticatedGraphQL(settings, GraphQLView(settings))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if db is not None:
            yield
            return
        app.state.db = Database.from_url(settings.database_url, pool_size=settings.pool_size)
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
    app.state.secret = settings.token_secret()
    app.state.events = EventBus()
    app.state.tokens = TokenCache(settings.token_cache_seconds)
    if db is not None:
        app.state.db = db
    return app


def app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory``."""
    return create_app(Settings.from_env())
