"""How CRM lists are sorted and searched: the keyset orders of every sort GitLab offers
for contacts and organizations, and the word search behind ``search:``."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, literal, literal_column
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.types import Boolean, Text

from crmgraph.domain.contacts import StateFilter
from crmgraph.persistence.gram_stats import telling_grams
from crmgraph.persistence.keyset import SortKey
from crmgraph.persistence.queries import like_pattern
from crmgraph.persistence.tables import contacts, organizations


def _desc(sort: str) -> bool:
    return sort.endswith("_DESC")


def contact_order(sort: str) -> tuple[SortKey, ...]:
    """Sort keys for a ContactSort value; every order ends in the id, so ties are stable."""
    d = _desc(sort)
    field = sort.rsplit("_", 1)[0]
    last_id = SortKey(contacts.c.id, "id", d)
    names = (SortKey(contacts.c.last_name, "last", d), SortKey(contacts.c.first_name, "first", d))
    if field == "CREATED":
        return (SortKey.timestamp(contacts.c.created_at, "created", d), last_id)
    if field == "UPDATED":
        return (SortKey.timestamp(contacts.c.updated_at, "updated", d), last_id)
    if field == "FIRST_NAME":
        return (names[1], names[0], last_id)
    if field == "LAST_NAME":
        return (*names, last_id)
    nullable = {
        "EMAIL": contacts.c.email,
        "PHONE": contacts.c.phone,
        "DESCRIPTION": contacts.c.description,
        # Lists join the organization (with_organizations), so its name is at hand.
        "ORGANIZATION": organizations.c.name,
    }
    if field in nullable:
        return (SortKey(nullable[field], field.lower(), d, nullable=True), last_id)
    raise ValueError(f"unknown contact sort {sort}")


def organization_order(sort: str) -> tuple[SortKey, ...]:
    d = _desc(sort)
    field = sort.rsplit("_", 1)[0]
    last_id = SortKey(organizations.c.id, "id", d)
    if field == "CREATED":
        return (SortKey.timestamp(organizations.c.created_at, "created", d), last_id)
    if field == "UPDATED":
        return (SortKey.timestamp(organizations.c.updated_at, "updated", d), last_id)
    if field == "NAME":
        return (SortKey(organizations.c.name, "name", d), last_id)
    if field == "DESCRIPTION":
        return (SortKey(organizations.c.description, "description", d, nullable=True), last_id)
    if field == "DEFAULT_RATE":
        return (SortKey.decimal(organizations.c.default_rate, "rate", d), last_id)
    raise ValueError(f"unknown organization sort {sort}")


# ------------------------------------------------------------------ filters


class search_text(GenericFunction[str]):
    """The columns lower-cased and joined by spaces (NULL as empty): the text the trigram
    and gram indexes are built on. A word holds no space, so it matches this text exactly
    when it matches one of the columns. On PostgreSQL it is the table's stored
    ``search_text`` column (migration 0006), which must hold the text of exactly these
    columns: CONTACT_SEARCH or ORGANIZATION_SEARCH."""

    type = Text()
    name = "crm_search_text"
    inherit_cache = True


@compiles(search_text)
def _search_text_inline(element: search_text, compiler: Any, **kw: Any) -> str:
    # Elsewhere (SQLite): the same text, spelled inline.
    empty: ColumnElement[str] = literal_column("''")
    space: ColumnElement[str] = literal_column("' '")
    columns = list(element.clauses)
    joined: ColumnElement[Any] = func.coalesce(columns[0], empty)
    for column in columns[1:]:
        joined = joined.op("||")(space).op("||")(func.coalesce(column, empty))
    return str(compiler.process(func.lower(joined), **kw))


@compiles(search_text, "postgresql")
def _search_text_column(element: search_text, compiler: Any, **kw: Any) -> str:
    columns = list(element.clauses)
    stored = [list(CONTACT_SEARCH), list(ORGANIZATION_SEARCH)]
    if not any(len(columns) == len(s) and all(map(operator.is_, columns, s)) for s in stored):
        raise ValueError("only the columns of migration 0006 have a stored search text")
    return f"{compiler.preparer.format_table(columns[0].table)}.search_text"


#: Words at least this long are searched through the four-character-gram indexes of
#: migration 0005 on PostgreSQL; shorter ones through the trigram indexes.
GRAM = 4
#: The gram test takes the slices of a word's first characters only: any part of a word
#: is in every text that holds the word, and a megabyte of search need not be sliced.
GRAMS_OF_FIRST = 32


def slices(word: str) -> list[str]:
    """The four-character slices of a word's first ``GRAMS_OF_FIRST`` characters."""
    head = word[:GRAMS_OF_FIRST]
    return [head[i : i + GRAM] for i in range(len(head) - GRAM + 1)]


class contains_word(GenericFunction[bool]):
    """Whether the searched text of some columns contains a word: the columns, then the
    word's LIKE pattern. The LIKE test on every database."""

    type = Boolean()
    name = "crm_contains_word"
    inherit_cache = True


class contains_long_word(GenericFunction[bool]):
    """``contains_word`` for a word of ``GRAM`` characters or more: the columns, an array
    of some of the word's four-character slices, its LIKE pattern. On PostgreSQL it also
    asks the gram index for the rows holding all those slices (implied by LIKE, so the
    same rows). A class of its own, not a test of the word's length while compiling:
    compiled statements are cached by shape, and the length of a bound value is not
    part of it."""

    type = Boolean()
    name = "crm_contains_long_word"
    inherit_cache = True


def _like(columns: Sequence[Any], pattern: Any) -> ColumnElement[bool]:
    return search_text(*columns).like(pattern, escape="\\")


def _grouped(compiler: Any, condition: ColumnElement[bool], kw: dict[str, Any]) -> str:
    # In parentheses: SQLite compares a boolean function with 1, and ``a LIKE b = 1``
    # would leave the comparison to operator precedence.
    return f"({compiler.process(condition, **kw)})"


@compiles(contains_word)
def _contains_word(element: contains_word, compiler: Any, **kw: Any) -> str:
    *columns, pattern = element.clauses
    return _grouped(compiler, _like(columns, pattern), kw)


@compiles(contains_long_word)
def _contains_long_word(element: contains_long_word, compiler: Any, **kw: Any) -> str:
    *columns, _grams, pattern = element.clauses
    return _grouped(compiler, _like(columns, pattern), kw)


@compiles(contains_long_word, "postgresql")
def _contains_long_word_by_grams(element: contains_long_word, compiler: Any, **kw: Any) -> str:
    *columns, sliced, pattern = element.clauses
    grams = func.crm_search_grams(search_text(*columns)).op("@>")(sliced)
    return _grouped(compiler, and_(grams, _like(columns, pattern)), kw)


def search_words(search: str | None) -> list[str]:
    """The words of a search, lower-cased: every one must match some column."""
    return (search or "").lower().split()


#: A search whose words most rows hold walks the sort order and stops at the end of the
#: page, rather than finding every match before sorting them: ``example`` in 90 % of a
#: million contacts took 12 s, every match read and sorted, against 2.7 ms.
WALK_SHARE = 0.5


def likely_share(words: Sequence[str], frequencies: Mapping[str, float]) -> float:
    """The share of rows likely to hold all the words, from the statistics of their
    slices: each word is in at most as many rows as its rarest slice, and the words are
    taken as independent. 0 for a word too short for slices, or without statistics."""
    share = 1.0
    for word in words:
        grams = slices(word)
        if not grams or not frequencies:
            return 0.0
        share *= min(frequencies.get(gram, 0.0) for gram in grams)
    return share


def finds_all_first(words: Sequence[str], frequencies: Mapping[str, float]) -> bool:
    """Whether a search finds all its matches before it sorts them (``fetch_page``'s
    ``filter_first``): every search does, unless most rows likely match."""
    return bool(words) and likely_share(words, frequencies) < WALK_SHARE


def _word_condition(
    columns: Sequence[ColumnElement[Any]], word: str, pattern: Any, grams: Sequence[Any]
) -> ColumnElement[bool]:
    if len(word) < GRAM:
        return contains_word(*columns, pattern)
    return contains_long_word(*columns, array(grams, type_=Text()), pattern)


def _words_match(
    words: Sequence[str],
    columns: Sequence[ColumnElement[Any]],
    frequencies: Mapping[str, float],
    value: Callable[[str, str, bool], Any],
) -> tuple[list[Any], dict[str, Any], tuple[int, ...]]:
    """The conditions of ``words``, their values by name, and how many slices each word
    asks the gram index for (0 for a short word). ``value(name, value, literal_execute)``
    puts a value into the statement. The slices are rendered into the statement at
    execution, not sent as parameters: the plan depends on how rare they are, and a
    prepared statement's generic plan cannot know that (it read both indexes and
    recomputed every candidate's slices, 2.5 times slower at scale 1 and 13 times at
    scale 100)."""
    conditions: list[Any] = []
    params: dict[str, Any] = {}
    shape: list[int] = []
    for n, word in enumerate(words):
        name = f"word_{n}"
        chosen = telling_grams(slices(word), frequencies)
        grams = {f"{name}_gram_{k}": gram for k, gram in enumerate(chosen)}
        params[name] = like_pattern(word)
        params.update(grams)
        sliced = [value(key, gram, True) for key, gram in grams.items()]
        conditions.append(_word_condition(columns, word, value(name, params[name], False), sliced))
        shape.append(len(grams))
    return conditions, params, tuple(shape)


def _inline(_name: str, value: str, literal_execute: bool) -> Any:
    return literal(value, Text(), literal_execute=literal_execute)


def _named(name: str, _value: str, literal_execute: bool) -> Any:
    return bindparam(name, type_=Text(), literal_execute=literal_execute)


def words_match(
    search: str | None,
    columns: Sequence[ColumnElement[Any]],
    frequencies: Mapping[str, float],
) -> list[Any]:
    """Every whitespace-separated word must match some column, ignoring case.
    ``frequencies``: how common slices are in the columns' gram index (``gram_stats``)."""
    return _words_match(search_words(search), columns, frequencies, _inline)[0]


def words_match_by_name(
    words: Sequence[str],
    columns: Sequence[ColumnElement[Any]],
    frequencies: Mapping[str, float],
) -> tuple[list[Any], dict[str, Any], tuple[int, ...]]:
    """``words_match`` with the words as named parameters, for statements built once and
    run with other words of the same shape: the conditions, their parameters, and the
    shape (how many slices each word asks the gram index for; 0 for short words)."""
    return _words_match(words, columns, frequencies, _named)


def state_condition(table: Any, state: StateFilter | None) -> list[Any]:
    if state is None or state is StateFilter.ALL:
        return []
    return [table.c.state == state.value]


CONTACT_SEARCH = (
    contacts.c.first_name,
    contacts.c.last_name,
    contacts.c.email,
    contacts.c.description,
)
ORGANIZATION_SEARCH = (organizations.c.name, organizations.c.description)
