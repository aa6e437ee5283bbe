"""GraphQL over HTTP: media types, status codes, batches, and the introspection switches."""

from __future__ import annotations

import json as json_module
from typing import Any

import httpx
import pytest

from crmgraph.app import create_app
from crmgraph.domain.roles import AccessLevel
from crmgraph.settings import Settings
from crmgraph.web_request import GRAPHQL_RESPONSE, JSON, negotiate
from tests.world import SECRET, World

WHO = {"query": "{ currentUser { username } }"}
UNKNOWN_FIELD = {"query": "{ currentUsr { username } }"}
BAD_VARIABLE = {"query": "query($id: IssueID!) { issue(id: $id) { id } }", "variables": {}}


async def send(
    app: Any,
    method: str = "POST",
    *,
    json: Any = None,
    content: str | None = None,
    accept: str | None = None,
    content_type: str | None = "application/json",
    params: dict[str, str] | None = None,
    token: str | None = None,
) -> httpx.Response:
    headers = {}
    if accept is not None:
        headers["Accept"] = accept
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if json is not None or content is not None:
        content = content if content is not None else json_module.dumps(json)
        if content_type is not None:
            headers["Content-Type"] = content_type
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://crmgraph.test") as client:
        return await client.request(
            method, "/api/graphql", content=content, headers=headers, params=params
        )


def media(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0]


# ------------------------------------------------------------------ content negotiation


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", GRAPHQL_RESPONSE),
        (f"{JSON}, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.5, {JSON}", JSON),
        (f"{GRAPHQL_RESPONSE}, */*;q=0.8", GRAPHQL_RESPONSE),
        ("text/html,application/xhtml+xml,*/*;q=0.8", JSON),
        (f"{JSON};charset=utf-8", JSON),
        ("text/plain", None),
        ("application/xml, text/html", None),
        (f"{GRAPHQL_RESPONSE};q=0, {JSON};q=0", None),
    ],
)
def test_negotiation_picks_the_best_supported_media_type(
    accept: str | None, chosen: str | None
) -> None:
    assert negotiate(accept) == chosen


async def test_graphql_response_json_is_answered_in_kind(world: World) -> None:
    response = await send(world.app, json=WHO, accept=GRAPHQL_RESPONSE)
    assert (response.status_code, media(response)) == (200, GRAPHQL_RESPONSE)
    assert response.headers["content-type"].endswith("charset=utf-8")
    assert response.json() == {"data": {"currentUser": None}}


async def test_without_accept_the_answer_is_application_json(world: World) -> None:
    response = await send(world.app, json=WHO)
    assert (response.status_code, media(response)) == (200, JSON)


async def test_an_unacceptable_accept_is_406(world: World) -> None:
    for accept in ("text/plain", "application/xml", "image/png"):
        response = await send(world.app, json=WHO, accept=accept)
        assert response.status_code == 406, accept
        assert "Not Acceptable" in response.json()["errors"][0]["message"]


# ------------------------------------------------------------------ request errors


@pytest.mark.parametrize(
    "body",
    [{"query": "{"}, UNKNOWN_FIELD, BAD_VARIABLE],
    ids=["unparsable", "invalid", "variable coercion"],
)
async def test_request_errors_are_400_without_data_under_graphql_response_json(
    world: World, body: dict[str, Any]
) -> None:
    response = await send(world.app, json=body, accept=GRAPHQL_RESPONSE)
    assert (response.status_code, media(response)) == (400, GRAPHQL_RESPONSE)
    assert "data" not in response.json() and response.json()["errors"]


@pytest.mark.parametrize(
    "body",
    [{"query": "{"}, UNKNOWN_FIELD, BAD_VARIABLE],
    ids=["unparsable", "invalid", "variable coercion"],
)
async def test_request_errors_stay_200_under_application_json(
    world: World, body: dict[str, Any]
) -> None:
    # The spec's rule for legacy JSON clients, and what GitLab's clients expect.
    response = await send(world.app, json=body, accept=JSON)
    assert (response.status_code, media(response)) == (200, JSON)
    assert response.json()["data"] is None and response.json()["errors"]


async def test_field_errors_keep_data_and_200_under_both_media_types(world: World) -> None:
    query = {"query": '{ issue(id: "gid://gitlab/Issue/1") { id } __typename }'}
    for accept in (GRAPHQL_RESPONSE, JSON):
        response = await send(world.app, json=query, accept=accept)
        assert response.status_code == 200
        assert response.json()["data"] == {"issue": None, "__typename": "Query"}


async def test_limit_errors_follow_the_same_rule(world: World) -> None:
    deep = {"query": '{ group(fullPath: "a") { ' + "parent { " * 15 + "id" + " }" * 17}
    strict = await send(world.app, json=deep, accept=GRAPHQL_RESPONSE)
    legacy = await send(world.app, json=deep, accept=JSON)
    assert (strict.status_code, legacy.status_code) == (400, 200)
    message = "Query has depth of 17, which exceeds max depth of 15"
    assert strict.json() == {"errors": [{"message": message}]}
    assert legacy.json() == {"data": None, "errors": [{"message": message}]}


@pytest.mark.parametrize(
    ("content", "status"),
    [
        ("", 400),
        ("{ not json", 400),
        ('{"notquery": "{ __typename }"}', 400),
        ('{"query": 5}', 400),
        ('{"query": "{ __typename }", "variables": "x"}', 400),
        ('{"query": "{ __typename }", "operationName": 5}', 400),
        ('{"query": "{ __typename }", "extensions": []}', 400),
        ("5", 400),
    ],
)
async def test_malformed_requests_are_400(world: World, content: str, status: int) -> None:
    response = await send(world.app, content=content, accept=GRAPHQL_RESPONSE)
    assert response.status_code == status
    assert response.json()["errors"][0]["message"]


async def test_a_body_over_the_limit_is_413(world: World) -> None:
    app = create_app(Settings(secret=SECRET, max_body_bytes=100), db=world.db)
    small = await send(app, json=WHO)
    assert small.json() == {"data": {"currentUser": None}}
    big = await send(app, json={**WHO, "variables": {"x": "y" * 100}})
    assert big.status_code == 413
    assert big.json() == {"errors": [{"message": "Request body too large (at most 100 bytes)"}]}


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/graphql"])
async def test_a_body_that_is_not_json_is_415(world: World, content_type: str | None) -> None:
    response = await send(world.app, json=WHO, content_type=content_type)
    assert response.status_code == 415
    latin = await send(world.app, json=WHO, content_type="application/json; charset=latin-1")
    assert latin.status_code == 415


async def test_charset_utf8_and_unicode_are_accepted(world: World) -> None:
    query = {"query": '{ __type(name: "Run🏃Swim🏊") { name } }'}
    response = await send(world.app, json=query, content_type="application/json; charset=utf-8")
    assert response.json() == {"data": {"__type": None}}


async def test_a_mutation_over_get_is_405_even_when_named(world: World) -> None:
    document = "query Q { __typename } mutation M { __typename }"
    allowed = await send(world.app, "GET", params={"query": document, "operationName": "Q"})
    assert allowed.json() == {"data": {"__typename": "Query"}}
    refused = await send(world.app, "GET", params={"query": document, "operationName": "M"})
    assert (refused.status_code, refused.headers["allow"]) == (405, "POST")


async def test_other_methods_are_405(world: World) -> None:
    response = await send(world.app, "PUT", json=WHO)
    assert (response.status_code, response.headers["allow"]) == (405, "GET, POST")


async def test_get_accepts_variables_as_json(world: World) -> None:
    params = {
        "query": "query($name: String!) { __type(name: $name) { name } }",
        "variables": '{"name": "Query"}',
    }
    response = await send(world.app, "GET", params=params, accept=GRAPHQL_RESPONSE)
    assert response.json() == {"data": {"__type": {"name": "Query"}}}
    broken = await send(world.app, "GET", params={**params, "variables": "{"})
    assert broken.status_code == 400


async def test_a_get_without_query_is_400_unless_a_browser_asks(world: World) -> None:
    assert (await send(world.app, "GET", accept=JSON)).status_code == 400
    assert (await send(world.app, "GET", accept="text/html")).status_code == 200


async def test_without_an_operation_name_the_first_operation_runs(world: World) -> None:
    body = {"query": "query A { a: __typename } query B { b: __typename }"}
    assert (await send(world.app, json=body)).json() == {"data": {"a": "Query"}}
    named = await send(world.app, json={**body, "operationName": "B"})
    assert named.json() == {"data": {"b": "Query"}}
    unknown = await send(world.app, json={**body, "operationName": "C"})
    assert (unknown.status_code, unknown.json()["errors"][0]["message"]) == (
        400,
        'Unknown operation named "C".',
    )
    fragments_only = await send(world.app, json={"query": "fragment F on Query { __typename }"})
    assert (fragments_only.status_code, fragments_only.json()["errors"][0]["message"]) == (
        400,
        "Must provide an operation.",
    )
    first_mutation = {"query": "mutation M { __typename } query Q { __typename }"}
    over_get = await send(world.app, "GET", params=first_mutation)
    assert (over_get.status_code, over_get.headers["allow"]) == (405, "POST")


async def test_subscriptions_are_refused_over_http(world: World) -> None:
    body = {
        "query": 'subscription { issueCrmContactsUpdated(issuableId: "gid://gitlab/Issue/1") '
        "{ __typename } }"
    }
    response = await send(world.app, json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Subscriptions are not supported over HTTP"


# ------------------------------------------------------------------ batches


async def test_a_batch_answers_each_operation_in_order(world: World) -> None:
    batch = [WHO, {"query": "{ __typename }"}, {"query": "{"}]
    response = await send(world.app, json=batch)
    assert response.status_code == 200
    first, second, third = response.json()
    assert (first, second) == ({"data": {"currentUser": None}}, {"data": {"__typename": "Query"}})
    assert third["errors"][0]["message"].startswith("Syntax Error")


async def test_a_batch_sees_its_own_earlier_mutations(world: World) -> None:
    owner = await world.user("owner")
    token = await world.token(owner)
    batch = [
        {"query": 'mutation { groupCreate(input: {path: "globex", name: "Globex"}) { errors } }'},
        {"query": '{ group(fullPath: "globex") { name } }'},
    ]
    response = await send(world.app, json=batch, token=token)
    assert response.json() == [
        {"data": {"groupCreate": {"errors": []}}},
        {"data": {"group": {"name": "Globex"}}},
    ]


async def test_batches_over_10_operations_are_400(world: World) -> None:
    assert (await send(world.app, json=[WHO] * 10)).status_code == 200
    response = await send(world.app, json=[WHO] * 11)
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": "A batch may hold at most 10 operations, this one holds 11"}]
    }
    assert (await send(world.app, json=[])).status_code == 400


async def test_the_batch_size_is_a_setting(world: World) -> None:
    app = create_app(Settings(secret=SECRET, max_batch_size=1), db=world.db)
    assert (await send(app, json=[WHO, WHO])).status_code == 400


async def test_every_operation_of_a_batch_is_size_checked(world: World) -> None:
    response = await send(world.app, json=[WHO, {"query": "{ __typename }" + " " * 10_000}])
    assert (response.status_code, response.json()) == (
        422,
        {"errors": [{"message": "Query too large"}]},
    )


# ------------------------------------------------------------------ introspection, GraphiQL


@pytest.fixture
def closed(world: World) -> Any:
    return create_app(Settings(secret=SECRET, introspection=False, graphiql=False), db=world.db)


async def test_introspection_can_be_switched_off(world: World, closed: Any) -> None:
    body = {"query": "{ __schema { queryType { name } } }"}
    assert (await send(world.app, json=body)).json() == {
        "data": {"__schema": {"queryType": {"name": "Query"}}}
    }
    response = await send(closed, json=body)
    assert response.json()["errors"][0]["message"] == (
        "GraphQL introspection has been disabled, but the requested query contained the field "
        "'__schema'."
    )
    by_type = await send(closed, json={"query": '{ __type(name: "Query") { name } }'})
    assert "introspection has been disabled" in by_type.json()["errors"][0]["message"]
    typename = await send(closed, json={"query": "{ __typename }"})
    assert typename.json() == {"data": {"__typename": "Query"}}


async def test_no_suggestions_when_introspection_is_off(world: World, closed: Any) -> None:
    open_message = (await send(world.app, json=UNKNOWN_FIELD)).json()["errors"][0]["message"]
    assert open_message == (
        "Cannot query field 'currentUsr' on type 'Query'. Did you mean 'currentUser'?"
    )
    closed_message = (await send(closed, json=UNKNOWN_FIELD)).json()["errors"][0]["message"]
    assert closed_message == "Cannot query field 'currentUsr' on type 'Query'."
    argument = {"query": '{ group(fullPat: "a") { id } }'}
    assert "Did you mean" in (await send(world.app, json=argument)).text
    assert "Did you mean" not in (await send(closed, json=argument)).text


async def test_no_suggestions_in_variable_errors_either(world: World, closed: Any) -> None:
    owner = await world.user("owner")
    acme = await world.group("acme")
    await world.member(acme, owner, AccessLevel.OWNER)
    token = await world.token(owner)
    body = {
        "query": 'query($s: ContactSort) { group(fullPath: "acme") { contacts(sort: $s) '
        "{ nodes { id } } } }",
        "variables": {"s": "LAST_NAME_AS"},
    }
    assert "Did you mean" in (await send(world.app, json=body, token=token)).text
    hidden = await send(closed, json=body, token=token)
    assert hidden.json()["errors"] and "Did you mean" not in hidden.text


async def test_graphiql_can_be_switched_off(world: World, closed: Any) -> None:
    response = await send(closed, "GET", accept="text/html")
    assert response.status_code == 404


async def test_a_lone_surrogate_echoed_back_is_escaped_not_a_crash(world: World) -> None:
    raw = '{"query": "query($n: String!) { __type(name: $n) { name } } query X { a }"'
    raw += ', "operationName": "\\ud800"}'
    response = await send(world.app, content=raw)
    assert response.status_code == 400
    assert response.content.isascii() and "\\ud800" in response.text
    assert response.json()["errors"][0]["message"] == 'Unknown operation named "\ud800".'
