"""Depth and complexity of an operation, counted as GitLab counts them (spec §10).

A field costs 1 plus the cost of its selection; a connection field's cost is then
increased by ``cost * min(requested page size, 100) * 0.01`` (no page size requested:
100), so a 100-item page doubles it. Fields selected twice under one response key count
once (they are merged, as in execution); on a union or interface the most expensive
member counts. The total is kept exact and rounded up. Introspection (``__schema``,
``__type``) costs nothing: it reads no data (it still counts for depth). The limits
that use these numbers are in ``crmgraph/schema/limits.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
    is_abstract_type,
    is_composite_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef
from graphql.utilities import value_from_ast_untyped

from crmgraph.domain.pagination import MAX_PAGE_SIZE


@dataclass(frozen=True)
class Measure:
    depth: int
    complexity: int
    #: False when the walk stopped at its budget: both numbers are then lower bounds.
    complete: bool = True


class _OverBudget(Exception):
    pass


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any] | None,
        budget: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments(document)
        self.variables = dict(variables or {})
        for definition in operation.variable_definitions or ():
            name = definition.variable.name.value
            if name not in self.variables and definition.default_value is not None:
                self.variables[name] = value_from_ast_untyped(definition.default_value)
        self.budget = budget
        self.fields = 0
        self.deepest = 0

    def selection(
        self, sets: Sequence[SelectionSetNode], parent: GraphQLNamedType, level: int
    ) -> Fraction:
        runtimes: Sequence[GraphQLObjectType]
        if is_abstract_type(parent):
            runtimes = self.schema.get_possible_types(parent)
        elif isinstance(parent, GraphQLObjectType):
            runtimes = [parent]
        else:
            return Fraction(0)
        costs = [Fraction(0)]
        for runtime in runtimes:
            grouped = self.collect(sets, runtime, {}, set())
            costs.append(
                sum((self.field(runtime, nodes, level) for nodes in grouped.values()), Fraction(0))
            )
        return max(costs)

    def collect(
        self,
        sets: Sequence[SelectionSetNode],
        runtime: GraphQLObjectType,
        into: dict[str, list[FieldNode]],
        spread: set[str],
    ) -> dict[str, list[FieldNode]]:
        """Fields by response key, as execution merges them for ``runtime``."""
        for selection_set in sets:
            for selection in selection_set.selections:
                if not self.included(selection):
                    continue
                if isinstance(selection, FieldNode):
                    into.setdefault(response_key(selection), []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if self.applies(selection.type_condition, runtime):
                        self.collect([selection.selection_set], runtime, into, spread)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if name in spread or fragment is None:
                        continue
                    spread.add(name)
                    if self.applies(fragment.type_condition, runtime):
                        self.collect([fragment.selection_set], runtime, into, spread)
        return into

    def field(self, runtime: GraphQLObjectType, nodes: list[FieldNode], level: int) -> Fraction:
        self.fields += 1
        if self.fields > self.budget:
            raise _OverBudget
        self.deepest = max(self.deepest, level)
        definition = self.definition(runtime, nodes[0].name.value)
        cost = Fraction(1)
        if definition is None:
            return cost
        children = [node.selection_set for node in nodes if node.selection_set is not None]
        named = get_named_type(definition.type)
        if children and is_composite_type(named):
            cost += self.selection(children, named, level + 1)
        if _is_connection(definition):
            cost += cost * self.page_size(nodes[0]) / 100
        if definition in (SchemaMetaFieldDef, TypeMetaFieldDef):
            # The schema is in memory, no database work: GraphiQL's introspection query
            # must work for anonymous users too. Its nesting is bounded by depth and by
            # MaxIntrospectionDepthRule.
            return Fraction(0)
        return cost

    def definition(self, runtime: GraphQLObjectType, name: str) -> GraphQLField | None:
        if name == "__typename":
            return TypeNameMetaFieldDef
        if runtime is self.schema.query_type and name in ("__schema", "__type"):
            return SchemaMetaFieldDef if name == "__schema" else TypeMetaFieldDef
        return runtime.fields.get(name)

    def page_size(self, node: FieldNode) -> int:
        requested = [
            value
            for value in (self.argument(node, "first"), self.argument(node, "last"))
            if isinstance(value, int) and not isinstance(value, bool)
        ]
        return max(0, min([*requested, MAX_PAGE_SIZE]))

    def argument(self, node: FieldNode | DirectiveNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                return value_from_ast_untyped(argument.value, self.variables)
        return None

    def included(self, selection: SelectionNode) -> bool:
        for directive in selection.directives or ():
            if directive.name.value == "skip" and self.argument(directive, "if") is True:
                return False
            if directive.name.value == "include" and self.argument(directive, "if") is False:
                return False
        return True

    def applies(self, condition: NamedTypeNode | None, runtime: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        named = self.schema.get_type(condition.name.value)
        if named is runtime:
            return True
        return (
            named is not None
            and is_abstract_type(named)
            and self.schema.is_sub_type(named, runtime)
        )


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
    *,
    budget: int = 100_000,
) -> Measure | None:
    """Depth and complexity of the operation that would run; None if there is none."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    root = schema.get_root_type(operation.operation)
    if root is None:
        return None
    walk = _Walk(schema, document, operation, variables, budget)
    try:
        complexity = walk.selection([operation.selection_set], root, 1)
    except _OverBudget:
        return Measure(depth=walk.deepest, complexity=walk.fields - 1, complete=False)
    return Measure(depth=walk.deepest, complexity=math.ceil(complexity))


def fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


def response_key(node: FieldNode) -> str:
    return node.alias.value if node.alias is not None else node.name.value


def _is_connection(definition: GraphQLField) -> bool:
    named = get_named_type(definition.type)
    return (
        isinstance(named, GraphQLObjectType)
        and named.name.endswith("Connection")
        and "first" in definition.args
    )
