"""Query limits: depth, complexity, aliases, directives and repeated fields (spec §10).

Checked in this order, cheapest first, so that a hostile document is refused before it
costs much: the document's shape (aliases, directives, repeated fields), then the
standard validation (cached per query text), then depth and complexity, which depend on
the caller (anonymous or authenticated) and on the variables (page sizes, ``@skip``).
The length of the query text and its number of tokens are bounded before parsing
(``crmgraph/web.py`` and strawberry's ``MaxTokensLimiter``).

How depth and complexity are counted is in ``crmgraph/schema/complexity.py``.
"""

from __future__ import annotations

import json
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    Visitor,
    validate,
    visit,
)
from graphql.validation import MaxIntrospectionDepthRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from crmgraph.schema.complexity import Measure, fragments, measure, response_key

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
        self.fragments = fragments(document)
        self.memo: dict[str, Counter[str]] = {}
        self.in_progress: set[str] = set()

    def keys(self, selection_set: SelectionSetNode) -> Counter[str]:
        counted: Counter[str] = Counter()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                counted[response_key(selection)] += 1
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
