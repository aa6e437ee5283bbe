"""The contacts of many issues as finished JSON, built by PostgreSQL (one query).

A page of 100 issues with their contacts spent most of its time on the contacts' way
through Python: 300 rows parsed, a contact and an organization object for each, 100
pages, then each object read back field by field into the answer. When a query asks only
for plain contact fields, PostgreSQL writes each issue's list of contacts as JSON text,
and the answer embeds that text unchanged; the contacts' groups come back with it, for
the contact guard. ``fields`` say what to write: pairs of the key to write (the query's
response name) and a name in ``CONTACT_FIELDS``, or ``(ORGANIZATION, pairs naming
ORGANIZATION_FIELDS)``, or ``(TYPENAME, type name)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Select, bindparam, case, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import NullType, Text

from crmgraph.persistence.queries import in_text, one_of
from crmgraph.persistence.tables import contacts, issue_contacts, organizations

TYPENAME = "__typename"
CONTACT_GID = "gid://gitlab/CustomerRelations::Contact/"
ORGANIZATION_GID = "gid://gitlab/CustomerRelations::Organization/"


def _text(value: str) -> Any:
    """A string constant written into the statement (statements are built once per set
    of fields; as parameters, the constants cost more to send than to parse)."""
    return literal_column("'" + value.replace("'", "''") + "'", Text)


_NULL = _text("null")

#: Parts of a JSON text: constants (str) and SQL expressions of type text, never NULL.
Parts = list[Any]


def _joined(parts: Parts) -> Any:
    """The parts as one text, adjacent constants merged. With ``||``, not ``concat()``:
    concat looks up an output function for every argument on every call, and the text of
    an issue page's 300 contacts took 2.1 against 2.8 ms of PostgreSQL's time (the
    statement with nothing written: 0.6 ms)."""
    merged: list[Any] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    expressions = [_text(part) if isinstance(part, str) else part for part in merged]
    joined = expressions[0]
    for expression in expressions[1:]:
        joined = joined.op("||", return_type=Text())(expression)
    return joined


def _quoted(prefix: str, column: Any) -> Parts:
    """A global id's JSON text: nothing in it needs escaping."""
    return [f'"{prefix}', cast(column, Text), '"']


def _active(column: Any) -> Parts:
    return [case((column == _text("active"), _text("true")), else_=_text("false"))]


def _json(column: Any) -> Parts:
    return [func.coalesce(cast(func.to_json(column), Text), _NULL)]


#: Each field's JSON text, by the name the schema layer asks for.
CONTACT_FIELDS: dict[str, Parts] = {
    "id": _quoted(CONTACT_GID, contacts.c.id),
    "firstName": _json(contacts.c.first_name),
    "lastName": _json(contacts.c.last_name),
    "email": _json(contacts.c.email),
    "phone": _json(contacts.c.phone),
    "description": _json(contacts.c.description),
    "active": _active(contacts.c.state),
}
ORGANIZATION_FIELDS: dict[str, Parts] = {
    "id": _quoted(ORGANIZATION_GID, organizations.c.id),
    "name": _json(organizations.c.name),
    # The numeric as written ("120.50"): the same number as the Float the object path
    # answers (120.5) for any JSON reader, and cheaper than a cast to float8, which
    # PostgreSQL makes through text.
    "defaultRate": _json(organizations.c.default_rate),
    "description": _json(organizations.c.description),
    "active": _active(organizations.c.state),
}
ORGANIZATION = "organization"

Fields = Sequence[tuple[str, Any]]


def _object(fields: Fields, columns: dict[str, Parts]) -> Parts:
    """The parts of one object's JSON text: ``{"key":value,...}`` in the order of
    ``fields``. Written out rather than with ``json_build_object``, whose text has a
    space around every colon."""
    parts: Parts = []
    for n, (key, what) in enumerate(fields):
        parts.append(("{" if n == 0 else ",") + orjson.dumps(key).decode() + ":")
        if isinstance(what, tuple) and what[0] == TYPENAME:
            parts.append(orjson.dumps(what[1]).decode())
        elif isinstance(what, tuple) and what[0] == ORGANIZATION:
            nested = _joined(_object(what[1], ORGANIZATION_FIELDS))
            parts.append(case((organizations.c.id.is_(None), _NULL), else_=nested))
        else:
            parts.extend(columns[what])
    parts.append("}" if parts else "{}")
    return parts


#: Statements by the fields they write; the keys are the query's response names, so the
#: number of them is up to clients: bounded.
_STATEMENTS: dict[Any, Select[Any]] = {}
MAX_STATEMENTS = 64


def _statement(fields: Fields) -> Select[Any]:
    stmt = _STATEMENTS.get(fields)
    if stmt is not None:
        return stmt
    numbered = (
        select(
            issue_contacts.c.issue_id,
            issue_contacts.c.contact_id,
            func.row_number()
            .over(partition_by=issue_contacts.c.issue_id, order_by=issue_contacts.c.id)
            .label("n"),
        )
        .where(one_of(issue_contacts.c.issue_id, "issue_ids", "postgresql"))
        .subquery("numbered")
    )
    stmt = (
        _aggregated(numbered, numbered.c.n, fields)
        .add_columns(numbered.c.issue_id)
        .where(numbered.c.n <= bindparam("page_limit"))
        .group_by(numbered.c.issue_id)
    )
    if len(_STATEMENTS) >= MAX_STATEMENTS:
        _STATEMENTS.clear()
    _STATEMENTS[fields] = stmt
    return stmt


def contacts_json_beside(issue_id: Any, fields: Fields, limit: int) -> Any:
    """For a query over issues: a LATERAL subquery of one row with the contacts of the
    issue ``issue_id`` (a column of that query) as ``contacts_json`` (its first
    ``limit`` contacts in link order, ``[]`` when it has none) and their groups
    as ``contact_groups`` (NULL when none). The same text as ``contacts_json_of_issues``,
    written in the issue list's own statement: a statement less per page."""
    links = (
        select(issue_contacts.c.id, issue_contacts.c.contact_id)
        .where(issue_contacts.c.issue_id == issue_id)
        .order_by(issue_contacts.c.id)
        .limit(in_text(limit))  # written out: see queries.fetch_page_by_shape
        # ``issue_id`` belongs to the enclosing query: refer to it, do not select from it.
        .correlate_except(issue_contacts)
        .lateral("links")
    )
    return _aggregated(links, links.c.id, fields).lateral("contact_json")


#: psycopg hands back the groups as a list of ints already; SQLAlchemy's ARRAY would copy
#: each row's list again.
_RAW = NullType()


def _aggregated(links: Any, order: Any, fields: Fields) -> Select[Any]:
    """Over ``links`` (rows with a ``contact_id``), their contacts as one JSON array of
    ``fields`` in the order of ``order`` (``contacts_json``) and the contacts' groups
    (``contact_groups``): the one place the text both statements answer is written."""
    each = _joined(_object(fields, CONTACT_FIELDS))
    nodes = func.string_agg(each, aggregate_order_by(_text(","), order))
    columns: list[Any] = [
        # string_agg of no rows is NULL: then ``[]``.
        _joined(["[", func.coalesce(nodes, _text("")), "]"]).label("contacts_json"),
        func.array_agg(contacts.c.group_id.distinct(), type_=_RAW).label("contact_groups"),
    ]
    return select(*columns).select_from(
        links.join(contacts, contacts.c.id == links.c.contact_id).outerjoin(
            organizations, organizations.c.id == contacts.c.organization_id
        )
    )


async def contacts_json_of_issues(
    conn: AsyncConnection, issue_ids: Sequence[int], fields: Fields, limit: int
) -> dict[int, tuple[str, list[int]]]:
    """For each issue with contacts (PostgreSQL only): its first ``limit`` contacts in link
    order as a JSON array of ``fields``, and the groups those contacts belong to.
    ``fields`` must be hashable (tuples) and name only ``CONTACT_FIELDS`` and, inside an
    organization, ``ORGANIZATION_FIELDS``."""
    parameters = {"issue_ids": list(issue_ids), "page_limit": limit}
    rows = (await conn.execute(_statement(fields), parameters)).all()
    return {issue_id: (nodes, groups) for nodes, groups, issue_id in rows}
