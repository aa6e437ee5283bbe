"""Execution of plain scalar fields without a resolver call.

Most fields of a large answer are scalars read straight off a domain object (a contact's
``email``, an issue's ``title``). graphql-core resolves each through the general path:
a resolve-info object, strawberry's default resolver, then value completion — about
3 µs per field, which is most of the CPU of a 100-item page. For a field that strawberry
itself marks as basic (no resolver, no arguments, no field extension) and whose type is
a scalar or an enum, the answer is the attribute coerced by the type, so this executor
computes exactly that, and hands the object's other fields to graphql-core. Anything
unusual (a null in a non-null field, a value the type rejects, a schema extension that
wraps resolvers) takes graphql-core's own path, which reports the error as it always does.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, NamedTuple

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    Undefined,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class _Leaf(NamedTuple):
    attribute: str
    coerce: Any
    nullable: bool


#: Marks a value the direct path leaves to graphql-core (``None`` is a valid answer).
_GENERAL = object()


def _leaf(field: GraphQLField) -> _Leaf | None:
    definition = (field.extensions or {}).get("strawberry-definition")
    # ``_is_default`` is how strawberry marks the resolver it builds for a basic field.
    if definition is None or field.args or not getattr(field.resolve, "_is_default", False):
        return None
    if not definition.is_basic_field:
        return None
    nullable = not isinstance(field.type, GraphQLNonNull)
    leaf_type = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    if not is_leaf_type(leaf_type):
        return None
    assert isinstance(leaf_type, GraphQLLeafType)
    return _Leaf(definition.python_name, leaf_type.coerce_output_value, nullable)


def _plans(parent_type: GraphQLObjectType) -> dict[str, _Leaf]:
    """The direct fields of a type, by GraphQL name; worked out once per type."""
    plans: dict[str, _Leaf] | None = getattr(parent_type, _PLANS, None)
    if plans is None:
        plans = {}
        for name, field in parent_type.fields.items():
            leaf = _leaf(field)
            if leaf is not None:
                plans[name] = leaf
        setattr(parent_type, _PLANS, plans)
    return plans


def _value(leaf: _Leaf, source: Any) -> Any:
    value = getattr(source, leaf.attribute, None)
    if value is None:
        return None if leaf.nullable else _GENERAL
    try:
        coerced = leaf.coerce(value)
    except Exception:  # the general path reports it properly
        return _GENERAL
    return _GENERAL if coerced is None or coerced is Undefined else coerced


_PLANS = "_crmgraph_direct_fields"


class DirectLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor with a direct path for basic scalar fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # A schema extension that wraps every resolver must see every field.
        self._direct = manager is None or not manager.middlewares

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        plans = _plans(parent_type) if self._direct else None
        if not plans:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        direct: dict[str, Any] = {}
        general: dict[str, Any] = {}
        for response_name, field_details_list in grouped_field_set.items():
            leaf = plans.get(field_details_list[0].node.name.value)
            value = _GENERAL if leaf is None else _value(leaf, source_value)
            if value is _GENERAL:
                general[response_name] = field_details_list
            else:
                direct[response_name] = value
        if not general:
            return direct
        rest = super().execute_fields(parent_type, source_value, path, general, position_context)
        if self.is_awaitable(rest):
            return _merge_later(grouped_field_set, direct, rest)
        return _merge(grouped_field_set, direct, rest)


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
