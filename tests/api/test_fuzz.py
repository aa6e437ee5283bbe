"""Property: whatever a client sends, the service answers without crashing (both databases).

Two generators, both over the exported schema:

- hypothesis-graphql writes whole documents (queries and mutations, valid and with one
  schema violation), with argument literals drawn from the world below and from hostile
  text (NUL, lone surrogates are impossible in a document, huge and odd numbers);
- a generator of JSON variables for every mutation's ``input`` and for the root queries,
  right-typed most of the time and wrong-typed some of the time.

Every answer must be below 500 and no error may be the masked ``Internal server error``.
Afterwards the database must pass ``check_consistency``: thousands of random writes, some
of them moves and transfers, leave no broken invariant.

``CRMGRAPH_FUZZ_EXAMPLES`` scales the number of examples (default 1: about 60 s for
everything; try 10 for a deeper local run). The runs are derandomized so that CI is
repeatable.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from crmgraph.app import schema
from crmgraph.domain.ids import to_gid
from crmgraph.domain.roles import AccessLevel
from crmgraph.domain.users import Scope
from tests.consistency import check_consistency
from tests.world import World

SCALE = float(os.environ.get("CRMGRAPH_FUZZ_EXAMPLES", "1"))
DOCUMENTS = int(400 * SCALE)
VARIABLES = int(400 * SCALE)
INTERNAL = "Internal server error"

PATHS = [
    "acme",
    "acme/web",
    "acme/support",
    "acme/support/desk",
    "acme/support/team",
    "other",
    "other/ops",
    "ACME/Web",
    "acme/",
    "/acme",
    "acme//web",
    "nope/nothing",
]
MODELS = {
    "GroupID": "Group",
    "ProjectID": "Project",
    "IssueID": "Issue",
    "IssuableID": "Issue",
    "NoteableID": "Issue",
    "NoteID": "Note",
    "UserID": "User",
    "CustomerRelationsContactID": "CustomerRelations::Contact",
    "CustomerRelationsOrganizationID": "CustomerRelations::Organization",
}
EMAILS = [f"c{i}@example.com" for i in range(6)] + ["z@other.example", "C1@EXAMPLE.COM"]


def mostly(usual: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], one_in: int) -> Any:
    """``rare`` about once in ``one_in`` draws (``one_of`` would give each branch a fair
    share, and it collapses repeated branches)."""
    return st.integers(min_value=1, max_value=one_in).flatmap(lambda n: rare if n == 1 else usual)


junk_text = st.one_of(
    st.text(max_size=30),
    st.text(st.characters(codec="utf-8"), max_size=10).map(lambda s: s + "\x00" + s),
    st.sampled_from(["", " ", "\t\n", "null", "0", "-1", "1e9", "💥" * 3, "x" * 300]),
)
numeric_text = st.one_of(
    st.integers(min_value=-2, max_value=8).map(str),
    st.sampled_from(["99999999999999999999", "2147483648", "1.5", " 3"]),
)
contact_refs = st.sampled_from(EMAILS).map(lambda e: f"[contact:{e}]") | st.sampled_from(EMAILS)
quick_actions = st.lists(
    st.tuples(
        st.sampled_from(["/add_contacts", "/remove_contacts", "/ADD_CONTACTS"]),
        st.lists(contact_refs, max_size=8),
    ),
    min_size=1,
    max_size=3,
).map(lambda lines: "Note\n" + "\n".join(f"{cmd} {' '.join(args)}" for cmd, args in lines))
text_values = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=20),
    junk_text,
    numeric_text,
    st.sampled_from(PATHS + EMAILS),
    quick_actions,
)
#: Variables may carry what a document could not: a megabyte, a lone surrogate.
variable_text = st.one_of(
    text_values, st.sampled_from(["x" * 1_000_000, "\ud800", "a\udfffb", "\x00" * 3])
)
path_values = mostly(st.sampled_from(PATHS), junk_text, 4)
times = st.one_of(
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.sampled_from(["2026-11-22T10:00:00Z", "2026-11-22", "yesterday", ""]),
)


GROUP_PATHS = ["acme", "acme/support", "acme/support/team", "other"]
PROJECT_PATHS = ["acme/web", "acme/support/desk", "other/ops"]
slugs = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True)


def _paths(usual: list[str]) -> st.SearchStrategy[Any]:
    return mostly(st.sampled_from(usual), path_values, 5)


#: Inputs named like this get values that usually mean something in the world.
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "projectPath": _paths(PROJECT_PATHS),
    "targetProjectPath": _paths(PROJECT_PATHS),
    "fullPath": _paths(GROUP_PATHS + PROJECT_PATHS),
    "groupPath": _paths(GROUP_PATHS),
    "parentPath": _paths(GROUP_PATHS),
    "newParentPath": _paths(GROUP_PATHS),
    "newGroupPath": _paths(GROUP_PATHS),
    "crmSourceGroupPath": _paths(GROUP_PATHS),
    "iid": mostly(st.sampled_from(["1", "2", "3"]), numeric_text, 5),
    "username": mostly(st.sampled_from(["owner", "reporter"]), junk_text, 5),
    "email": mostly(
        st.sampled_from(EMAILS) | st.integers(0, 99).map(lambda n: f"new{n}@example.com"),
        junk_text,
        4,
    ),
    "path": mostly(slugs, junk_text, 5),
}


def gid_values(model: str) -> st.SearchStrategy[Any]:
    """Mostly ids of records that may exist; sometimes other classes, junk, huge numbers."""
    valid = st.integers(min_value=1, max_value=8).map(lambda n: to_gid(model, n))
    odd = st.one_of(
        st.integers(min_value=1, max_value=8).map(lambda n: to_gid("Group", n)),
        st.sampled_from(
            [to_gid(model, 2**31), f"gid://gitlab/{model}/x", "gid://gitlab/", "", "1"]
        ),
        junk_text,
    )
    return mostly(valid, odd, 10)


# ------------------------------------------------------------------ documents


def _string_node(value: Any) -> graphql.ValueNode:
    return nodes.String(value)


DOCUMENT_SCALARS: dict[str, st.SearchStrategy[graphql.ValueNode]] = {
    "String": text_values.map(_string_node),
    "ID": path_values.map(_string_node),
    "Time": times.map(_string_node),
    "Int": st.one_of(
        st.integers(min_value=-5, max_value=150), st.sampled_from([2**31 - 1, -(2**31)])
    ).map(nodes.Int),
    **{name: gid_values(model).map(_string_node) for name, model in MODELS.items()},
}


def documents() -> st.SearchStrategy[str]:
    sdl = schema().as_str()
    positive = from_schema(sdl, custom_scalars=DOCUMENT_SCALARS)
    negative = from_schema(sdl, custom_scalars=DOCUMENT_SCALARS, mode=Mode.NEGATIVE)
    return mostly(positive, negative, 4)


# ------------------------------------------------------------------ variables


def _json_for(type_: graphql.GraphQLInputType) -> st.SearchStrategy[Any]:
    """Values of ``type_`` as JSON; ``null`` sometimes where the type allows it."""
    if isinstance(type_, graphql.GraphQLNonNull):
        return _right_json(type_.of_type)
    return st.one_of(_right_json(type_), st.none())


def _right_json(type_: graphql.GraphQLInputType) -> st.SearchStrategy[Any]:
    if isinstance(type_, graphql.GraphQLList):
        return st.lists(_json_for(type_.of_type), max_size=8)
    if isinstance(type_, graphql.GraphQLEnumType):
        return st.sampled_from(list(type_.values))
    if isinstance(type_, graphql.GraphQLInputObjectType):
        required = {}
        optional = {}
        for name, field in type_.fields.items():
            target = required if graphql.is_required_input_field(field) else optional
            target[name] = _json_for(field.type)
            if name in FIELD_VALUES:
                target[name] = FIELD_VALUES[name]
                if not isinstance(field.type, graphql.GraphQLNonNull):
                    target[name] = st.one_of(FIELD_VALUES[name], st.none())
        return st.fixed_dictionaries(required, optional=optional)
    assert isinstance(type_, graphql.GraphQLScalarType)
    name = type_.name
    if name in MODELS:
        return gid_values(MODELS[name])
    scalars: dict[str, st.SearchStrategy[Any]] = {
        "String": variable_text,
        "ID": path_values,
        "Time": times,
        "Boolean": st.booleans(),
        "Int": st.integers(min_value=-3, max_value=120),
        "Float": st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.decimals(places=2, min_value=0, max_value=10**6).map(float),
        ),
    }
    return scalars[name]


WRONG = st.one_of(
    st.none(),
    st.integers(),
    st.integers(min_value=2**31),
    st.floats(),
    st.text(max_size=5),
    st.booleans(),
    st.lists(st.none(), max_size=2),
    st.just({}),
)


@st.composite
def _spoiled(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with one part replaced by a value of the wrong type (or dropped)."""
    if isinstance(value, dict) and value:
        key = draw(st.sampled_from(sorted(value)))
        if draw(st.booleans()):
            return {k: v for k, v in value.items() if k != key}
        return {**value, key: draw(_spoiled(value[key]))}
    if isinstance(value, list) and value:
        index = draw(st.integers(min_value=0, max_value=len(value) - 1))
        return [*value[:index], draw(_spoiled(value[index])), *value[index + 1 :]]
    return draw(WRONG)


def _operations() -> list[tuple[str, graphql.GraphQLInputType, str]]:
    """(document, type of $input, root field) for every mutation and root query."""
    built = graphql.build_schema(schema().as_str())
    operations = []
    assert built.mutation_type is not None
    for name, field in built.mutation_type.fields.items():
        arg = field.args["input"].type
        payload = graphql.get_named_type(field.type)
        assert isinstance(payload, graphql.GraphQLObjectType)
        selection = " ".join(f for f in ("errors", "clientMutationId") if f in payload.fields)
        doc = f"mutation($input: {arg}) {{ {name}(input: $input) {{ {selection} }} }}"
        operations.append((doc, arg, name))
    queries = {
        "group": "query($input: ID!) { group(fullPath: $input) { id fullPath "
        "contacts(first: 5) { nodes { id email } } issues(first: 3) { nodes { iid } } } }",
        "project": "query($input: ID!) { project(fullPath: $input) { id "
        "issues(first: 5) { nodes { iid customerRelationsContacts { nodes { id } } } } } }",
        "issue": "query($input: IssueID!) { issue(id: $input) { id title "
        "notes { nodes { body system } } customerRelationsContacts { nodes { email } } } }",
    }
    assert built.query_type is not None
    for name, doc in queries.items():
        arg = next(iter(built.query_type.fields[name].args.values())).type
        operations.append((doc, arg, name))
    return operations


def variable_requests() -> st.SearchStrategy[tuple[str, Any]]:
    """Right-typed variables, and one time in five variables with one wrong part."""

    def values(type_: graphql.GraphQLInputType) -> st.SearchStrategy[Any]:
        right = _json_for(type_)
        return mostly(right, right.flatmap(_spoiled), 5)

    return st.sampled_from(_operations()).flatmap(
        lambda op: st.tuples(st.just(op[0]), values(op[1]))
    )


# ------------------------------------------------------------------ the world and the runs


async def _populate(world: World) -> dict[str, str | None]:
    """acme ⊃ support ⊃ team, projects acme/web and acme/support/desk, other ⊃ ops;
    contacts in both roots. Returns the tokens the fuzzer speaks with (None: anonymous)."""
    owner = await world.user("owner")
    reporter = await world.user("reporter")
    acme = await world.group("acme")
    support = await world.group("support", acme)
    await world.group("team", support)
    other = await world.group("other")
    for group in (acme, other):
        await world.member(group, owner, AccessLevel.OWNER)
    await world.member(acme, reporter, AccessLevel.REPORTER)
    web = await world.project(acme, "web")
    desk = await world.project(support, "desk")
    await world.project(other, "ops")
    organization = await world.organization(acme, "Initech")
    contacts = [
        await world.contact(acme, f"C{i}", "Doe", f"c{i}@example.com", organization=organization)
        for i in range(6)
    ]
    await world.contact(other, "Z", "Other", "z@other.example")
    for project in (web, desk, web):
        issue = await world.issue(project, owner)
        await world.link(issue, *contacts[:2])
    return {
        "owner": await world.token(owner),
        "reporter": await world.token(reporter),
        "read_api": await world.token(owner, scope=Scope.READ_API),
        "anonymous": None,
    }


class Fuzzer:
    """Sends requests from hypothesis's thread to the test's event loop, and judges them."""

    def __init__(self, world: World, tokens: dict[str, str | None]) -> None:
        self.world = world
        self.tokens = tokens
        self.loop = asyncio.get_running_loop()
        #: How answers went: "clean" (no error at all), "errors", or the HTTP status.
        self.outcomes: Counter[str] = Counter()
        self.messages: Counter[str] = Counter()
        self.client: httpx.AsyncClient | None = None

    def run(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    async def send(self, who: str, body: dict[str, Any]) -> None:
        token = self.tokens[who]
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        assert self.client is not None
        # json.dumps escapes what UTF-8 cannot carry (a lone surrogate becomes \\ud800).
        content = json.dumps(body)
        response = await self.client.post("/api/graphql", content=content, headers=headers)
        assert response.status_code < 500, (body, response.text[:1000])
        answer = response.json()
        messages = [e.get("message") for e in answer.get("errors") or []]
        assert INTERNAL not in messages, (body, answer)
        payload_errors = [
            error
            for value in (answer.get("data") or {}).values()
            if isinstance(value, dict)
            for error in value.get("errors") or []
        ]
        if response.status_code != 200:
            self.outcomes[str(response.status_code)] += 1
        elif messages or payload_errors:
            self.outcomes["errors"] += 1
        else:
            self.outcomes["clean"] += 1
        for m in messages + payload_errors:
            self.messages[str(m)[:70]] += 1

    async def __aenter__(self) -> Fuzzer:
        # Exceptions in the app become the 500 a server would answer, and fail the run.
        transport = httpx.ASGITransport(app=self.world.app, raise_app_exceptions=False)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://fuzz.test")
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.client is not None
        await self.client.aclose()


SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
speakers = st.sampled_from(["owner"] * 6 + ["reporter", "read_api", "anonymous"])


def _fuzz_documents(fuzzer: Fuzzer) -> Callable[[], None]:
    @settings(SETTINGS, max_examples=DOCUMENTS)
    @given(document=documents(), who=speakers)
    def run(document: str, who: str) -> None:
        fuzzer.run(fuzzer.send(who, {"query": document}))

    return run


def _fuzz_variables(fuzzer: Fuzzer) -> Callable[[], None]:
    @settings(SETTINGS, max_examples=VARIABLES)
    @given(request=variable_requests(), who=speakers)
    def run(request: tuple[str, Any], who: str) -> None:
        document, value = request
        fuzzer.run(fuzzer.send(who, {"query": document, "variables": {"input": value}}))

    return run


@pytest.mark.parametrize("generator", [_fuzz_documents, _fuzz_variables])
async def test_generated_requests_never_crash_and_leave_the_database_consistent(
    world: World, generator: Callable[[Fuzzer], Callable[[], None]]
) -> None:
    tokens = await _populate(world)
    async with Fuzzer(world, tokens) as fuzzer:
        # Hypothesis drives a plain function; it runs in a thread and hands each request
        # to this loop, where the app, its engine and the database connections live.
        await asyncio.to_thread(generator(fuzzer))
    sent = sum(fuzzer.outcomes.values())
    assert sent >= min(DOCUMENTS, VARIABLES)
    # A fuzzer whose every request bounced off validation would prove little.
    assert fuzzer.outcomes["clean"] >= sent // 10, (fuzzer.outcomes, fuzzer.messages)
    await check_consistency(world.db)


def test_the_variable_generator_covers_every_mutation() -> None:
    names = {name for _, _, name in _operations()}
    built = graphql.build_schema(schema().as_str())
    assert built.mutation_type is not None
    assert set(built.mutation_type.fields) <= names
    json.dumps([doc for doc, _, _ in _operations()])
