"""Issue lists' contacts answered with JSON that PostgreSQL wrote (persistence/contact_json.py).

When a page of issues asks each issue for ``customerRelationsContacts { nodes { ... } }``
with nothing but plain contact and organization fields, no arguments, fragments or
directives below it, the list loads every issue's contacts as finished JSON text and the
field's answer embeds it (``orjson.Fragment``), with no object built or completed per
contact. The contacts' groups come with the text and pass the contact guard's check as
any list's items do; an issue whose contacts do not all pass gets nothing here and its
field is answered the ordinary way. The same happens when the executor's plan for the
field is not the selection the text was written for (``Answered``).

Only for answers serialized by orjson (HTTP), on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

import orjson
from strawberry.types.base import get_object_definition
from strawberry.types.nodes import SelectedField

from crmgraph.domain.issues import Issue
from crmgraph.resolvers import crm as crm_reads
from crmgraph.resolvers.visibility import visible
from crmgraph.schema.completion import Answered
from crmgraph.schema.crm import CustomerRelationsContact, CustomerRelationsOrganization
from crmgraph.schema.directives import protection_of

TYPENAME = "__typename"
CONTACT_LEAVES = crm_reads.JSON_CONTACT_FIELDS
ORGANIZATION_LEAVES = crm_reads.JSON_ORGANIZATION_FIELDS


def type_name(cls: type) -> str:
    """The GraphQL name of a strawberry type."""
    definition = get_object_definition(cls, strict=True)
    return definition.name


CONTACT_TYPE = type_name(CustomerRelationsContact)
ORGANIZATION_TYPE = type_name(CustomerRelationsOrganization)


@dataclass(frozen=True)
class JsonSelection:
    """What to write for one ``customerRelationsContacts`` selection."""

    nodes_key: str
    #: For persistence/contact_json.py: (key, field name | (kind, details)) pairs.
    fields: tuple[tuple[str, Any], ...]
    #: The selection as ``completion.shape_of`` describes the field's plan.
    shape: tuple[Any, ...]


def json_selection(contacts: SelectedField) -> JsonSelection | None:
    """The selection's JSON form, or None when it asks for more than plain fields."""
    if contacts.arguments or contacts.directives or len(contacts.selections) != 1:
        return None
    [nodes] = contacts.selections
    if not _plain(nodes) or nodes.name != "nodes":
        return None
    found = _fields(nodes.selections, CONTACT_LEAVES, CONTACT_TYPE, nested=True)
    if found is None:
        return None
    fields, shape = found
    key = _key(nodes)
    return JsonSelection(key, fields, ((key, "nodes", shape),))


def _plain(selection: Any) -> TypeGuard[SelectedField]:
    return isinstance(selection, SelectedField) and not selection.directives


def _key(field: SelectedField) -> str:
    return field.alias or field.name


def _fields(
    selections: Sequence[Any], leaves: frozenset[str], type_name: str, *, nested: bool
) -> tuple[tuple[tuple[str, Any], ...], tuple[Any, ...]] | None:
    fields: list[tuple[str, Any]] = []
    shape: list[Any] = []
    keys: set[str] = set()
    for selection in selections:
        if not _plain(selection) or selection.arguments:
            return None
        key = _key(selection)
        if key in keys:  # the same key twice: graphql-core merges them, not written here
            return None
        keys.add(key)
        if selection.name == TYPENAME:
            fields.append((key, (TYPENAME, type_name)))
            shape.append((key, TYPENAME, None))
        elif selection.name in leaves and not selection.selections:
            fields.append((key, selection.name))
            shape.append((key, selection.name, None))
        elif nested and selection.name == "organization":
            found = _fields(selection.selections, ORGANIZATION_LEAVES, ORGANIZATION_TYPE,
                            nested=False)  # fmt: skip
            if found is None or not found[0]:
                return None
            fields.append((key, ("organization", found[0])))
            shape.append((key, "organization", found[1]))
        else:
            return None
    if not fields:
        return None
    return tuple(fields), tuple(shape)


@dataclass(frozen=True)
class _GroupOf:
    """A contact reduced to what its guard reads."""

    group_id: int


async def contacts_as_json(
    ctx: Any,
    issues: Sequence[Issue],
    selection: JsonSelection,
    found: dict[int, tuple[str, list[int]]],
) -> dict[int, Answered]:
    """Each issue's ``customerRelationsContacts`` answer as written JSON, for the issues
    whose contacts the actor may all see (an issue without contacts included). ``found``:
    the JSON text and the contacts' groups by issue, as ``crm.issues_contacts_json``
    reads them (an issue missing shows none)."""
    groups = {group for _, issue_groups in found.values() for group in issue_groups}
    role, scope = protection_of(CustomerRelationsContact)
    items = [_GroupOf(group) for group in groups]
    seen = dict(zip(groups, await visible(ctx, items, role, scope), strict=True))
    checked: dict[int, bool] = {}
    answers = {}
    for issue in issues:
        text, issue_groups = found.get(issue.id, ("[]", []))
        if all(seen[group] for group in issue_groups):
            answer = {selection.nodes_key: orjson.Fragment(text)}
            answers[issue.id] = Answered(answer, selection.shape, checked)
    return answers
