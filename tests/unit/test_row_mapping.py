"""Hot-path row mappers read by position: they must follow the column order of the
statements that feed them."""

from __future__ import annotations

from dataclasses import fields

from crmgraph.domain.contacts import ContactWithOrganization, Organization
from crmgraph.domain.issues import Issue, IssueState
from crmgraph.persistence.contact_rows import (
    CONTACT_COLUMNS,
    JOINED_ORGANIZATION,
    to_contact_with_organization,
)
from crmgraph.persistence.issues import ISSUE_COLUMNS, to_issue


def _distinct_values(names: list[str]) -> dict[str, object]:
    return {name: f"value of {name}" for name in names}


def test_an_issue_is_read_from_its_columns_by_position_with_more_columns_after() -> None:
    values = _distinct_values([c.name for c in ISSUE_COLUMNS])
    values["state"] = "closed"
    row = (*(values[c.name] for c in ISSUE_COLUMNS), "a sort key", "another")
    issue = to_issue(row)
    for field in fields(Issue):
        expected = IssueState.CLOSED if field.name == "state" else values[field.name]
        assert getattr(issue, field.name) == expected, field.name


def test_a_contact_and_its_organization_are_read_from_their_columns_by_position() -> None:
    columns = [c.name for c in (*CONTACT_COLUMNS, *JOINED_ORGANIZATION)]
    values = _distinct_values(columns)
    values.update(state="inactive", org_state="active")
    contact = to_contact_with_organization(tuple(values[name] for name in columns))
    for field in fields(ContactWithOrganization):
        if field.name == "organization":
            continue
        expected = False if field.name == "active" else values[field.name]
        assert getattr(contact, field.name) == expected, field.name
    organization = contact.organization
    assert organization is not None
    for field in fields(Organization):
        expected = True if field.name == "active" else values[f"org_{field.name}"]
        assert getattr(organization, field.name) == expected, field.name


def test_a_contact_without_organization_has_none() -> None:
    columns = [c.name for c in (*CONTACT_COLUMNS, *JOINED_ORGANIZATION)]
    values = {**_distinct_values(columns), "state": "active"}
    values.update({name: None for name in columns if name.startswith("org_")})
    contact = to_contact_with_organization(tuple(values[name] for name in columns))
    assert contact.organization is None
    assert contact.active is True
