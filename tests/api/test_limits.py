"""Query limits (spec §10, docs/security.md): size, depth, complexity, aliases, directives,
repeated fields, tokens, page size and time."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query, parse
from sqlalchemy import text

from crmgraph.app import create_app, schema
from crmgraph.domain.roles import AccessLevel
from crmgraph.resolvers import groups as group_reads
from crmgraph.schema.complexity import Measure, measure
from crmgraph.schema.limits import QueryLimits, measure_errors
from crmgraph.settings import Settings
from tests.world import SECRET, World

CURRENT_USER = "{ currentUser { username } }"
TIMED_OUT = "Request timed out. Please try a less complex query or a smaller set of records."
# GitLab's own queries, as its web client sends them (crm/contacts/components/queries and
# the issue list with each issue's contacts, as in the sidebar).
GITLAB_CONTACTS = """
query contacts($groupFullPath: ID!, $searchTerm: String, $state: CustomerRelationsContactState,
  $sort: ContactSort, $firstPageSize: Int, $lastPageSize: Int, $prevPageCursor: String = "",
  $nextPageCursor: String = "", $ids: [CustomerRelationsContactID!]) {
  group(fullPath: $groupFullPath) {
    __typename id
    contacts(search: $searchTerm, state: $state, sort: $sort, first: $firstPageSize,
      last: $lastPageSize, after: $nextPageCursor, before: $prevPageCursor, ids: $ids) {
      __typename
      nodes { ...ContactFragment }
      pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
fragment ContactFragment on CustomerRelationsContact {
  __typename id firstName lastName email phone description active
  organization { __typename id name }
}
"""
ISSUES_WITH_CONTACTS = """
query issues($fullPath: ID!, $first: Int, $after: String) {
  project(fullPath: $fullPath) {
    __typename id
    issues(first: $first, after: $after) {
      __typename
      pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
      nodes {
        __typename id iid title description state confidential createdAt updatedAt projectId
        author { __typename id username name }
        customerRelationsContacts {
          nodes { __typename id firstName lastName email phone description active
            organization { __typename id name defaultRate description active } }
        }
      }
    }
  }
}
"""


def app_with(world: World, **settings: Any) -> Any:
    return create_app(Settings(secret=SECRET, token_cache_seconds=0, **settings), db=world.db)


async def post(app: Any, body: Any, token: str | None = None) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://crmgraph.test") as client:
        return await client.post("/api/graphql", json=body, headers=headers)


def parents(depth: int) -> str:
    """A valid query of exactly ``depth`` levels: group, parents, then the leaf ``id``."""
    return '{ group(fullPath: "acme") { ' + "parent { " * (depth - 2) + "id" + " }" * depth


def cost(query: str, variables: dict[str, Any] | None = None) -> Measure | None:
    return measure(schema()._schema, parse(query), None, variables)


@pytest.fixture
async def token(world: World) -> str:
    owner = await world.user("owner")
    acme = await world.group("acme")
    await world.member(acme, owner, AccessLevel.OWNER)
    return await world.token(owner)


# ------------------------------------------------------------------ size and tokens


async def test_a_query_over_10000_characters_is_422_query_too_large(world: World) -> None:
    padded = CURRENT_USER + " " * (10_000 - len(CURRENT_USER))
    assert (await world.gql(padded)).body == {"data": {"currentUser": None}}
    response = await world.gql(padded + " ")
    assert (response.status, response.body) == (422, {"errors": [{"message": "Query too large"}]})


async def test_the_size_is_checked_before_parsing_and_over_get_too(world: World) -> None:
    response = await world.gql("{" * 10_001)
    assert (response.status, response.error_messages) == (422, ["Query too large"])
    got = await world.http("GET", "/api/graphql", params={"query": "{" + " " * 10_000 + "}"})
    assert (got.status_code, got.json()) == (422, {"errors": [{"message": "Query too large"}]})


async def test_the_size_limit_is_a_setting(world: World) -> None:
    app = app_with(world, max_query_length=20)
    assert (await post(app, {"query": CURRENT_USER})).status_code == 422


async def test_more_than_2000_tokens_are_refused_by_the_parser(world: World) -> None:
    query = "{ " + "a " * 2_100 + "}"
    assert len(query) < 10_000
    response = await world.gql(query)
    assert response.error_messages == [
        "Syntax Error: Document contains more than 2000 tokens. Parsing aborted."
    ]
    assert "data" not in response.body or response.body["data"] is None


# ------------------------------------------------------------------ depth


async def test_depth_15_passes_and_16_is_refused_for_anonymous_callers(world: World) -> None:
    assert cost(parents(15)) == Measure(depth=15, complexity=15)
    assert (await world.gql(parents(15))).error_messages == []
    response = await world.gql(parents(16))
    assert response.error_messages == ["Query has depth of 16, which exceeds max depth of 15"]
    assert response.body.get("data") is None


async def test_authenticated_callers_may_go_to_depth_20(world: World, token: str) -> None:
    assert (await world.gql(parents(20), token=token)).error_messages == []
    response = await world.gql(parents(21), token=token)
    assert response.error_messages == ["Query has depth of 21, which exceeds max depth of 20"]


async def test_depth_counts_through_fragments(world: World) -> None:
    query = (
        '{ group(fullPath: "acme") { ...Up } } fragment Up on Group { parent { ...Up2 } } '
        "fragment Up2 on Group { " + "parent { " * 13 + "id" + " }" * 13 + " }"
    )
    assert cost(query) == Measure(depth=16, complexity=16)
    assert (await world.gql(query)).error_messages == [
        "Query has depth of 16, which exceeds max depth of 15"
    ]


async def test_depth_limits_are_settings(world: World, token: str) -> None:
    app = app_with(world, max_depth_anonymous=3, max_depth_authenticated=4)
    assert (await post(app, {"query": parents(4)})).json()["errors"][0]["message"] == (
        "Query has depth of 4, which exceeds max depth of 3"
    )
    assert "errors" not in (await post(app, {"query": parents(4)}, token)).json()


# ------------------------------------------------------------------ complexity


def test_a_field_costs_one_plus_its_selection() -> None:
    assert cost("{ currentUser { username name } }") == Measure(depth=2, complexity=3)
    assert cost('{ group(fullPath: "a") { id parent { id name } } }') == Measure(3, 5)


def test_a_100_item_page_doubles_a_connections_cost() -> None:
    query = '{ group(fullPath: "a") { contacts(first: %d) { nodes { id } } } }'
    # contacts: 1 + nodes (1 + id) = 3, times (1 + page/100); group adds 1.
    assert cost(query % 100) == Measure(depth=4, complexity=1 + 6)
    assert cost(query % 50) == Measure(depth=4, complexity=1 + 5)  # 3 * 1.5 = 4.5, rounded up
    assert cost(query % 0) == Measure(depth=4, complexity=1 + 3)
    # Page sizes over 100 are served as 100 pages and cost as much.
    assert cost(query % 1000) == cost(query % 100)


def test_the_page_size_comes_from_variables_and_defaults_to_100() -> None:
    query = 'query($n: Int) { group(fullPath: "a") { contacts(first: $n) { nodes { id } } } }'
    assert cost(query, {"n": 10}) == Measure(depth=4, complexity=5)  # 1 + ceil(3.3)
    assert cost(query, {}) == cost(query, {"n": None}) == Measure(depth=4, complexity=7)
    assert cost('{ group(fullPath: "a") { contacts { nodes { id } } } }') == Measure(4, 7)
    last = '{ group(fullPath: "a") { contacts(first: 100, last: 20) { nodes { id } } } }'
    assert cost(last) == Measure(depth=4, complexity=5)  # the smaller of first and last


def test_nested_connections_are_each_increased_by_their_own_page() -> None:
    query = """{ project(fullPath: "a/b") { issues(first: 100) { nodes {
      customerRelationsContacts(first: 10) { nodes { id } } } } } }"""
    # inner: (1 + 2) * 1.1 = 3.3; nodes: 1 + 3.3; issues: (1 + 4.3) * 2 = 10.6; + project.
    assert cost(query) == Measure(depth=6, complexity=12)


def test_merged_fields_count_once_and_aliases_count_each() -> None:
    assert cost("{ currentUser { username } currentUser { username } }") == Measure(2, 2)
    assert cost("{ a: currentUser { username } b: currentUser { username } }") == Measure(2, 4)


def test_skipped_fields_cost_nothing() -> None:
    query = "query($no: Boolean!) { currentUser @skip(if: $no) { username } __typename }"
    assert cost(query, {"no": True}) == Measure(depth=1, complexity=1)
    assert cost(query, {"no": False}) == Measure(depth=2, complexity=3)
    assert cost("{ currentUser @include(if: false) { username } }") == Measure(0, 0)


def test_introspection_costs_nothing_but_counts_for_depth() -> None:
    found = cost(get_introspection_query(descriptions=True))
    assert found is not None and found.complexity == 0 and found.depth <= 15


def _contact_lists(count: int) -> str:
    fields = "nodes { id firstName lastName email phone description active }"
    lists = " ".join(f"c{n}: contacts(first: 100) {{ {fields} }}" for n in range(count))
    return f'{{ group(fullPath: "acme") {{ {lists} }} }}'


async def test_too_complex_is_refused_with_gitlabs_message(world: World, token: str) -> None:
    # Each list: (1 + nodes (1 + 7)) * 2 = 18; the group adds 1.
    assert cost(_contact_lists(12)) == Measure(depth=4, complexity=217)
    anonymous = await world.gql(_contact_lists(12))
    assert anonymous.error_messages == [
        "Query has complexity of 217, which exceeds max complexity of 200"
    ]
    assert (await world.gql(_contact_lists(12), token=token)).error_messages == []
    authenticated = await world.gql(_contact_lists(14), token=token)
    assert authenticated.error_messages == [
        "Query has complexity of 253, which exceeds max complexity of 250"
    ]


async def test_one_query_text_is_measured_again_for_other_variables_and_operations(
    world: World, token: str
) -> None:
    # One app, so measures worked out for earlier requests are at hand for later ones.
    app = app_with(world, max_complexity_anonymous=4, max_complexity_authenticated=4)
    text = (
        'query Lists($n: Int, $no: Boolean!) { group(fullPath: "acme") { '
        "contacts(first: $n) @skip(if: $no) { nodes { id } } } } "
        "query Me { currentUser { username name } again: currentUser { username } }"
    )

    async def errors(operation: str, **variables: Any) -> Any:
        body = {"query": text, "operationName": operation, "variables": variables}
        return (await post(app, body, token)).json().get("errors")

    too_complex = [{"message": "Query has complexity of 5, which exceeds max complexity of 4"}]
    assert await errors("Lists", n=10, no=False) == too_complex  # 1 + ceil(3.3)
    assert await errors("Lists", n=0, no=False) is None  # 1 + 3
    assert await errors("Lists", n=10, no=True) is None  # the list is skipped
    assert await errors("Lists", n=10, no=False) == too_complex
    # The same text and variables, but the other operation: 3 + 2.
    assert await errors("Me", n=0, no=False) == too_complex


async def test_complexity_limits_are_settings(world: World, token: str) -> None:
    app = app_with(world, max_complexity_anonymous=2, max_complexity_authenticated=3)
    query = {"query": "{ currentUser { username name } }"}
    assert (await post(app, query)).json()["errors"] == [
        {"message": "Query has complexity of 3, which exceeds max complexity of 2"}
    ]
    assert (await post(app, query, token)).json() == {
        "data": {"currentUser": {"username": "owner", "name": "Owner"}}
    }


def test_a_fragment_bomb_is_measured_cheaply() -> None:
    fragments = " ".join(
        f"fragment F{n} on Group {{ a: parent {{ ...F{n + 1} }} b: parent {{ ...F{n + 1} }} }}"
        for n in range(40)
    )
    query = '{ group(fullPath: "a") { ...F0 } } ' + fragments + " fragment F40 on Group { id }"
    found = measure(schema()._schema, parse(query), budget=2_500)
    assert found is not None and not found.complete and found.complexity >= 2_500
    assert measure_errors(found, QueryLimits(), authenticated=True)[-1].message == (
        "Query has complexity of more than 2500, which exceeds max complexity of 250"
    )


# ------------------------------------------------------------------ GitLab's own queries


async def test_gitlabs_contact_list_of_100_passes(world: World) -> None:
    owner = await world.user("owner")
    acme = await world.group("acme")
    await world.member(acme, owner, AccessLevel.OWNER)
    for n in range(100):
        await world.contact(acme, f"First{n}", f"Last{n}", f"person{n}@example.com")
    token = await world.token(owner)
    variables = {"groupFullPath": "acme", "firstPageSize": 100}
    found = cost(GITLAB_CONTACTS, variables)
    assert found is not None and found.complexity <= 100 and found.depth <= 5
    response = await world.gql(GITLAB_CONTACTS, variables, token=token)
    assert response.error_messages == []
    assert len(response.data["group"]["contacts"]["nodes"]) == 100
    anonymous = await world.gql(GITLAB_CONTACTS, variables)
    assert (anonymous.error_messages, anonymous.data) == ([], {"group": None})


async def test_a_100_issue_list_with_contacts_passes(world: World) -> None:
    owner = await world.user("lead")
    acme = await world.group("acme")
    await world.member(acme, owner, AccessLevel.OWNER)
    web = await world.project(acme, "web")
    ann = await world.contact(acme, "Ann", "Lee", "ann@example.com")
    for n in range(100):
        issue = await world.issue(web, owner, f"Issue {n}")
        await world.link(issue, ann)
    variables = {"fullPath": "acme/web", "first": 100}
    found = cost(ISSUES_WITH_CONTACTS, variables)
    assert found is not None and found.complexity <= 150 and found.depth <= 7
    response = await world.gql(ISSUES_WITH_CONTACTS, variables, token=await world.token(owner))
    assert response.error_messages == []
    nodes = response.data["project"]["issues"]["nodes"]
    assert len(nodes) == 100
    assert {n["customerRelationsContacts"]["nodes"][0]["firstName"] for n in nodes} == {"Ann"}
    # Anonymous callers have the lower limits and are not refused either (they see null).
    anonymous = await world.gql(ISSUES_WITH_CONTACTS, variables)
    assert (anonymous.error_messages, anonymous.data) == ([], {"project": None})


async def test_graphiqls_introspection_query_passes_for_anonymous_callers(world: World) -> None:
    # With every option GraphiQL asks for.
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    response = await world.gql(query)
    assert response.error_messages == []
    assert response.data["__schema"]["queryType"]["name"] == "Query"


# ------------------------------------------------------------------ aliases, directives, repeats


async def test_more_than_30_aliases_are_refused(world: World) -> None:
    def aliased(count: int) -> str:
        return "{ " + " ".join(f"a{n}: __typename" for n in range(count)) + " }"

    assert (await world.gql(aliased(30))).error_messages == []
    response = await world.gql(aliased(31))
    assert response.error_messages == ["Query has 31 aliases, which exceeds the maximum of 30"]


async def test_more_than_50_directives_are_refused(world: World) -> None:
    fine = "{ currentUser @include(if: true) { username @skip(if: false) name } }"
    assert (await world.gql(fine)).error_messages == []
    response = await world.gql("{ __typename" + " @include(if: true)" * 51 + " }")
    assert response.error_messages == ["Query has 51 directives, which exceeds the maximum of 50"]


async def test_a_field_repeated_more_than_20_times_is_refused(world: World) -> None:
    def repeated(count: int) -> str:
        return "{ " + "currentUser { username } " * count + "}"

    assert (await world.gql(repeated(20))).error_messages == []
    response = await world.gql(repeated(21))
    assert response.error_messages == [
        "Field 'currentUser' is selected 21 times in one selection set, "
        "which exceeds the maximum of 20"
    ]


async def test_repeats_through_fragments_count_too(world: World) -> None:
    fragments = " ".join(f"fragment F{n} on Query {{ __typename }}" for n in range(21))
    spreads = " ".join(f"...F{n}" for n in range(21))
    response = await world.gql(f"{{ {spreads} }} {fragments}")
    assert response.error_messages == [
        "Field '__typename' is selected 21 times in one selection set, "
        "which exceeds the maximum of 20"
    ]


async def test_alias_directive_and_repeat_limits_are_settings(world: World) -> None:
    app = app_with(world, max_aliases=1, max_directives=1, max_field_repeats=1)
    body = {"query": "{ a: __typename b: __typename @skip(if: false) @skip(if: false) }"}
    assert [e["message"] for e in (await post(app, body)).json()["errors"]] == [
        "Query has 2 aliases, which exceeds the maximum of 1",
        "Query has 2 directives, which exceeds the maximum of 1",
    ]
    repeated = {"query": "{ __typename __typename }"}
    assert (
        (await post(app, repeated))
        .json()["errors"][0]["message"]
        .startswith("Field '__typename' is selected 2 times")
    )


# ------------------------------------------------------------------ page size


async def test_page_sizes_over_100_are_capped_not_refused(world: World, token: str) -> None:
    # GitLab serves max_page_size items with hasNextPage; tests/api/test_connections.py
    # checks the items, this checks that the limit is no error.
    query = '{ group(fullPath: "acme") { contacts(first: 500) { nodes { id } } } }'
    assert (await world.gql(query, token=token)).error_messages == []


# ------------------------------------------------------------------ time


# Long enough that a busy machine reaches the resolver before the deadline: a shorter one
# let the timeout fire before the work these tests watch had begun.
TIMEOUT = 0.5


@pytest.fixture
def cancelled() -> list[str]:
    return []


async def test_a_slow_request_is_503_and_its_work_is_cancelled(
    world: World, monkeypatch: pytest.MonkeyPatch, cancelled: list[str]
) -> None:
    async def slow_side_task() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append("side task")
            raise

    async def slow(ctx: Any, full_path: str) -> None:
        # As a dataloader batch does: work in a task of its own, awaited by the resolver.
        side = asyncio.ensure_future(slow_side_task())
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append("resolver")
            raise
        finally:
            del side

    monkeypatch.setattr(group_reads, "group_by_full_path", slow)
    app = app_with(world, request_timeout_seconds=TIMEOUT)
    started = asyncio.get_running_loop().time()
    response = await post(app, {"query": '{ group(fullPath: "acme") { id } }'})
    assert asyncio.get_running_loop().time() - started < 2
    assert (response.status_code, response.json()) == (503, {"errors": [{"message": TIMED_OUT}]})
    # Stopped before the answer went out, not some time after it.
    assert sorted(cancelled) == ["resolver", "side task"]


async def test_a_timeout_lets_a_batch_finish_its_cleanup_before_answering(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps: list[str] = []

    async def cleanup() -> None:
        # Still running when the deadline passes, however late the batch started.
        await asyncio.sleep(TIMEOUT + 0.2)
        steps.append("cleanup finished")

    async def batch() -> None:
        steps.append("batch started")
        # As SQLAlchemy closes a connection: in a task of its own, shielded, and waited
        # for even when the batch is cancelled meanwhile.
        closing = asyncio.ensure_future(cleanup())
        while not closing.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(closing)
        steps.append("batch finished")

    async def slow(ctx: Any, full_path: str) -> None:
        # As aiodataloader does: the batch starts from a callback, the resolver waits on a
        # future of its own.
        asyncio.get_running_loop().call_soon(asyncio.ensure_future, batch())
        await asyncio.Future()

    monkeypatch.setattr(group_reads, "group_by_full_path", slow)
    app = app_with(world, request_timeout_seconds=TIMEOUT)
    response = await post(app, {"query": '{ group(fullPath: "acme") { id } }'})
    assert response.status_code == 503
    assert steps == ["batch started", "cleanup finished", "batch finished"]


async def test_a_timed_out_statement_stops_on_postgresql(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    if world.db.dialect != "postgresql":
        pytest.skip("pg_sleep is PostgreSQL's; SQLite statements cannot be interrupted")

    async def sleep_in_the_database(ctx: Any, full_path: str) -> None:
        async def batch() -> None:
            async with ctx.db.connect() as conn:
                await conn.execute(text("SELECT pg_sleep(30) /* crmgraph-timeout-test */"))

        # Started from a callback, as aiodataloader starts its batches.
        asyncio.get_running_loop().call_soon(asyncio.ensure_future, batch())
        await asyncio.Future()

    monkeypatch.setattr(group_reads, "group_by_full_path", sleep_in_the_database)
    app = app_with(world, request_timeout_seconds=TIMEOUT)
    response = await post(app, {"query": '{ group(fullPath: "acme") { id } }'})
    assert (response.status_code, response.json()["errors"][0]["message"]) == (503, TIMED_OUT)
    # The batch's connection went back to the pool before the answer.
    assert world.db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    for _ in range(50):
        async with world.db.connect() as conn:
            running = await conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                    "AND query LIKE '%crmgraph-timeout-test%' AND pid <> pg_backend_pid()"
                )
            )
            if running.scalar_one() == 0:
                break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the statement kept running after the request timed out")


async def test_a_statement_timeout_is_the_same_503(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    if world.db.dialect != "postgresql":
        pytest.skip("statement_timeout is PostgreSQL's")

    async def over_statement_timeout(ctx: Any, full_path: str) -> None:
        async with ctx.db.connect() as conn:
            await conn.execute(text("SET statement_timeout = 50"))
            try:
                await conn.execute(text("SELECT pg_sleep(5)"))
            finally:
                await conn.execute(text("RESET statement_timeout"))

    monkeypatch.setattr(group_reads, "group_by_full_path", over_statement_timeout)
    response = await world.gql('{ group(fullPath: "acme") { id } }')
    assert (response.status, response.body) == (503, {"errors": [{"message": TIMED_OUT}]})


async def test_nested_introspection_is_refused(world: World) -> None:
    nested = "fields { type { " * 3 + "name" + " } }" * 3
    response = await world.gql("{ __schema { types { " + nested + " } } }")
    assert set(response.error_messages) == {"Maximum introspection depth exceeded"}
