"""The validation step with the query limits, in place of strawberry's own.

Checked in this order, cheapest first, so that a hostile document is refused before it
costs much: the document's shape (aliases, directives, repeated fields), then the
standard validation (cached per query text), then depth and complexity, which depend on
the caller (anonymous or authenticated) and on the variables (page sizes, ``@skip``).
The length of the query text and its number of tokens are bounded before parsing
(``crmgraph/web.py`` and strawberry's ``MaxTokensLimiter``).

The limits and their messages are in ``crmgraph/schema/limits.py``.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Iterator, Mapping
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, validate
from graphql.validation import MaxIntrospectionDepthRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from crmgraph.schema.complexity import Measure, measure
from crmgraph.schema.limits import QueryLimits, measure_errors, shape_errors

#: Complexity is computed exactly up to this many times the larger maximum; beyond, the
#: walk stops and the message says "more than", so a fragment bomb costs little.
WALK_BUDGET_FACTOR = 10


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
