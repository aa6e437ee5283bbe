"""Query limits: depth, complexity, aliases, directives and repeated fields (spec §10).

What the limits are, and the errors for a document past them: its shape (aliases,
directives, repeated fields) and its depth and complexity. The validation step that
checks them, cheapest first and once per query text, is ``crmgraph/schema/validation.py``;
how depth and complexity are counted is in ``crmgraph/schema/complexity.py``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
    Visitor,
    visit,
)

from crmgraph.schema.complexity import Measure, fragments, response_key


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
