"""HTTP surface: probes, GET queries, GraphiQL, and the GraphQL-over-HTTP rules."""

from __future__ import annotations

import httpx

from crmgraph.app import create_app
from crmgraph.persistence.unit_of_work import Database
from crmgraph.settings import Settings
from tests.world import World


async def test_health_answers_without_touching_the_database(world: World) -> None:
    response = await world.http("GET", "/-/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readiness_checks_the_database(world: World) -> None:
    response = await world.http("GET", "/-/readiness")
    assert (response.status_code, response.json()["database"]) == (200, "ok")


async def test_readiness_fails_when_the_database_is_unreachable() -> None:
    dead = Database.from_url("postgresql+psycopg://postgres@127.0.0.1:1/nothing")
    app = create_app(Settings(secret="s"), db=dead)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://crmgraph.test"
    ) as client:
        response = await client.get("/-/readiness")
    await dead.dispose()
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}


async def test_queries_work_over_get(world: World) -> None:
    user = await world.user("gina")
    token = await world.token(user)
    response = await world.http(
        "GET",
        "/api/graphql",
        params={"query": "{ currentUser { username } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.json() == {"data": {"currentUser": {"username": "gina"}}}


async def test_a_mutation_over_get_is_405_with_allow_post(world: World) -> None:
    response = await world.http(
        "GET",
        "/graphql",
        params={"query": 'mutation { groupCreate(input: {path: "x", name: "X"}) { errors } }'},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json() == {"errors": [{"message": "Mutations are forbidden in GET requests"}]}


async def test_browsers_get_graphiql_at_graphql(world: World) -> None:
    response = await world.http("GET", "/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "crmgraph GraphiQL" in response.text
    assert 'data-endpoint="/graphql"' in response.text


async def test_both_endpoints_answer_graphql(world: World) -> None:
    for path in ("/api/graphql", "/graphql"):
        response = await world.gql("{ currentUser { username } }", path=path)
        assert (response.status, response.body) == (200, {"data": {"currentUser": None}})


async def test_a_malformed_authorization_header_is_an_invalid_token(world: World) -> None:
    for header in ("Bearer", "Bearer    ", "Basic dXNlcjpwYXNz", "token-without-scheme"):
        response = await world.http(
            "POST",
            "/api/graphql",
            json={"query": "{ currentUser { username } }"},
            headers={"Authorization": header},
        )
        assert response.status_code == 401, header
        assert response.json() == {"errors": [{"message": "Invalid token"}]}
