"""Keyset pagination shared by every connection: one parent, or many parents in one query.

The sort keys, cursors and the conditions between them are in ``keyset``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, any_, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Subquery

from crmgraph.domain.pagination import Page, PageArgs
from crmgraph.persistence.keyset import (
    SortKey,
    between_cursors,
    cursor_bounds,
    keyed,
    order_clauses,
    paged,
)


def like_pattern(word: str) -> str:
    """A LIKE pattern matching ``word`` anywhere, with LIKE's wildcards escaped (escape ``\\``)."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def fetch_page(
    conn: AsyncConnection,
    stmt: Select[Any],
    keys: Sequence[SortKey],
    page: PageArgs,
    *,
    filter_first: bool = False,
    expand: Callable[[Subquery], Select[Any]] | None = None,
    params: dict[str, Any] | None = None,
) -> Page[Row[Any]]:
    """One page of ``stmt`` in the order of ``keys`` (the last key must be unique).

    ``filter_first`` makes the database find all matching rows before it sorts them. For
    searches this is the plan to use: walking the sort index and testing each row takes
    as long as the distance to the first matches, which for a word matching late in the
    order is most of the table.

    ``expand`` adds what the page's rows point to (a select over the cut page with its
    joins), once the page is cut: a search then joins its 21 rows rather than every match
    (1,079 index probes for a common surname among a million contacts, a third of the
    search's time in PostgreSQL). The keys must then be columns of ``stmt``.

    ``params``: values of named parameters in ``stmt``.
    """
    if page.limit == 0:
        return Page.empty()
    query, keys = _page_query(stmt, keys, page, filter_first, expand)
    return await _run_page(conn, query, keys, page, params or {})


async def fetch_page_by_shape(
    conn: AsyncConnection,
    shape: tuple[Any, ...],
    build: Callable[[], Select[Any]],
    keys: Sequence[SortKey],
    page: PageArgs,
    params: dict[str, Any],
    *,
    filter_first: bool = False,
    expand: Callable[[Subquery], Select[Any]] | None = None,
    limit_in_text: bool = False,
) -> Page[Row[Any]]:
    """``fetch_page`` of ``build()``, a statement that holds all its values as named
    parameters (``params``); ``shape`` must determine that statement, ``keys`` and
    ``expand``, as they are built into the cached query. The finished query is then
    built once per shape: building the subqueries and their columns cost more CPU than
    running the search (1 to 2 ms a request). A page between cursors has the cursors'
    values as named parameters too (``keyset.cursor_bounds``); which of them are NULL
    is part of the shape.

    ``limit_in_text`` writes the page's limit into the statement rather than passing it:
    PostgreSQL then keeps one plan for the prepared statement after five runs, where a
    LIMIT parameter had it plan every run anew (0.9 ms for an issue page with its
    contacts). Only for statements whose plan does not depend on their values.
    """
    if page.limit == 0:
        return Page.empty()
    bounds = cursor_bounds(keys, page)
    nulls = tuple((name, value is None) for name, value in bounds.items())
    written = page.limit + 1 if limit_in_text else None
    cache_key = (
        shape, page.backward, filter_first, expand is not None, written, nulls, conn.dialect.name
    )  # fmt: skip
    cached = _SHAPED_QUERIES.get(cache_key)
    if cached is None:
        if len(_SHAPED_QUERIES) >= 256:  # shapes are few; this bounds a flood of odd ones
            _SHAPED_QUERIES.clear()
        cached = _page_query(build(), keys, page, filter_first, expand, written, bounds)
        _SHAPED_QUERIES[cache_key] = cached
    query, cached_keys = cached
    given = {name: value for name, value in bounds.items() if value is not None}
    return await _run_page(conn, query, cached_keys, page, {**params, **given})


_SHAPED_QUERIES: dict[tuple[Any, ...], tuple[Select[Any], list[SortKey]]] = {}


def _page_query(
    stmt: Select[Any],
    keys: Sequence[SortKey],
    page: PageArgs,
    filter_first: bool,
    expand: Callable[[Subquery], Select[Any]] | None,
    written_limit: int | None = None,
    bounds: dict[str, Any] | None = None,
) -> tuple[Select[Any], list[SortKey]]:
    """The query for a page of ``stmt`` (its limit the parameter ``page_limit``, or
    ``written_limit`` written out; with ``bounds``, the cursors as named parameters) and
    the keys as its columns."""
    query = between_cursors(keyed(stmt, keys), keys, page, bounds)
    if filter_first:
        # OFFSET 0 keeps PostgreSQL from merging the subquery back into the outer query.
        matched = query.offset(0).subquery("matched")
        keys = _keys_of(matched, keys)
        query = select(matched)
    order = order_clauses(keys, reverse=page.backward)
    limit = bindparam("page_limit") if written_limit is None else in_text(written_limit)
    query = query.order_by(*order).limit(limit)
    if expand is not None:
        # The page's rows are numbered in their order and the expansion sorted by that
        # number, an order PostgreSQL cannot take from its input: it then makes every row
        # before it sends the first. Sent as made, a page whose expansion writes 200 kB
        # (an issue page with its contacts' JSON) left in some 25 pieces spread over the
        # statement's run, and psycopg's asynchronous wait costs event-loop work for each:
        # 2.2 against 1.4 ms of the client's CPU for the same rows. Sorting 100 rows costs
        # the database next to nothing.
        position = func.row_number().over(order_by=order).label(POSITION)
        cut = query.add_columns(position).subquery("page")
        keys = _keys_of(cut, keys)
        query = expand(cut).order_by(cut.c[POSITION])
    return query, list(keys)


#: The column numbering an expanded page's rows (``_page_query``).
POSITION = "_page_position"


async def _run_page(
    conn: AsyncConnection,
    query: Select[Any],
    keys: Sequence[SortKey],
    page: PageArgs,
    params: dict[str, Any],
) -> Page[Row[Any]]:
    result = await conn.execute(query, {**params, "page_limit": page.limit + 1})
    return paged(list(result.all()), keys, page)


def _keys_of(rows: Subquery, keys: Sequence[SortKey]) -> list[SortKey]:
    """The keys as the ``_k_`` columns of a subquery over a keyed statement."""
    return [replace(key, column=rows.c[f"_k_{key.label}"]) for key in keys]


async def fetch_pages(
    conn: AsyncConnection,
    stmt: Select[Any],
    parent: ColumnElement[Any],
    parent_ids: Sequence[Any],
    keys: Sequence[SortKey],
    page: PageArgs,
    expand: Callable[[Subquery], Select[Any]] | None = None,
) -> dict[Any, Page[Row[Any]]]:
    """The same page for many parents at once, numbered per parent with a window function.

    ``expand`` adds what the numbered rows point to (a select over the numbered subquery
    with its joins): the database then numbers only the narrow rows of ``stmt`` and joins
    the rest to the few that make the page, rather than joining everything first.

    ``stmt`` should be built once (a module constant): without cursors, the finished
    query is then built once per shape and reused, with the parent ids and the limit as
    parameters — building SQLAlchemy constructs costs more than running the cached
    compiled form, and on PostgreSQL the ids travel as one array, so the SQL text stays
    the same for any number of parents (psycopg then prepares it once).
    """
    if page.limit == 0 or not parent_ids:
        return {pid: Page.empty() for pid in parent_ids}
    dialect = conn.dialect.name
    if page.after is None and page.before is None:
        shape = (id(stmt), id(parent), id(keys), id(expand), page.backward, dialect)
        cached = _PAGES_QUERIES.get(shape)
        if cached is None:
            if len(_PAGES_QUERIES) >= 64:  # only constant statements belong here
                _PAGES_QUERIES.clear()
            query = _pages_query(stmt, parent, keys, page, dialect, expand)
            # What the ids in the shape name is kept alive with it, so no id is reused.
            _PAGES_QUERIES[shape] = (query, (stmt, parent, keys, expand))
        else:
            query = cached[0]
    else:
        query = _pages_query(stmt, parent, keys, page, dialect, expand)
    params = {"parent_ids": list(parent_ids), "page_limit": page.limit + 1}
    result = await conn.execute(query, params)
    parent_at = list(result.keys()).index("_parent")
    grouped: dict[Any, list[Row[Any]]] = {pid: [] for pid in parent_ids}
    for row in result.all():
        grouped[row[parent_at]].append(row)
    return {pid: paged(rows, keys, page) if rows else Page.empty() for pid, rows in grouped.items()}


_PAGES_QUERIES: dict[tuple[Any, ...], tuple[Select[Any], Any]] = {}


def in_text(number: int) -> Any:
    """An integer written into the statement (for a LIMIT: see ``fetch_page_by_shape``)."""
    return literal_column(str(int(number)), Integer)


def one_of(column: ColumnElement[Any], name: str, dialect: str) -> ColumnElement[bool]:
    """``column IN (:name)``; on PostgreSQL ``column = ANY(:name)`` with one array value."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


def _pages_query(
    stmt: Select[Any],
    parent: ColumnElement[Any],
    keys: Sequence[SortKey],
    page: PageArgs,
    dialect: str,
    expand: Callable[[Subquery], Select[Any]] | None,
) -> Select[Any]:
    number = func.row_number().over(
        partition_by=parent, order_by=order_clauses(keys, reverse=page.backward)
    )
    inner = (
        between_cursors(keyed(stmt, keys), keys, page)
        .where(one_of(parent, "parent_ids", dialect))
        .add_columns(parent.label("_parent"), number.label("_n"))
        .subquery()
    )
    return (
        (select(inner) if expand is None else expand(inner))
        .where(inner.c["_n"] <= bindparam("page_limit"))
        .order_by(inner.c["_parent"], inner.c["_n"])
    )
