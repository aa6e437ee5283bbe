"""Answers written ahead are given out only for the selection they were written for."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from crmgraph.schema.completion import (
    Answered,
    Field,
    Kind,
    NotAsPromised,
    Plan,
    compiled_completion,
    shape_of,
    value_of,
)
from crmgraph.web_request import json_response


def _details(name: str) -> list[Any]:
    return [SimpleNamespace(node=SimpleNamespace(name=SimpleNamespace(value=name)))]


def _leaf(response_name: str, name: str) -> Field:
    field = Field(response_name, Kind.LEAF, _details(name), name)
    field.passthrough = str
    return field


def _connection(nodes_key: str, *leaves: tuple[str, str]) -> Plan:
    node = Plan(fields=[_leaf(key, name) for key, name in leaves])
    nodes = Field(nodes_key, Kind.LIST, _details("nodes"), "nodes", plan=node)
    return Plan(fields=[nodes])


WRITTEN_FOR = (("nodes", "nodes", (("mail", "email", None),)),)


def _answered() -> Answered:
    return Answered({"nodes": orjson.Fragment(b"[]")}, WRITTEN_FOR, {})


def _ready(plan: Plan, found: Any) -> Field:
    return Field(
        "contacts", Kind.READY, _details("contacts"), plan=plan,
        find=lambda context, source, arguments: found, arguments={},
    )  # fmt: skip


def test_the_shape_of_a_plan_names_response_keys_fields_and_sub_selections() -> None:
    assert shape_of(_connection("nodes", ("mail", "email"))) == WRITTEN_FOR


def test_an_answer_is_given_for_the_plan_it_was_written_for() -> None:
    answered = _answered()
    assert answered.answer_for(_connection("nodes", ("mail", "email"))) is answered.answer


@pytest.mark.parametrize(
    "plan",
    [
        _connection("list", ("mail", "email")),
        _connection("nodes", ("email", "email")),
        _connection("nodes", ("mail", "phone")),
        _connection("nodes", ("mail", "email"), ("id", "id")),
    ],
    ids=["nodes alias", "field alias", "field", "one more field"],
)
def test_an_answer_written_for_another_selection_is_refused(plan: Plan) -> None:
    with pytest.raises(NotAsPromised):
        _answered().answer_for(plan)


def test_ready_fields_give_out_written_answers_on_both_completion_paths() -> None:
    answered = _answered()
    fits = _ready(_connection("nodes", ("mail", "email")), answered)
    other = _ready(_connection("nodes", ("phone", "phone")), answered)
    assert value_of(fits, object(), None) is answered.answer
    with pytest.raises(NotAsPromised):
        value_of(other, object(), None)
    for field, expected in ((fits, answered.answer), (other, None)):
        assert field.plan is not None
        field.plan.complete = compiled_completion(field.plan)
        parent = Plan(fields=[field])
        complete = compiled_completion(parent)
        if expected is None:
            with pytest.raises(NotAsPromised):
                complete(object(), None)
        else:
            assert complete(object(), None) == {"contacts": expected}


def test_written_json_survives_the_standard_library_fallback() -> None:
    # A lone surrogate makes orjson refuse the body; the fallback must still write the
    # JSON written ahead, as its value.
    body = {"written": orjson.Fragment(b'[{"a":1}]'), "echo": "\ud800"}
    rendered = json_response(body).body
    assert json.loads(rendered) == {"written": [{"a": 1}], "echo": "\ud800"}
