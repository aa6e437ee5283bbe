"""Completing plain values: a field's answer read off a domain object, and the
functions that complete a whole plain object (see schema/execution.py for when a field is
plain).

A plain object's answer is a dict of its fields in query order. Interpreting its plan
field by field (``value_of`` for each) was about a fifth of the CPU of a 100-issue page;
the same steps written out as one function per selection shape saved 4 % of that page's
CPU (and 5 % of a 100-contact page's). The function is
generated once per shape (field names, kinds, attributes, nullability) and bound to each
request's plan; every value goes through the same checks as ``value_of``, and data that
does not fit its type raises ``NotAsPromised`` so that graphql-core answers the field and
reports it.
"""

from __future__ import annotations

import enum
import keyword
from dataclasses import dataclass, field
from decimal import Decimal
from math import isfinite
from typing import Any

from graphql import GraphQLBoolean, GraphQLFloat, GraphQLID, GraphQLString, Undefined


class Kind(enum.Enum):
    GENERAL = "general"  # graphql-core's path
    TYPENAME = "typename"
    LEAF = "leaf"
    OBJECT = "object"
    LIST = "list"  # of objects
    READY = "ready"  # an object loaded ahead


@dataclass(eq=False, slots=True)
class Field:
    response_name: str
    kind: Kind
    details: Any = None  # graphql-core's FieldDetailsList, for the general path
    attribute: str = ""  # what a plain field reads; for __typename, the type's name
    nullable: bool = True
    coerce: Any = None
    items_nullable: bool = True
    plan: Plan | None = None
    find: Any = None
    arguments: dict[str, Any] | None = None
    #: Values of exactly this class are their own output (a str for String and ID).
    passthrough: type | None = None


@dataclass(eq=False, slots=True)
class Plan:
    is_type_of: Any = None
    fields: list[Field] = field(default_factory=list)
    #: ``complete(source, context)``: the object's answer; set on plain plans only.
    complete: Any = None

    @property
    def plain(self) -> bool:
        return all(f.kind is not Kind.GENERAL for f in self.fields)


class Answered:
    """A field's answer written ahead of time (schema/contact_json.py), for the selection
    ``shape`` it was written for. A ``READY`` field gives it out as it is when its plan is
    that selection; otherwise the field is answered the ordinary way."""

    __slots__ = ("answer", "checked", "shape")

    def __init__(self, answer: Any, shape: Any, checked: dict[int, bool]) -> None:
        self.answer = answer
        self.shape = shape
        #: Plans already compared with ``shape`` (by id; plans live as long as the request).
        self.checked = checked

    def answer_for(self, plan: Plan) -> Any:
        fits = self.checked.get(id(plan))
        if fits is None:
            fits = self.checked[id(plan)] = shape_of(plan) == self.shape
        if not fits:
            raise NotAsPromised
        return self.answer


def shape_of(plan: Plan) -> tuple[Any, ...]:
    """A plan's selection: (response name, field name, the sub-selection's shape) each."""
    return tuple(
        (
            f.response_name,
            f.details[0].node.name.value,
            None if f.plan is None else shape_of(f.plan),
        )
        for f in plan.fields
    )


_BUILT_IN = (GraphQLString, GraphQLID, GraphQLBoolean, GraphQLFloat)
_PASSTHROUGH: dict[str, type] = {"String": str, "ID": str, "Boolean": bool}


def _float_output(coerce: Any) -> Any:
    """graphql-core's Float output, with a short way for Decimal (numeric columns): the
    same finite float, without its five type tests first."""

    def output(value: Any) -> Any:
        if value.__class__ is Decimal:
            number = float(value)
            if isfinite(number):
                return number
        return coerce(value)

    return output


def leaf_field(
    response_name: str, details: Any, attribute: str, nullable: bool, output: Any
) -> Field:
    """A plain scalar or enum field reading ``attribute``, coerced by ``output``."""
    leaf = Field(response_name, Kind.LEAF, details, attribute, nullable, output.coerce_output_value)
    # graphql-core's String and ID give a str back unchanged, Boolean a bool.
    leaf.passthrough = _PASSTHROUGH.get(output.name) if output in _BUILT_IN else None
    if output is GraphQLFloat:
        leaf.coerce = _float_output(output.coerce_output_value)
    return leaf


class NotAsPromised(Exception):
    """The data does not fit the type; graphql-core will answer the field and say why."""


def _leaf(f: Field, value: Any) -> Any:
    """A scalar or enum answer, coerced by its type (``value`` is not its own output)."""
    if value is None:
        if f.nullable:
            return None
        raise NotAsPromised
    coerced = f.coerce(value)
    if coerced is None or coerced is Undefined:
        raise NotAsPromised
    return coerced


# Module constants: the kind tests run for every field of an answer.
_LEAF, _TYPENAME, _READY, _LIST = Kind.LEAF, Kind.TYPENAME, Kind.READY, Kind.LIST


def value_of(f: Field, source: Any, context: Any) -> Any:
    """Field ``f``'s answer on ``source``, interpreting its kind (the executor's path for
    the fields of an object it completes itself; generated completions inline this)."""
    kind = f.kind
    if kind is _LEAF:  # most fields: tested first
        value = getattr(source, f.attribute)
        if value.__class__ is f.passthrough:
            return value
        return _leaf(f, value)
    if kind is _TYPENAME:
        return f.attribute
    if kind is _READY:
        value = f.find(context, source, f.arguments)
        if value is None:  # not loaded ahead: the field's resolver answers it
            raise NotAsPromised
        if value.__class__ is Answered:
            assert f.plan is not None
            return value.answer_for(f.plan)
    else:
        value = getattr(source, f.attribute)
    if value is None:
        if f.nullable:
            return None
        raise NotAsPromised
    plan = f.plan
    assert plan is not None
    complete = plan.complete
    if kind is not _LIST:
        return complete(value, context)
    if not isinstance(value, list | tuple):
        raise NotAsPromised
    return [complete(item, context) if item is not None else _missing(f) for item in value]


_COMPLETIONS: dict[tuple[Any, ...], Any] = {}
#: Shapes include the query's aliases, so the number of them is up to clients: bounded.
MAX_COMPLETIONS = 256


def compiled_completion(plan: Plan) -> Any:
    """``plan.complete``: a function ``(source, context) -> dict`` for a plain plan."""
    shape = (
        plan.is_type_of is not None,
        tuple(
            (f.response_name, f.kind, f.attribute, f.passthrough, f.nullable, f.plan is None)
            for f in plan.fields
        ),
    )
    factory = _COMPLETIONS.get(shape)
    if factory is None:
        if len(_COMPLETIONS) >= MAX_COMPLETIONS:
            _COMPLETIONS.clear()
        factory = _completion_factory(plan)
        _COMPLETIONS[shape] = factory
    return factory(plan.is_type_of, plan.fields)


def _completion_factory(plan: Plan) -> Any:
    lines = ["def factory(is_type_of, fields):"]
    names = [f"f{n}" for n in range(len(plan.fields))]
    if names:
        lines.append(f"    {', '.join(names)}, = fields")
    for name, f in zip(names, plan.fields, strict=True):
        if f.plan is not None:
            lines.append(f"    c_{name} = {name}.plan.complete")
    lines.append("    def complete(source, context):")
    if plan.is_type_of is not None:
        lines.append("        if is_type_of(source, None) is not True:")
        lines.append("            raise NotAsPromised")
    for name, f in zip(names, plan.fields, strict=True):
        lines.extend(f"        {line}" for line in _value_lines(name, f))
    entries = ", ".join(
        f"{f.response_name!r}: v_{name}" for name, f in zip(names, plan.fields, strict=True)
    )
    lines.append(f"        return {{{entries}}}")
    lines.append("    return complete")
    namespace: dict[str, Any] = {
        "NotAsPromised": NotAsPromised,
        "Answered": Answered,
        "leaf": _leaf,
        "missing": _missing,
        "str": str,
        "bool": bool,
    }
    exec(compile("\n".join(lines), "<plain completion>", "exec"), namespace)
    return namespace["factory"]


def _value_lines(name: str, f: Field) -> list[str]:
    """Statements that leave field ``name``'s answer in ``v_<name>`` (``c_<name>`` is its
    plan's completion, for objects and lists)."""
    v = f"v_{name}"
    if f.kind is Kind.TYPENAME:
        return [f"{v} = {f.attribute!r}"]
    if f.kind is Kind.READY:
        read = f"{name}.find(context, source, {name}.arguments)"
    else:
        plain = f.attribute.isidentifier() and not keyword.iskeyword(f.attribute)
        read = f"source.{f.attribute}" if plain else f"getattr(source, {f.attribute!r})"
    if f.kind is Kind.LEAF:
        if f.passthrough is None:
            return [f"{v} = leaf({name}, {read})"]
        return [f"{v} = {read}", f"if {v}.__class__ is not {f.passthrough.__name__}:",
                f"    {v} = leaf({name}, {v})"]  # fmt: skip
    lines = [f"{v} = {read}", f"if {v} is None:"]
    if f.kind is Kind.READY:  # not loaded ahead: the field's resolver answers it
        lines.append("    raise NotAsPromised")
    elif f.nullable:
        lines.append("    pass")
    else:
        lines.append("    raise NotAsPromised")
    if f.kind is Kind.READY:
        lines += [f"elif {v}.__class__ is Answered:", f"    {v} = {v}.answer_for({name}.plan)"]
    if f.kind is not Kind.LIST:
        return [*lines, "else:", f"    {v} = c_{name}({v}, context)"]
    return [
        *lines,
        f"elif not isinstance({v}, list | tuple):",
        "    raise NotAsPromised",
        "else:",
        f"    {v} = [c_{name}(item, context) if item is not None else missing({name})"
        f" for item in {v}]",
    ]


def _missing(f: Field) -> Any:
    """A null item of a list: None where the list's type allows it, else data not as
    promised."""
    if f.items_nullable:
        return None
    raise NotAsPromised
