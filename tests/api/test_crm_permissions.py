"""Spec §3 and §6: the CRM permission matrix, role by placement by operation, over HTTP.

The world (built afresh for every case)::

    acme                      root group, CRM group of acme/sales
    ├── acme/sales            subgroup without a contact source
    │   └── acme/sales/web    project, issue #1 linked to Ann
    └── acme/support          subgroup naming `partners` as its contact source
        └── acme/support/helpdesk   project, issue #1 linked to Pia
    partners                  separate root group: CRM group of acme/support

    acme:     contacts Ann (linked), Bob (free);  organization Initech
    partners: contacts Pia (linked), Quinn (free); organization Partnerco

Placements — where the user under test holds ``role``:

- ``root``: in ``acme``, the CRM group itself.
- ``subgroup``: only in ``acme/sales``, a subgroup below the CRM group.
- ``project``: only in the project ``acme/sales/web``.
- ``source``: in ``partners`` (the contact source of ``acme/support``), **plus Guest in
  acme/support** so that the group, project and issue are readable at all. The project
  level is therefore only Guest: setting contacts stays out of reach whatever the role in
  ``partners`` is (it needs Planner+ on the project, spec §3).
- ``source_and_sub``: in ``partners`` and the same role in ``acme/support`` — the only
  placement where a contact source grants setting an issue's contacts.

Role ``none`` holds no membership from the placement (for ``source`` the extra Guest in
acme/support stays); ``admin`` is an instance admin with no membership at all.

Each case runs every operation against the targets of its placement: ``acme/sales`` /
``acme/sales/web`` / ``acme`` for the first three placements, ``acme/support`` /
``acme/support/helpdesk`` / ``partners`` for the last two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from crmgraph.domain.contacts import Contact, Organization
from crmgraph.domain.groups import Group, Project
from crmgraph.domain.ids import parse_gid, to_gid
from crmgraph.domain.issues import Issue
from crmgraph.domain.roles import AccessLevel
from crmgraph.persistence import tables
from tests.world import Response, World

# The messages as the spec words them (not imported: a drifted message must fail here).
RESOURCE_NOT_AVAILABLE = (
    "The resource that you are attempting to access does not exist "
    "or you don't have permission to perform this action"
)
INSUFFICIENT = "You have insufficient permissions to set customer relations contacts for this issue"

# Outcome codes.
OK = "ok"  # data present / operation applied (and the database changed exactly so)
EMPTY = "empty"  # list empty, no error
NULL = "null"  # the object (group or issue) is null, no error
DENIED = "denied"  # top-level resource error, data.<mutation> null, nothing changed
INSUF = "insufficient"  # payload error INSUFFICIENT, nothing changed

OPERATIONS = (
    "list_contacts",
    "issue_contacts",
    "contact_create",
    "contact_update",
    "organization_create",
    "organization_update",
    "set_issue_contacts",
)
ROLES = ("none", "guest", "planner", "reporter", "developer", "maintainer", "owner", "admin")
PLACEMENTS = ("root", "subgroup", "project", "source", "source_and_sub")

_N, _E, _D, _I, _O = NULL, EMPTY, DENIED, INSUF, OK
ALL_OK = (_O, _O, _O, _O, _O, _O, _O)

# The expected outcome of each operation, in the order of OPERATIONS:
#   list, issue contacts, contact create, contact update, org create, org update, set contacts
# Written out by hand from spec §3/§6; not derived from the ability table.
# fmt: off
EXPECTED: dict[tuple[str, str], tuple[str, ...]] = {
    # Membership in the CRM group itself.
    ("root", "none"):                 (_N, _N, _D, _D, _D, _D, _D),
    ("root", "guest"):                (_E, _E, _D, _D, _D, _D, _I),
    ("root", "planner"):              (_O, _O, _D, _D, _D, _D, _O),
    ("root", "reporter"):             (_O, _O, _D, _D, _D, _D, _O),
    ("root", "developer"):            ALL_OK,
    ("root", "maintainer"):           ALL_OK,
    ("root", "owner"):                ALL_OK,
    ("root", "admin"):                ALL_OK,
    # Only a subgroup below the CRM group: group/issue readable, no CRM rights at all.
    ("subgroup", "none"):             (_N, _N, _D, _D, _D, _D, _D),
    ("subgroup", "guest"):            (_E, _E, _D, _D, _D, _D, _I),
    ("subgroup", "planner"):          (_E, _E, _D, _D, _D, _D, _I),
    ("subgroup", "reporter"):         (_E, _E, _D, _D, _D, _D, _I),
    ("subgroup", "developer"):        (_E, _E, _D, _D, _D, _D, _I),
    ("subgroup", "maintainer"):       (_E, _E, _D, _D, _D, _D, _I),
    ("subgroup", "owner"):            (_E, _E, _D, _D, _D, _D, _I),
    ("subgroup", "admin"):            ALL_OK,
    # Only the project: its group is not readable (null), the issue is, no CRM rights.
    ("project", "none"):              (_N, _N, _D, _D, _D, _D, _D),
    ("project", "guest"):             (_N, _E, _D, _D, _D, _D, _I),
    ("project", "planner"):           (_N, _E, _D, _D, _D, _D, _I),
    ("project", "reporter"):          (_N, _E, _D, _D, _D, _D, _I),
    ("project", "developer"):         (_N, _E, _D, _D, _D, _D, _I),
    ("project", "maintainer"):        (_N, _E, _D, _D, _D, _D, _I),
    ("project", "owner"):             (_N, _E, _D, _D, _D, _D, _I),
    ("project", "admin"):             ALL_OK,
    # The contact-source group at the role, plus Guest in acme/support (project level Guest).
    ("source", "none"):               (_E, _E, _D, _D, _D, _D, _I),
    ("source", "guest"):              (_E, _E, _D, _D, _D, _D, _I),
    ("source", "planner"):            (_O, _O, _D, _D, _D, _D, _I),
    ("source", "reporter"):           (_O, _O, _D, _D, _D, _D, _I),
    ("source", "developer"):          (_O, _O, _O, _O, _O, _O, _I),
    ("source", "maintainer"):         (_O, _O, _O, _O, _O, _O, _I),
    ("source", "owner"):              (_O, _O, _O, _O, _O, _O, _I),
    ("source", "admin"):              ALL_OK,
    # The contact-source group and acme/support, both at the role.
    ("source_and_sub", "none"):       (_N, _N, _D, _D, _D, _D, _D),
    ("source_and_sub", "guest"):      (_E, _E, _D, _D, _D, _D, _I),
    ("source_and_sub", "planner"):    (_O, _O, _D, _D, _D, _D, _O),
    ("source_and_sub", "reporter"):   (_O, _O, _D, _D, _D, _D, _O),
    ("source_and_sub", "developer"):  ALL_OK,
    ("source_and_sub", "maintainer"): ALL_OK,
    ("source_and_sub", "owner"):      ALL_OK,
    ("source_and_sub", "admin"):      ALL_OK,
}
# fmt: on

LIST_CONTACTS = """
query($path: ID!) { group(fullPath: $path) { id contacts { nodes { id } } } }
"""
ISSUE_CONTACTS = """
query($id: IssueID!) { issue(id: $id) { id customerRelationsContacts { nodes { id } } } }
"""
LISTED_ISSUE_CONTACTS = """
query($path: ID!) {
  project(fullPath: $path) { issues { nodes { id customerRelationsContacts { nodes { id } } } } }
}
"""
CONTACT_CREATE = """
mutation($group: GroupID!) {
  customerRelationsContactCreate(input: {groupId: $group, firstName: "New", lastName: "Person"}) {
    contact { id } errors
  }
}
"""
CONTACT_UPDATE = """
mutation($id: CustomerRelationsContactID!) {
  customerRelationsContactUpdate(input: {id: $id, description: "changed"}) {
    contact { id description } errors
  }
}
"""
ORGANIZATION_CREATE = """
mutation($group: GroupID!) {
  customerRelationsOrganizationCreate(input: {groupId: $group, name: "Newco"}) {
    organization { id } errors
  }
}
"""
ORGANIZATION_UPDATE = """
mutation($id: CustomerRelationsOrganizationID!) {
  customerRelationsOrganizationUpdate(input: {id: $id, description: "changed"}) {
    organization { id description } errors
  }
}
"""
SET_ISSUE_CONTACTS = """
mutation($project: ID!, $iid: String!, $contact: CustomerRelationsContactID!) {
  issueSetCrmContacts(input: {projectPath: $project, iid: $iid, contactIds: [$contact],
                              operationMode: APPEND}) {
    issue { id } errors
  }
}
"""


@dataclass
class Side:
    """The targets of one CRM group: what a placement's operations act on."""

    group: Group  # the group whose contacts are listed (its CRM group is ``crm``)
    project: Project
    issue: Issue
    crm: Group
    linked: Contact  # already on the issue
    free: Contact  # active, not on the issue: the one APPEND adds
    organization: Organization


@dataclass
class Matrix:
    world: World
    places: dict[str, Group | Project]
    acme: Side
    partners: Side


@pytest.fixture
async def matrix(world: World) -> Matrix:
    owner = await world.user("olga")
    acme = await world.group("acme")
    sales = await world.group("sales", acme)
    support = await world.group("support", acme)
    partners = await world.group("partners")
    support = await world.set_group(support, crm_source_group_id=partners.id)
    web = await world.project(sales, "web")
    helpdesk = await world.project(support, "helpdesk")
    for root in (acme, partners):
        await world.member(root, owner, AccessLevel.OWNER)

    sides = {}
    for crm, group, project, linked, free, org_name in (
        (acme, sales, web, "Ann", "Bob", "Initech"),
        (partners, support, helpdesk, "Pia", "Quinn", "Partnerco"),
    ):
        issue = await world.issue(project, owner)
        organization = await world.organization(crm, org_name)
        on_issue = await world.contact(crm, linked, "Lee", organization=organization)
        await world.link(issue, on_issue)
        sides[crm.path] = Side(
            group=group,
            project=project,
            issue=issue,
            crm=crm,
            linked=on_issue,
            free=await world.contact(crm, free, "Lee"),
            organization=organization,
        )
    places: dict[str, Group | Project] = {
        "acme": acme,
        "acme/sales": sales,
        "acme/support": support,
        "partners": partners,
        "acme/sales/web": web,
    }
    return Matrix(world, places, sides["acme"], sides["partners"])


async def enrol(matrix: Matrix, placement: str, role: str) -> tuple[str, Side]:
    """The user under test (an ``api`` token) and the side its operations act on."""
    world = matrix.world
    user = await world.user(f"u_{role}", admin=role == "admin")
    memberships: list[tuple[str, AccessLevel]] = []
    if placement == "source" and role != "admin":
        memberships.append(("acme/support", AccessLevel.GUEST))
    if role not in ("none", "admin"):
        level = AccessLevel[role.upper()]
        wheres = {
            "root": ["acme"],
            "subgroup": ["acme/sales"],
            "project": ["acme/sales/web"],
            "source": ["partners"],
            "source_and_sub": ["partners", "acme/support"],
        }[placement]
        memberships += [(where, level) for where in wheres]
    for where, level in memberships:
        await world.member(matrix.places[where], user, level)
    side = matrix.acme if placement in ("root", "subgroup", "project") else matrix.partners
    return await world.token(user), side


# ---------------------------------------------------------------- observing outcomes

Rows = dict[str, set[tuple[Any, ...]]]


async def snapshot(world: World) -> Rows:
    """Every CRM row, link and note: a denied call must leave all of it alone."""
    c, o = tables.contacts.c, tables.organizations.c
    ic, n = tables.issue_contacts.c, tables.notes.c
    queries = {
        "contacts": select(c.id, c.group_id, c.first_name, c.last_name, c.description),
        "organizations": select(o.id, o.group_id, o.name, o.description),
        "links": select(ic.issue_id, ic.contact_id),
        "notes": select(n.id, n.issue_id, n.body, n.system),
    }
    async with world.db.connect() as conn:
        return {
            name: {tuple(row) for row in (await conn.execute(query)).all()}
            for name, query in queries.items()
        }


def changes(before: Rows, after: Rows) -> dict[str, tuple[set[Any], set[Any]]]:
    """Per table that changed: (rows gone, rows new)."""
    return {
        name: (before[name] - after[name], after[name] - before[name])
        for name in before
        if before[name] != after[name]
    }


def payload_of(response: Response, field: str) -> Any:
    return (response.body.get("data") or {}).get(field)


def read_code(response: Response, field: str, nodes: list[Any] | None, expected: set[str]) -> str:
    if response.error_messages:
        return f"errors {response.error_messages}"
    if response.data[field] is None:
        return NULL
    assert nodes is not None
    ids = {node["id"] for node in nodes}
    if not ids:
        return EMPTY
    return OK if ids == expected else f"wrong ids {sorted(ids)}"


def mutation_code(
    response: Response, field: str, changed: dict[str, Any], applied: dict[str, Any]
) -> str:
    """``applied``: exactly the change a successful call must have made."""
    payload = payload_of(response, field)
    unchanged = not changed
    if response.error_messages == [RESOURCE_NOT_AVAILABLE] and payload is None and unchanged:
        return DENIED
    if not response.error_messages and payload is not None:
        if payload["errors"] == [INSUFFICIENT] and unchanged:
            return INSUF
        if payload["errors"] == [] and changed == applied:
            return OK
    return f"errors {response.error_messages}, payload {payload}, changed {changed}"


async def run_operations(world: World, token: str, side: Side) -> dict[str, str]:
    seen: dict[str, str] = {}
    contact_gids = {
        c.id: to_gid("CustomerRelations::Contact", c.id) for c in (side.linked, side.free)
    }

    response = await world.gql(LIST_CONTACTS, {"path": side.group.full_path}, token=token)
    group = payload_of(response, "group")
    seen["list_contacts"] = read_code(
        response,
        "group",
        None if group is None else group["contacts"]["nodes"],
        set(contact_gids.values()),
    )

    response = await world.gql(ISSUE_CONTACTS, {"id": to_gid("Issue", side.issue.id)}, token=token)
    issue = payload_of(response, "issue")
    seen["issue_contacts"] = read_code(
        response,
        "issue",
        None if issue is None else issue["customerRelationsContacts"]["nodes"],
        {contact_gids[side.linked.id]},
    )
    # The same issue in its project's list, where the contacts come with the page
    # (schema/lookahead.py), must follow the same rules.
    response = await world.gql(LISTED_ISSUE_CONTACTS, {"path": side.project.full_path}, token=token)
    project = payload_of(response, "project")
    issue_gid = to_gid("Issue", side.issue.id)
    listed = [i for i in (project or {"issues": {"nodes": []}})["issues"]["nodes"]]
    listed = [i for i in listed if i["id"] == issue_gid]
    listed_code = (
        NULL
        if not listed
        else read_code(
            response,
            "project",
            listed[0]["customerRelationsContacts"]["nodes"],
            {contact_gids[side.linked.id]},
        )
    )
    assert listed_code == seen["issue_contacts"]

    before = await snapshot(world)
    response = await world.gql(CONTACT_CREATE, {"group": to_gid("Group", side.crm.id)}, token=token)
    created = (payload_of(response, "customerRelationsContactCreate") or {}).get("contact")
    new_id = created and parse_gid(created["id"], "CustomerRelations::Contact")
    seen["contact_create"] = mutation_code(
        response,
        "customerRelationsContactCreate",
        changes(before, await snapshot(world)),
        {"contacts": (set(), {(new_id, side.crm.id, "New", "Person", None)})},
    )

    before = await snapshot(world)
    contact = side.free
    response = await world.gql(CONTACT_UPDATE, {"id": contact_gids[contact.id]}, token=token)
    row = (contact.id, side.crm.id, contact.first_name, contact.last_name)
    seen["contact_update"] = mutation_code(
        response,
        "customerRelationsContactUpdate",
        changes(before, await snapshot(world)),
        {"contacts": ({(*row, None)}, {(*row, "changed")})},
    )

    before = await snapshot(world)
    response = await world.gql(
        ORGANIZATION_CREATE, {"group": to_gid("Group", side.crm.id)}, token=token
    )
    created = (payload_of(response, "customerRelationsOrganizationCreate") or {}).get(
        "organization"
    )
    new_id = created and parse_gid(created["id"], "CustomerRelations::Organization")
    seen["organization_create"] = mutation_code(
        response,
        "customerRelationsOrganizationCreate",
        changes(before, await snapshot(world)),
        {"organizations": (set(), {(new_id, side.crm.id, "Newco", None)})},
    )

    before = await snapshot(world)
    org = side.organization
    response = await world.gql(
        ORGANIZATION_UPDATE, {"id": to_gid("CustomerRelations::Organization", org.id)}, token=token
    )
    seen["organization_update"] = mutation_code(
        response,
        "customerRelationsOrganizationUpdate",
        changes(before, await snapshot(world)),
        {
            "organizations": (
                {(org.id, side.crm.id, org.name, None)},
                {(org.id, side.crm.id, org.name, "changed")},
            )
        },
    )

    before = await snapshot(world)
    variables = {
        "project": side.project.full_path,
        "iid": str(side.issue.iid),
        "contact": contact_gids[side.free.id],
    }
    response = await world.gql(SET_ISSUE_CONTACTS, variables, token=token)
    after = await snapshot(world)
    new_notes = {note[0] for note in after["notes"] - before["notes"]}
    seen["set_issue_contacts"] = mutation_code(
        response,
        "issueSetCrmContacts",
        changes(before, after),
        {
            "links": (set(), {(side.issue.id, side.free.id)}),
            "notes": (set(), {(n, side.issue.id, "added 1 contact", True) for n in new_notes}),
        },
    )
    if seen["set_issue_contacts"] == OK:
        assert len(new_notes) == 1
    return seen


CASES = [
    pytest.param(placement, role, id=f"{placement}-{role}")
    for placement in PLACEMENTS
    for role in ROLES
]


def test_the_table_covers_every_placement_and_role_once() -> None:
    assert set(EXPECTED) == {(p, r) for p in PLACEMENTS for r in ROLES}
    assert all(len(codes) == len(OPERATIONS) for codes in EXPECTED.values())


@pytest.mark.parametrize(("placement", "role"), CASES)
async def test_crm_permission_matrix(matrix: Matrix, placement: str, role: str) -> None:
    token, side = await enrol(matrix, placement, role)
    seen = await run_operations(matrix.world, token, side)
    assert seen == dict(zip(OPERATIONS, EXPECTED[placement, role], strict=True))
