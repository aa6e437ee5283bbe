"""The direct path for plain scalar fields answers exactly as graphql-core's own path."""

from __future__ import annotations

import enum
import json
from decimal import Decimal
from typing import Any

import pytest
import strawberry
from strawberry.extensions import ParserCache

from crmgraph.schema import completion
from crmgraph.schema import execution as direct_execution
from crmgraph.schema.execution import DirectLeafExecutionContext


@strawberry.enum
class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Item:
    name: str
    note: str | None
    color: Color
    count: int
    # Bad data: a non-null field holding None, an Int holding text.
    missing: int
    wrong: int
    # Numeric columns arrive as Decimal; NaN is not a GraphQL Float, "yes" not a Boolean.
    price: float
    flag: bool

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    def nth(self, n: int) -> int:
        return self.count * n


ITEMS = [
    Item(
        name="a", note=None, color=Color.RED, count=1, missing=1, wrong=1,
        price=Decimal("1.50"), flag=True,  # type: ignore[arg-type]
    ),
    Item(
        name="b", note="x", color=Color.BLUE, count=2, missing=None, wrong=2,  # type: ignore[arg-type]
        price=Decimal("NaN"), flag="yes",  # type: ignore[arg-type]
    ),
    Item(
        name="c", note="y", color=Color.RED, count=3, missing=3, wrong="many",  # type: ignore[arg-type]
        price=2.5, flag=False,
    ),
]  # fmt: skip


@strawberry.type
class Shelf:
    label: str
    items: list[Item]
    maybe: list[Item | None] | None
    best: Item | None
    tags: list[str]
    owner: Item
    pair: list[Item]


GOOD = [ITEMS[0], ITEMS[0]]
SHELVES = [
    Shelf(
        label="one", items=GOOD, maybe=[None, ITEMS[0]], best=ITEMS[0], tags=["x"],
        owner=ITEMS[0], pair=GOOD,
    ),
    Shelf(
        label="two", items=GOOD, maybe=None, best=None, tags=[], owner=ITEMS[2], pair=[],
    ),
    # Bad data below the shelf: an item with a null in a non-null field, a tuple for a list,
    # a null for a non-null object, a null item in a list of non-null items.
    Shelf(
        label="bad", items=ITEMS, maybe=[ITEMS[1]], best=ITEMS[2], tags=["y"],
        owner=None, pair=[ITEMS[0], None],  # type: ignore[arg-type, list-item]
    ),
    Shelf(
        label="tuple", items=tuple(GOOD), maybe=[], best=ITEMS[0], tags=["z"],  # type: ignore[arg-type]
        owner=ITEMS[0], pair=GOOD,
    ),
]  # fmt: skip


@strawberry.type
class Box:
    # One level further down, the shelf's own fields are completed by its plan's function.
    shelf: Shelf


@strawberry.type
class Query:
    @strawberry.field
    def boxes(self) -> list[Box]:
        return [Box(shelf=shelf) for shelf in SHELVES]

    @strawberry.field
    def shelves(self) -> list[Shelf]:
        return SHELVES[:2]

    @strawberry.field
    def all_shelves(self) -> list[Shelf | None]:
        return SHELVES

    @strawberry.field
    def items(self) -> list[Item]:
        return ITEMS

    @strawberry.field
    async def later(self) -> list[Item]:
        return ITEMS


class CountingContext(DirectLeafExecutionContext):
    resolved: list[str] = []

    def build_resolve_info(self, field_def: Any, field_nodes: Any, *args: Any) -> Any:
        CountingContext.resolved.append(field_nodes[0].name.value)
        return super().build_resolve_info(field_def, field_nodes, *args)


PLAIN = strawberry.Schema(query=Query)
DIRECT = strawberry.Schema(query=Query, execution_context_class=CountingContext)

QUERIES = [
    "{ shelves { label items { name color } maybe { count } best { name note } tags } }",
    "{ shelves { __typename items { __typename name } best { ... on Item { name } } } }",
    "{ allShelves { label items { name count } } }",
    "{ allShelves { label maybe { name missing } } }",
    "{ allShelves { label best { wrong name } items { shout } } }",
    "{ items { name note color count } }",
    "{ items { count name: color nick: name name2: name shout note } }",
    "{ items { __typename name nth(n: 3) name } }",
    "{ later { shout note name } }",
    "{ items { name missing } }",
    "{ items { wrong name } }",
    "{ items { ... on Item { color } name ...F } } fragment F on Item { count note }",
    "query($skip: Boolean!) { items { name @skip(if: $skip) count @include(if: $skip) } }",
    "{ items { price flag name } }",
    "{ shelves { owner { price flag } pair { price } } }",
    "{ allShelves { label owner { name price } pair { name } } }",
    "{ allShelves { pair { __typename a: name b: name } owner { flag } } }",
    "{ boxes { shelf { label owner { name price } pair { name } } } }",
    "{ boxes { shelf { owner { name } } } }",
    "{ boxes { shelf { pair { name } } } }",
    "{ boxes { shelf { label items { price } } } }",
    "{ boxes { shelf { label maybe { name } best { note } items { count } tags } } }",
    "{ boxes { shelf { __typename label } } }",
]


def _answer(result: Any) -> tuple[str, list[tuple[str, list[Any]]]]:
    # json.dumps keeps key order: the response must list fields in the order asked.
    errors = [(e.message, e.path) for e in result.errors or []]
    return json.dumps(result.data), errors


@pytest.mark.parametrize("query", QUERIES)
async def test_direct_path_gives_the_same_data_errors_and_key_order(query: str) -> None:
    variables = {"skip": True}
    expected = await PLAIN.execute(query, variable_values=variables)
    found = await DIRECT.execute(query, variable_values=variables)
    assert _answer(found) == _answer(expected)


async def test_bad_values_still_report_graphql_errors() -> None:
    missing = await DIRECT.execute("{ items { missing } }")
    wrong = await DIRECT.execute("{ items { wrong } }")
    assert [e.message for e in missing.errors or []] == [
        "Cannot return null for non-nullable field Item.missing."
    ]
    assert [e.message for e in wrong.errors or []] == [
        "Int cannot represent non-integer value: 'many'"
    ]


async def test_plain_scalar_fields_are_answered_without_a_resolver_call() -> None:
    CountingContext.resolved.clear()
    result = await DIRECT.execute("{ items { name note color count shout } }")
    assert result.errors is None
    # Only the list and the field with a resolver went through graphql-core's path.
    assert CountingContext.resolved == ["items", "shout", "shout", "shout"]


async def test_plain_objects_and_lists_of_them_are_completed_without_resolver_calls() -> None:
    CountingContext.resolved.clear()
    result = await DIRECT.execute("{ shelves { label items { name } best { name color } } }")
    assert result.errors is None
    assert result.data == {
        "shelves": [
            {"label": "one", "items": [{"name": "a"}] * 2, "best": {"name": "a", "color": "RED"}},
            {"label": "two", "items": [{"name": "a"}] * 2, "best": None},
        ]
    }
    assert CountingContext.resolved == ["shelves"]


async def test_completions_are_kept_for_a_bounded_number_of_selection_shapes() -> None:
    # Aliases are part of a shape, and clients choose them: the cache must not grow forever.
    for n in range(completion.MAX_COMPLETIONS + 10):
        result = await DIRECT.execute(f"{{ shelves {{ best {{ a{n}: name }} }} }}")
        assert result.data is not None
        assert result.data["shelves"][0]["best"] == {f"a{n}": "a"}
    assert 0 < len(completion._COMPLETIONS) <= completion.MAX_COMPLETIONS


class PlanningContext(DirectLeafExecutionContext):
    planned: list[str] = []

    def _field(self, parent_type: Any, response_name: str, details: Any) -> Any:
        PlanningContext.planned.append(f"{parent_type.name}.{response_name}")
        return super()._field(parent_type, response_name, details)


# As the service's schema: a query text parsed once, its nodes the same in every request.
CACHED = strawberry.Schema(
    query=Query,
    execution_context_class=PlanningContext,
    extensions=[lambda: ParserCache(maxsize=10)],
)
SKIPPING = "query($on: Boolean!) { shelves { label @include(if: $on) best { name } } }"


@pytest.fixture
def no_plans_yet() -> None:
    """Plans are shared by the whole process: each test starts without any."""
    direct_execution._SHARED_PLANS.clear()
    PlanningContext.planned.clear()


@pytest.mark.usefixtures("no_plans_yet")
async def test_a_query_sent_again_is_answered_with_the_plans_made_the_first_time() -> None:
    query = "{ shelves { label best { name color } } }"
    first = await CACHED.execute(query)
    assert PlanningContext.planned == ["Query.shelves", "Shelf.label", "Shelf.best",
                                       "Item.name", "Item.color"]  # fmt: skip
    again = await CACHED.execute(query)
    assert again.data == first.data
    assert len(PlanningContext.planned) == 5


@pytest.mark.usefixtures("no_plans_yet")
@pytest.mark.parametrize("first", [True, False])
async def test_plans_are_shared_only_between_requests_with_the_same_variables(
    first: bool,
) -> None:
    answers = {}
    for on in (first, not first, first):
        result = await CACHED.execute(SKIPPING, variable_values={"on": on})
        answers[on] = result.data
    assert answers[True] == {"shelves": [{"label": "one", "best": {"name": "a"}},
                                         {"label": "two", "best": None}]}  # fmt: skip
    assert answers[False] == {"shelves": [{"best": {"name": "a"}}, {"best": None}]}
    # The third request, with the first one's variables, planned nothing.
    assert PlanningContext.planned.count("Query.shelves") == 2


async def test_variables_that_are_not_plain_data_are_planned_per_request() -> None:
    assert direct_execution._frozen({"a": [1, {"b": True}], "c": None}) == (
        "dict",
        (("a", ("list", (("int", 1), ("dict", (("b", ("bool", True)),))))),
         ("c", ("NoneType", None))),
    )  # fmt: skip
    assert direct_execution._frozen({"a": 1}) != direct_execution._frozen({"a": True})
    assert direct_execution._frozen({"when": object()}) is None
