"""Query limits: depth, complexity, aliases, directives and repeated fields (spec §10).

Checked in this order, cheapest first, so that a hostile document is refused before it
costs much: the document's shape (aliases, directives, repeated fields), then the
standard validation (cached per query text), then depth and complexity, which depend on
the caller (anonymous or authenticated) and on the variables (page sizes, ``@skip``).
The length of the query text and its number of tokens are bounded before parsing
(``crmgraph/graphql_http.py`` and strawberry's ``MaxTokensLimiter``).

Complexity is counted as GitLab counts it: a field costs 1 plus the cost of its
selection; a connection field's cost is then increased by
``cost * min(requested page size, 100) * 0.01`` (no page size requested: 100), so a
100-item page doubles it. Fields selected twice under one response key count once (they
are merged, as in execution); on a union or interface the most expensive member counts.
The total is kept exact and rounded up. Introspection (``__schema``, ``__type``) costs
nothing: it reads no data (it still counts for depth).
"""

from __future__ import annotations

import json
import math
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from graphql import (
    ASTValidationRule,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    Visitor,
    get_named_type,
    get_operation_ast,
    is_abstract_type,
    is_composite_type,
    validate,
    visit,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef
from graphql.utilities import value_from_ast_untyped
from graphql.validation import MaxIntrospectionDepthRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from crmgraph.domain.pagination import MAX_PAGE_SIZE

#: Complexity is computed exactly up to this many times the larger maximum; beyond, the
#: walk stops and the message says "more than", so a fragment bomb costs little.
WALK_BUDGET_FACTOR = 10


@dataclass(frozen=True)
class QueryLimits:
    max_depth_anonymous: int = 15
    max_depth_authenticated: int = 20
    max_complexity_anonymous: int = 200
    max_complexity_authenticated: int = 250
    max_aliases: int = 30
    max_directives: int = 50
    max_field_repeats: int = 20
    max_tokens: int = 2_000
    #: Off: ``__schema`` and ``__type`` are refused and no error suggests a name.
    introspection: bool = True

    def max_depth(self, authenticated: bool) -> int:
        return self.max_depth_authenticated if authenticated else self.max_depth_anonymous

    def max_complexity(self, authenticated: bool) -> int:
        if authenticated:
            return self.max_complexity_authenticated
        return self.max_complexity_anonymous


# ---------------------------------------------------------------- the document's shape


class _ShapeCounter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.aliases = 0
        self.directives = 0

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.alias is not None:
            self.aliases += 1

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        self.directives += 1


class _RepeatCounter:
    """Response keys per selection set, fragments flattened in (each counted where spread)."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = _fragments(document)
        self.memo: dict[str, Counter[str]] = {}
        self.in_progress: set[str] = set()

    def keys(self, selection_set: SelectionSetNode) -> Counter[str]:
        counted: Counter[str] = Counter()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                counted[_response_key(selection)] += 1
            elif isinstance(selection, InlineFragmentNode):
                counted.update(self.keys(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                counted.update(self.fragment_keys(selection.name.value))
        return counted

    def fragment_keys(self, name: str) -> Counter[str]:
        if name in self.memo:
            return self.memo[name]
        fragment = self.fragments.get(name)
        # A cycle is a validation error of its own; here it just counts nothing.
        if fragment is None or name in self.in_progress:
            return Counter()
        self.in_progress.add(name)
        self.memo[name] = self.keys(fragment.selection_set)
        self.in_progress.discard(name)
        return self.memo[name]


class _SelectionSets(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[SelectionSetNode] = []

    def enter_selection_set(self, node: SelectionSetNode, *_: Any) -> None:
        self.found.append(node)


def shape_errors(document: DocumentNode, limits: QueryLimits) -> list[GraphQLError]:
    """Too many aliases, directives, or one field repeated too often in a selection set."""
    counter = _ShapeCounter()
    visit(document, counter)
    errors = []
    if counter.aliases > limits.max_aliases:
        errors.append(
            GraphQLError(
                f"Query has {counter.aliases} aliases, "
                f"which exceeds the maximum of {limits.max_aliases}"
            )
        )
    if counter.directives > limits.max_directives:
        errors.append(
            GraphQLError(
                f"Query has {counter.directives} directives, "
                f"which exceeds the maximum of {limits.max_directives}"
            )
        )
    sets = _SelectionSets()
    visit(document, sets)
    repeats = _RepeatCounter(document)
    for selection_set in sets.found:
        counted = repeats.keys(selection_set)
        if not counted:
            continue
        key, times = counted.most_common(1)[0]
        if times > limits.max_field_repeats:
            errors.append(
                GraphQLError(
                    f"Field '{key}' is selected {times} times in one selection set, "
                    f"which exceeds the maximum of {limits.max_field_repeats}",
                    selection_set,
                )
            )
            break
    return errors


# ---------------------------------------------------------------- depth and complexity


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
        self.fragments = _fragments(document)
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
                    into.setdefault(_response_key(selection), []).append(selection)
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


def measure_errors(
    found: Measure, limits: QueryLimits, *, authenticated: bool
) -> list[GraphQLError]:
    """GitLab's messages for a query too deep or too complex."""
    errors = []
    max_depth = limits.max_depth(authenticated)
    if found.depth > max_depth:
        depth = found.depth if found.complete else f"more than {found.depth}"
        errors.append(
            GraphQLError(f"Query has depth of {depth}, which exceeds max depth of {max_depth}")
        )
    max_complexity = limits.max_complexity(authenticated)
    if found.complexity > max_complexity:
        complexity = found.complexity if found.complete else f"more than {found.complexity}"
        errors.append(
            GraphQLError(
                f"Query has complexity of {complexity}, "
                f"which exceeds max complexity of {max_complexity}"
            )
        )
    return errors


# ---------------------------------------------------------------- the extension


class _Lru:
    """A bounded memo: the least recently used entry goes first."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        value = self._entries[key] = compute()
        if len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)
        return value


class StaticChecks:
    """What depends on the query text (and variables) alone, worked out once per text:
    shape and validation errors, and the measure of depth and complexity."""

    def __init__(self, limits: QueryLimits, maxsize: int = 1000) -> None:
        self.limits = limits
        # graphql-core recommends, without enforcing, the bound on nested introspection
        # (``__type { fields { type { fields ...`` grows with every level).
        self.extra_rules: tuple[type[ASTValidationRule], ...] = (
            (MaxIntrospectionDepthRule,)
            if limits.introspection
            else (MaxIntrospectionDepthRule, NoSchemaIntrospectionCustomRule)
        )
        self.budget = WALK_BUDGET_FACTOR * max(
            limits.max_complexity_anonymous, limits.max_complexity_authenticated
        )
        self._errors = _Lru(maxsize)
        self._measures = _Lru(maxsize)

    def errors(
        self,
        query: str | None,
        document: DocumentNode,
        schema: GraphQLSchema,
        rules: Collection[type[ASTValidationRule]],
    ) -> list[GraphQLError]:
        rules = (*rules, *self.extra_rules)
        if query is None:
            return self._check(document, schema, rules)
        found: list[GraphQLError] = self._errors.get(
            (query, rules), lambda: self._check(document, schema, rules)
        )
        return found

    def measure(
        self,
        query: str | None,
        document: DocumentNode,
        schema: GraphQLSchema,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> Measure | None:
        """``measure`` of the operation; variables count (``@skip``, ``first``)."""

        def compute() -> Measure | None:
            return measure(schema, document, operation_name, variables, budget=self.budget)

        key = None if query is None else _variables_key(variables)
        if key is None:
            return compute()
        found: Measure | None = self._measures.get((query, operation_name, key), compute)
        return found

    def _check(
        self, document: DocumentNode, schema: GraphQLSchema, rules: tuple[type, ...]
    ) -> list[GraphQLError]:
        return shape_errors(document, self.limits) or validate(
            schema, document, rules, hide_suggestions=not self.limits.introspection
        )


def _variables_key(variables: Mapping[str, Any] | None) -> str | None:
    """Variables as a key; None when they are not plain JSON (then nothing is cached).
    The standard library's encoder, because it keeps NaN apart from null."""
    try:
        return json.dumps(variables or {}, sort_keys=True)
    except (TypeError, ValueError):
        return None


class QueryLimitsExtension(SchemaExtension):
    """Validation with the limits, in place of strawberry's own validation step."""

    def __init__(self, limits: QueryLimits, checks: StaticChecks) -> None:
        self.limits = limits
        self.checks = checks

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        assert document is not None
        schema = ctx.schema._schema
        errors = self.checks.errors(ctx.query, document, schema, ctx.validation_rules)
        if not errors:
            authenticated = is_authenticated(ctx.context)
            found = self.checks.measure(
                ctx.query, document, schema, ctx.operation_name, ctx.variables
            )
            if found is not None:
                errors = measure_errors(found, self.limits, authenticated=authenticated)
        # Set (even empty): strawberry then skips its own validation run.
        ctx.pre_execution_errors = list(errors)
        yield


def is_authenticated(context: Any) -> bool:
    actor = getattr(context, "actor", None)
    return getattr(actor, "user", None) is not None


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


def _response_key(node: FieldNode) -> str:
    return node.alias.value if node.alias is not None else node.name.value


def _is_connection(definition: GraphQLField) -> bool:
    named = get_named_type(definition.type)
    return (
        isinstance(named, GraphQLObjectType)
        and named.name.endswith("Connection")
        and "first" in definition.args
    )
