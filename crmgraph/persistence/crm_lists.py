"""How CRM lists are sorted and searched: the keyset orders of every sort GitLab offers
for contacts and organizations, and the word search behind ``search:``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.types import Text

from crmgraph.domain.contacts import StateFilter
from crmgraph.persistence.queries import SortKey, like_pattern
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
    """The columns lower-cased and joined by spaces (NULL as empty): the expression the
    trigram indexes are built on. A word holds no space, so it matches this text exactly
    when it matches one of the columns. On PostgreSQL it is the function of migration
    0004, which the planner knows to be costly, so that searches use the index."""

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
def _search_text_function(element: search_text, compiler: Any, **kw: Any) -> str:
    return str(compiler.visit_function(element, **kw))


def words_match(search: str | None, columns: Sequence[ColumnElement[Any]]) -> list[Any]:
    """Every whitespace-separated word must match some column, ignoring case."""
    words = (search or "").lower().split()
    if not words:
        return []
    text = search_text(*columns)
    return [text.like(like_pattern(word), escape="\\") for word in words]


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
