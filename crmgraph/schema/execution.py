"""Execution of plain fields without a resolver call.

Most of a large answer is plain data read straight off domain objects: a contact's
``email``, its ``organization`` and that organization's ``name``, the ``nodes`` of a page.
graphql-core resolves each field through its general path (a resolve-info object,
strawberry's default resolver, value completion, a response path), about 3 µs per field,
which was most of the CPU of a 100-item page.

A field is *plain* when strawberry marks it as basic (no resolver, no field extension)
and it takes no arguments: its answer is the attribute of the same name. This executor
answers plain fields itself:

- a scalar or enum is the attribute coerced by its type;
- an object, or a list of objects, whose selected fields are all plain again is
  completed by a function generated for its selection (see "compiled completion"
  below): the plan for each selection set is worked out once per request, the function
  once per selection shape.

Everything else goes through graphql-core, which also gets the field back whenever the
data is not what the type promises (a null in a non-null field, a value the type
rejects, something that is not a list), so errors are reported exactly as before.
Reading a plain field has no side effects, so answering it a second time that way is safe.
"""

from __future__ import annotations

import enum
import keyword
from collections.abc import Awaitable
from dataclasses import dataclass, field
from decimal import Decimal
from math import isfinite
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    Undefined,
    is_leaf_type,
)
from graphql.execution.values import get_argument_values
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

#: Field metadata: ``find(context, source, arguments)`` returns the field's answer when it
#: was loaded ahead (schema/lookahead.py), else None; arguments are graphql-core's coerced
#: values by GraphQL name. Such a field is plain whenever ``find`` has its answer.
READY = "ready_value"


class _Kind(enum.Enum):
    GENERAL = "general"  # graphql-core's path
    TYPENAME = "typename"
    LEAF = "leaf"
    OBJECT = "object"
    LIST = "list"  # of objects
    READY = "ready"  # an object loaded ahead


@dataclass(eq=False, slots=True)
class _Field:
    response_name: str
    kind: _Kind
    details: Any = None  # graphql-core's FieldDetailsList, for the general path
    attribute: str = ""  # what a plain field reads; for __typename, the type's name
    nullable: bool = True
    coerce: Any = None
    items_nullable: bool = True
    plan: _Plan | None = None
    find: Any = None
    arguments: dict[str, Any] | None = None
    #: Values of exactly this class are their own output (a str for String and ID).
    passthrough: type | None = None


@dataclass(eq=False, slots=True)
class _Plan:
    is_type_of: Any = None
    fields: list[_Field] = field(default_factory=list)
    #: ``complete(source, context)``: the object's answer; set on plain plans only.
    complete: Any = None

    @property
    def plain(self) -> bool:
        return all(f.kind is not _Kind.GENERAL for f in self.fields)


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


class _NotAsPromised(Exception):
    """The data does not fit the type; graphql-core will answer the field and say why."""


def _strawberry_field(definition: GraphQLField) -> Any:
    strawberry_field = (definition.extensions or {}).get("strawberry-definition")
    if strawberry_field is None or definition.resolve is None:
        return None
    return strawberry_field


def _attribute(definition: GraphQLField) -> str | None:
    """The attribute a plain field reads, or None when the field is not plain."""
    strawberry_field = _strawberry_field(definition)
    # ``_is_default`` is how strawberry marks the resolver it builds for a basic field.
    if strawberry_field is None or definition.args:
        return None
    if not getattr(definition.resolve, "_is_default", False):
        return None
    if not strawberry_field.is_basic_field:
        return None
    name: str = strawberry_field.python_name
    return name


def ready_finder(definition: GraphQLField) -> Any:
    """The field's ``READY`` lookup, if its metadata names one."""
    strawberry_field = _strawberry_field(definition)
    return None if strawberry_field is None else strawberry_field.metadata.get(READY)


def _unwrap(output: GraphQLOutputType) -> tuple[GraphQLOutputType, bool]:
    if isinstance(output, GraphQLNonNull):
        return output.of_type, False
    return output, True


def _leaf(f: _Field, value: Any) -> Any:
    """A scalar or enum answer, coerced by its type (``value`` is not its own output)."""
    if value is None:
        if f.nullable:
            return None
        raise _NotAsPromised
    coerced = f.coerce(value)
    if coerced is None or coerced is Undefined:
        raise _NotAsPromised
    return coerced


# Module constants: the kind tests run for every field of an answer.
_LEAF, _TYPENAME, _READY, _LIST = _Kind.LEAF, _Kind.TYPENAME, _Kind.READY, _Kind.LIST


def _value(f: _Field, source: Any, context: Any) -> Any:
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
            raise _NotAsPromised
    else:
        value = getattr(source, f.attribute)
    if value is None:
        if f.nullable:
            return None
        raise _NotAsPromised
    plan = f.plan
    assert plan is not None
    complete = plan.complete
    if kind is not _LIST:
        return complete(value, context)
    if not isinstance(value, list | tuple):
        raise _NotAsPromised
    items: list[Any] = []
    for item in value:
        if item is None:
            if not f.items_nullable:
                raise _NotAsPromised
            items.append(None)
        else:
            items.append(complete(item, context))
    return items


class DirectLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor with a direct path for plain fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # A schema extension that wraps every resolver must see every field.
        self._direct = manager is None or not manager.middlewares
        # Like graphql-core's own memo of sub-selections: by the identity of the grouped
        # field set, which is kept alive beside its plan so that the id stays unique.
        self._plans: dict[tuple[str, int], tuple[Any, _Plan]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if not self._direct:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        plan = self._plan(parent_type, grouped_field_set)
        direct: dict[str, Any] = {}
        general: dict[str, Any] = {}
        for f in plan.fields:
            if f.kind is _Kind.GENERAL:
                general[f.response_name] = f.details
                continue
            try:
                direct[f.response_name] = _value(f, source_value, self.context_value)
            except Exception:  # graphql-core answers it again and reports what is wrong
                general[f.response_name] = f.details
        if not general:
            return direct
        rest = super().execute_fields(parent_type, source_value, path, general, position_context)
        if self.is_awaitable(rest):
            return _merge_later(grouped_field_set, direct, rest)
        return _merge(grouped_field_set, direct, rest)

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> _Plan:
        key = (parent_type.name, id(grouped_field_set))
        known = self._plans.get(key)
        if known is not None:
            return known[1]
        plan = _Plan(parent_type.is_type_of)
        for response_name, details in grouped_field_set.items():
            plan.fields.append(self._field(parent_type, response_name, details))
        self._plans[key] = (grouped_field_set, plan)
        return plan

    def _field(self, parent_type: GraphQLObjectType, response_name: str, details: Any) -> _Field:
        general = _Field(response_name, _Kind.GENERAL, details)
        node = details[0].node
        if node.name.value == "__typename":
            return _Field(response_name, _Kind.TYPENAME, details, parent_type.name)
        definition = parent_type.fields.get(node.name.value)
        if definition is None:
            return general
        find = ready_finder(definition)
        attribute = _attribute(definition)
        if find is None and attribute is None:
            return general
        output, nullable = _unwrap(definition.type)
        if find is not None:
            arguments = self._arguments(definition, details)
            sub = self._object_plan(output, details)
            if arguments is None or sub is None:
                return general
            return _Field(
                response_name, _Kind.READY, details, "", nullable, plan=sub, find=find,
                arguments=arguments,
            )  # fmt: skip
        assert attribute is not None
        if is_leaf_type(output):
            assert isinstance(output, GraphQLLeafType)
            leaf = _Field(
                response_name, _Kind.LEAF, details, attribute, nullable, output.coerce_output_value
            )
            # graphql-core's String and ID give a str back unchanged, Boolean a bool.
            leaf.passthrough = _PASSTHROUGH.get(output.name) if output in _BUILT_IN else None
            if output is GraphQLFloat:
                leaf.coerce = _float_output(output.coerce_output_value)
            return leaf
        kind, items_nullable = _Kind.OBJECT, True
        if isinstance(output, GraphQLList):
            kind = _Kind.LIST
            output, items_nullable = _unwrap(output.of_type)
        sub = self._object_plan(output, details)
        if sub is None:
            return general
        return _Field(response_name, kind, details, attribute, nullable, None, items_nullable, sub)

    def _arguments(self, definition: GraphQLField, details: Any) -> dict[str, Any] | None:
        """The field's coerced arguments (the same for every object of the selection)."""
        try:
            arguments: dict[str, Any] = get_argument_values(
                definition,
                details[0].node,
                self.variable_values,
                details[0].fragment_variable_values,
                self.hide_suggestions,
            )
        except Exception:  # graphql-core's path reports the bad argument
            return None
        return arguments

    def _object_plan(self, output: GraphQLOutputType, details: Any) -> _Plan | None:
        """The plan of a plain object's selection, when all of it is plain."""
        if not isinstance(output, GraphQLObjectType):
            return None
        collected = self.collect_subfields(output, details)
        if collected.new_defer_usages:
            return None
        plan = self._plan(output, collected.grouped_field_set)
        if not plan.plain:
            return None
        if plan.complete is None:
            plan.complete = compiled_completion(plan)
        return plan


def _merge(order: Any, direct: dict[str, Any], rest: dict[str, Any]) -> dict[str, Any]:
    """Both halves of an object's answer, in the order the query asked for its fields."""
    if not direct:
        return rest
    return {
        name: direct[name] if name in direct else rest[name]
        for name in order
        if name in direct or name in rest
    }


async def _merge_later(
    order: Any, direct: dict[str, Any], rest: Awaitable[dict[str, Any]]
) -> dict[str, Any]:
    return _merge(order, direct, await rest)


# ------------------------------------------------------------------ compiled completion
#
# A plain object's answer is a dict of its fields in query order. Interpreting the plan
# field by field (``_value`` for each) was a fifth of the CPU of a 100-issue page; the
# same steps written out as one function per selection shape take half as long. The
# function is generated once per shape (field names, kinds, attributes) and bound to
# each request's plan; every value goes through the same checks as ``_value``.

_COMPLETIONS: dict[tuple[Any, ...], Any] = {}
#: Shapes include the query's aliases, so the number of them is up to clients: bounded.
MAX_COMPLETIONS = 256


def compiled_completion(plan: _Plan) -> Any:
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


def _completion_factory(plan: _Plan) -> Any:
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
        "NotAsPromised": _NotAsPromised,
        "leaf": _leaf,
        "missing": _missing,
        "str": str,
        "bool": bool,
    }
    exec(compile("\n".join(lines), "<plain completion>", "exec"), namespace)
    return namespace["factory"]


def _value_lines(name: str, f: _Field) -> list[str]:
    """Statements that leave field ``name``'s answer in ``v_<name>`` (``c_<name>`` is its
    plan's completion, for objects and lists)."""
    v = f"v_{name}"
    if f.kind is _Kind.TYPENAME:
        return [f"{v} = {f.attribute!r}"]
    if f.kind is _Kind.READY:
        read = f"{name}.find(context, source, {name}.arguments)"
    else:
        plain = f.attribute.isidentifier() and not keyword.iskeyword(f.attribute)
        read = f"source.{f.attribute}" if plain else f"getattr(source, {f.attribute!r})"
    if f.kind is _Kind.LEAF:
        if f.passthrough is None:
            return [f"{v} = leaf({name}, {read})"]
        return [f"{v} = {read}", f"if {v}.__class__ is not {f.passthrough.__name__}:",
                f"    {v} = leaf({name}, {v})"]  # fmt: skip
    lines = [f"{v} = {read}", f"if {v} is None:"]
    if f.kind is _Kind.READY:  # not loaded ahead: the field's resolver answers it
        lines.append("    raise NotAsPromised")
    elif f.nullable:
        lines.append("    pass")
    else:
        lines.append("    raise NotAsPromised")
    if f.kind is not _Kind.LIST:
        return [*lines, "else:", f"    {v} = c_{name}({v}, context)"]
    return [
        *lines,
        f"elif not isinstance({v}, list | tuple):",
        "    raise NotAsPromised",
        "else:",
        f"    {v} = [c_{name}(item, context) if item is not None else missing({name})"
        f" for item in {v}]",
    ]


def _missing(f: _Field) -> None:
    """A null item of a list: allowed by the list's type, or data not as promised."""
    if f.items_nullable:
        return None
    raise _NotAsPromised
