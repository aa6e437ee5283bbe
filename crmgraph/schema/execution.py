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
  completed by a function generated for its selection (schema/completion.py): the plan
  for each selection set is worked out once per request, the function once per
  selection shape.

Everything else goes through graphql-core, which also gets the field back whenever the
data is not what the type promises (a null in a non-null field, a value the type
rejects, something that is not a list), so errors are reported exactly as before.
Reading a plain field has no side effects, so answering it a second time that way is safe.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
)
from graphql.execution.values import get_argument_values
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from crmgraph.schema.completion import (
    Field,
    Kind,
    Plan,
    compiled_completion,
    leaf_field,
    value_of,
)

#: Field metadata: ``find(context, source, arguments)`` returns the field's answer when it
#: was loaded ahead (schema/lookahead.py), else None; arguments are graphql-core's coerced
#: values by GraphQL name. Such a field is plain whenever ``find`` has its answer.
READY = "ready_value"


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


class DirectLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor with a direct path for plain fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # A schema extension that wraps every resolver must see every field.
        self._direct = manager is None or not manager.middlewares
        # Like graphql-core's own memo of sub-selections: by the identity of the grouped
        # field set, which is kept alive beside its plan so that the id stays unique.
        self._plans: dict[tuple[str, int], tuple[Any, Plan]] = {}
        # graphql-core's VariableValues: the coerced values decide what a plan holds.
        self._variables = _frozen(self.variable_values.coerced)

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
            if f.kind is Kind.GENERAL:
                general[f.response_name] = f.details
                continue
            try:
                direct[f.response_name] = value_of(f, source_value, self.context_value)
            except Exception:  # graphql-core answers it again and reports what is wrong
                general[f.response_name] = f.details
        if not general:
            return direct
        rest = super().execute_fields(parent_type, source_value, path, general, position_context)
        if self.is_awaitable(rest):
            return _merge_later(grouped_field_set, direct, rest)
        return _merge(grouped_field_set, direct, rest)

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> Plan:
        key = (parent_type.name, id(grouped_field_set))
        known = self._plans.get(key)
        if known is not None:
            return known[1]
        shared = self._shared_key(parent_type, grouped_field_set)
        kept = None if shared is None else _SHARED_PLANS.get(shared)
        if kept is not None:
            plan = kept[0]
        else:
            plan = Plan(parent_type.is_type_of)
            for response_name, details in grouped_field_set.items():
                plan.fields.append(self._field(parent_type, response_name, details))
            if shared is not None:
                if len(_SHARED_PLANS) >= MAX_SHARED_PLANS:
                    _SHARED_PLANS.clear()
                _SHARED_PLANS[shared] = (plan, (parent_type, grouped_field_set))
        self._plans[key] = (grouped_field_set, plan)
        return plan

    def _shared_key(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> Any:
        """The selection's key among all requests' plans, or None when it has none: the
        same type, the same field nodes (strawberry keeps a parsed document per query
        text, so a query sent again brings the same nodes) and the same variables. Not
        for ``@defer`` (its usages belong to one run) or fragment arguments."""
        if self._variables is None:
            return None
        fields = []
        for response_name, details in grouped_field_set.items():
            nodes = []
            for detail in details:
                if detail.defer_usage is not None or detail.fragment_variable_values is not None:
                    return None
                nodes.append(id(detail.node))
            fields.append((response_name, tuple(nodes)))
        return (id(parent_type), tuple(fields), self._variables)

    def _field(self, parent_type: GraphQLObjectType, response_name: str, details: Any) -> Field:
        general = Field(response_name, Kind.GENERAL, details)
        node = details[0].node
        if node.name.value == "__typename":
            return Field(response_name, Kind.TYPENAME, details, parent_type.name)
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
            return Field(
                response_name, Kind.READY, details, "", nullable, plan=sub, find=find,
                arguments=arguments,
            )  # fmt: skip
        assert attribute is not None
        if is_leaf_type(output):
            assert isinstance(output, GraphQLLeafType)
            return leaf_field(response_name, details, attribute, nullable, output)
        kind, items_nullable = Kind.OBJECT, True
        if isinstance(output, GraphQLList):
            kind = Kind.LIST
            output, items_nullable = _unwrap(output.of_type)
        sub = self._object_plan(output, details)
        if sub is None:
            return general
        return Field(response_name, kind, details, attribute, nullable, None, items_nullable, sub)

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

    def _object_plan(self, output: GraphQLOutputType, details: Any) -> Plan | None:
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


#: Plans by ``DirectLeafExecutionContext._shared_key``: working a selection's plan out took
#: about a tenth of a 100-issue page's execution, every request anew. Each is kept with
#: the type and the field set it was made from, which keeps the nodes whose ids the key
#: holds alive. Plans are not changed once made (``complete`` is set once, the same for
#: every request); what differs between requests, arguments included, is in the key.
_SHARED_PLANS: dict[Any, tuple[Plan, Any]] = {}
MAX_SHARED_PLANS = 512


def _frozen(value: Any) -> Any:
    """``value`` (coerced variables) as a hashable key, or None when part of it is not
    plain data."""
    if isinstance(value, dict):
        items = [(key, _frozen(item)) for key, item in sorted(value.items())]
        return None if any(item is None for _, item in items) else ("dict", tuple(items))
    if isinstance(value, list):
        frozen = [_frozen(item) for item in value]
        return None if any(item is None for item in frozen) else ("list", tuple(frozen))
    if value is None or isinstance(value, (str, int, float, bool)):
        # With its type: 1 and True are equal keys otherwise.
        return (type(value).__name__, value)
    return None


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
