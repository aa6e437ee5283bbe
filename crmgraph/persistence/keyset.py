"""Keyset order and cursors: sort keys, the condition for the rows between two cursors,
and pages of rows whose cursors come from their sort keys (``queries`` fetches them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, overload

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, false, literal, or_, tuple_
from sqlalchemy.engine import Row

from crmgraph.domain.errors import InvalidArgument
from crmgraph.domain.ids import MAX_ID
from crmgraph.domain.pagination import (
    INVALID_CURSOR,
    Page,
    PageArgs,
    decode_cursor,
    encode_cursor,
)


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _from_datetime(value: Any) -> Any:
    return None if value is None else datetime.fromisoformat(value)


def _from_decimal(value: Any) -> Any:
    return None if value is None else Decimal(value)


def _identity(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class SortKey:
    """One column of a sort order; ``nullable`` keys put NULLs last in either direction."""

    column: ColumnElement[Any]
    label: str
    descending: bool = False
    nullable: bool = False
    decode: Callable[[Any], Any] = _identity

    @classmethod
    def timestamp(cls, column: ColumnElement[Any], label: str, descending: bool) -> SortKey:
        return cls(column, label, descending, decode=_from_datetime)

    @classmethod
    def decimal(
        cls, column: ColumnElement[Any], label: str, descending: bool, nullable: bool = True
    ) -> SortKey:
        return cls(column, label, descending, nullable, decode=_from_decimal)


def order_clauses(keys: Sequence[SortKey], reverse: bool) -> list[ColumnElement[Any]]:
    clauses: list[ColumnElement[Any]] = []
    for key in keys:
        descending = key.descending != reverse
        if key.nullable:
            null_last = case((key.column.is_(None), 1), else_=0)
            clauses.append(null_last.desc() if reverse else null_last.asc())
        clauses.append(key.column.desc() if descending else key.column.asc())
    return clauses


def _beyond(
    keys: Sequence[SortKey], values: list[Any], reverse: bool, names: Sequence[str] | None
) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order (before it when ``reverse``). With
    ``names``, each value that is not NULL is the named parameter of that name, to be
    given when the statement runs; else it is bound into the statement."""

    def value_of(n: int) -> Any:
        column_type = keys[n].column.type
        if names is None:
            return literal(values[n], column_type)
        return bindparam(names[n], type_=column_type)

    if not any(key.nullable for key in keys) and len({key.descending for key in keys}) == 1:
        # One row-value comparison: the database starts its index scan at the cursor,
        # where the equivalent OR chain below is a filter over every row before it
        # (page 50 of 100 contacts: 4,900 rows read and dropped, 2.2 ms -> see docs).
        row = tuple_(*(key.column for key in keys))
        cursor = tuple_(*(value_of(n) for n in range(len(keys))))
        descending = keys[0].descending != reverse
        return row < cursor if descending else row > cursor
    alternatives: list[ColumnElement[bool]] = []
    equal_so_far: list[ColumnElement[bool]] = []
    for n, (key, value) in enumerate(zip(keys, values, strict=True)):
        descending = key.descending != reverse
        if key.nullable:
            if value is None:
                # Past a NULL only other NULLs can follow (going forward), anything before.
                if reverse:
                    alternatives.append(and_(*equal_so_far, key.column.isnot(None)))
                equal_so_far.append(key.column.is_(None))
                continue
            if not reverse:
                alternatives.append(and_(*equal_so_far, key.column.is_(None)))
        bound = value_of(n)
        step = key.column < bound if descending else key.column > bound
        alternatives.append(and_(*equal_so_far, step))
        equal_so_far.append(key.column == bound)
    return or_(*alternatives) if alternatives else false()


def _fits(key: SortKey, value: Any) -> bool:
    """Whether a decoded cursor value can be compared with the key's column."""
    if value is None:
        return key.nullable
    try:
        expected = key.column.type.python_type
    except NotImplementedError:
        return True
    if isinstance(value, bool) and expected is not bool:
        return False
    if isinstance(value, int) and not -MAX_ID - 1 <= value <= MAX_ID:
        return False  # beyond PostgreSQL's integer: the comparison would fail there
    if isinstance(value, datetime) and value.tzinfo is None:
        return False
    return isinstance(value, expected)


def _cursor_values(keys: Sequence[SortKey], cursor: str) -> list[Any]:
    # A cursor of the right shape may still hold values of the wrong type: refuse it here
    # rather than let the database fail on the comparison.
    raw = decode_cursor(cursor, len(keys))
    try:
        values = [key.decode(value) for key, value in zip(keys, raw, strict=True)]
    except (TypeError, ValueError, ArithmeticError):
        raise InvalidArgument(INVALID_CURSOR) from None
    if not all(_fits(key, value) for key, value in zip(keys, values, strict=True)):
        raise InvalidArgument(INVALID_CURSOR)
    return values


def _cursor_of(row: Row[Any], keys: Sequence[SortKey]) -> str:
    return encode_cursor([_to_json(row._mapping[f"_k_{key.label}"]) for key in keys])


class _LazyCursors(Sequence[str]):
    """Cursors made on demand: most clients read nodes and the page's two end cursors."""

    def __init__(self, rows: list[Row[Any]], keys: Sequence[SortKey]) -> None:
        self._rows = rows
        self._keys = keys

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [_cursor_of(row, self._keys) for row in self._rows[index]]
        return _cursor_of(self._rows[index], self._keys)


def keyed(stmt: Select[Any], keys: Sequence[SortKey]) -> Select[Any]:
    """``stmt`` with each key's column added as ``_k_<label>``, where cursors are read from."""
    return stmt.add_columns(*(key.column.label(f"_k_{key.label}") for key in keys))


def between_cursors(
    stmt: Select[Any],
    keys: Sequence[SortKey],
    page: PageArgs,
    bounds: dict[str, Any] | None = None,
) -> Select[Any]:
    """``stmt`` limited to the rows between the page's cursors. With ``bounds``
    (``cursor_bounds`` of the page), the cursors' values are named parameters to be
    given when the statement runs (those that are NULL shape it instead), so that one
    statement serves every cursor with the same NULLs."""
    for side, cursor, reverse in _cursors(page):
        if bounds is None:
            values, names = _cursor_values(keys, cursor), None
        else:
            names = _bound_names(side, keys)
            values = [bounds[name] for name in names]
        stmt = stmt.where(_beyond(keys, values, reverse, names))
    return stmt


def cursor_bounds(keys: Sequence[SortKey], page: PageArgs) -> dict[str, Any]:
    """The values of the page's cursors by the parameter names ``between_cursors`` gives
    them (``after_0``, ``before_1``...); refuses a cursor that does not fit ``keys``."""
    bounds: dict[str, Any] = {}
    for side, cursor, _ in _cursors(page):
        bounds.update(zip(_bound_names(side, keys), _cursor_values(keys, cursor), strict=True))
    return bounds


def _cursors(page: PageArgs) -> list[tuple[str, str, bool]]:
    """The page's cursors, each with its side's name and whether the rows sought lie
    before it."""
    sides = (("after", page.after, False), ("before", page.before, True))
    return [(side, cursor, reverse) for side, cursor, reverse in sides if cursor is not None]


def _bound_names(side: str, keys: Sequence[SortKey]) -> list[str]:
    """The parameter names of one cursor's values, a key each."""
    return [f"{side}_{n}" for n in range(len(keys))]


def paged(rows: list[Row[Any]], keys: Sequence[SortKey], page: PageArgs) -> Page[Row[Any]]:
    limit = page.limit
    more = len(rows) > limit
    rows = rows[:limit]
    if page.backward:
        rows.reverse()
        has_previous, has_next = more, page.before is not None
    else:
        has_next, has_previous = more, page.after is not None
        if page.last is not None and len(rows) > page.last:
            rows = rows[len(rows) - page.last :]
            has_previous = True
    return Page(
        items=rows,
        cursors=_LazyCursors(rows, keys),
        has_next_page=has_next,
        has_previous_page=has_previous,
    )
