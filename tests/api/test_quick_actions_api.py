"""Quick actions over GraphQL: createNote's quickActionsStatus, createIssue, updateIssue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from crmgraph.domain.crm import INSUFFICIENT
from crmgraph.domain.groups import Group
from crmgraph.domain.issues import Issue
from crmgraph.domain.roles import AccessLevel
from tests.world import Response, World

CREATE_NOTE = """mutation($input: CreateNoteInput!) {
  createNote(input: $input) {
    note { body }
    errors
    quickActionsStatus { messages errorMessages commandNames commandsOnly }
  }
}"""
CREATE_ISSUE = """mutation($input: CreateIssueInput!) {
  createIssue(input: $input) {
    issue { iid description customerRelationsContacts { nodes { email } } }
    errors
  }
}"""
UPDATE_ISSUE = """mutation($input: UpdateIssueInput!) {
  updateIssue(input: $input) {
    issue { description customerRelationsContacts { nodes { email } } }
    errors
  }
}"""
ISSUE_CONTACTS = """query($id: IssueID!) {
  issue(id: $id) {
    customerRelationsContacts { nodes { email } }
    notes { nodes { body system } }
  }
}"""


@dataclass
class Setup:
    world: World
    acme: Group
    issue: Issue
    tokens: dict[str, str]

    @property
    def issue_gid(self) -> str:
        return f"gid://gitlab/Issue/{self.issue.id}"

    async def run(self, query: str, who: str = "reporter", **fields: Any) -> Response:
        return await self.world.gql(query, {"input": fields}, token=self.tokens[who])

    async def contacts_and_notes(self, gid: str | None = None) -> dict[str, Any]:
        response = await self.world.gql(
            ISSUE_CONTACTS, {"id": gid or self.issue_gid}, token=self.tokens["owner"]
        )
        assert response.error_messages == []
        issue: dict[str, Any] = response.data["issue"]
        return {
            "contacts": [node["email"] for node in issue["customerRelationsContacts"]["nodes"]],
            "notes": [(node["body"], node["system"]) for node in issue["notes"]["nodes"]],
        }


@pytest.fixture
async def setup(world: World) -> Setup:
    acme = await world.group("acme")
    web = await world.project(acme, "web")
    tokens = {}
    for role in ("owner", "reporter", "guest"):
        user = await world.user(role)
        await world.member(acme, user, AccessLevel[role.upper()])
        tokens[role] = await world.token(user)
    issue = await world.issue(web, await world.user("author"))
    await world.contact(acme, "Ann", "Lee", "ann@example.com")
    await world.contact(acme, "Bob", "Okafor", "bob@example.com")
    return Setup(world, acme, issue, tokens)


# ------------------------------------------------------------------ createNote


async def test_done_when_a_reporters_note_links_ann_and_names_the_unknown_email(
    setup: Setup,
) -> None:
    response = await setup.run(
        CREATE_NOTE,
        noteableId=setup.issue_gid,
        body=(
            "Called the customer.\n"
            "/add_contacts [contact:ANN@example.com] [contact:nobody@example.com]"
        ),
    )
    assert response.status == 200
    assert response.body == {
        "data": {
            "createNote": {
                "note": {"body": "Called the customer."},
                "errors": [],
                "quickActionsStatus": {
                    "messages": ["Added 1 contact."],
                    "errorMessages": ["No contact found for nobody@example.com."],
                    "commandNames": ["add_contacts"],
                    "commandsOnly": False,
                },
            }
        }
    }
    assert await setup.contacts_and_notes() == {
        "contacts": ["ann@example.com"],
        "notes": [("Called the customer.", False), ("added 1 contact", True)],
    }


async def test_the_same_line_in_a_fenced_code_block_is_just_text(setup: Setup) -> None:
    body = "```\n/add_contacts [contact:ANN@example.com]\n```"
    response = await setup.run(CREATE_NOTE, noteableId=setup.issue_gid, body=body)
    assert response.data["createNote"] == {
        "note": {"body": body},
        "errors": [],
        "quickActionsStatus": None,
    }
    assert await setup.contacts_and_notes() == {"contacts": [], "notes": [(body, False)]}


async def test_a_note_of_commands_only_is_not_stored(setup: Setup) -> None:
    response = await setup.run(
        CREATE_NOTE,
        noteableId=setup.issue_gid,
        body="/add_contacts ann@example.com bob@example.com",
    )
    assert response.data["createNote"] == {
        "note": None,
        "errors": [],
        "quickActionsStatus": {
            "messages": ["Added 2 contacts."],
            "errorMessages": [],
            "commandNames": ["add_contacts"],
            "commandsOnly": True,
        },
    }
    assert await setup.contacts_and_notes() == {
        "contacts": ["ann@example.com", "bob@example.com"],
        "notes": [("added 2 contacts", True)],
    }


async def test_a_guests_commands_are_ignored_with_a_message(setup: Setup) -> None:
    response = await setup.run(
        CREATE_NOTE, "guest", noteableId=setup.issue_gid, body="Hi\n/add_contacts ann@example.com"
    )
    assert response.data["createNote"]["note"] == {"body": "Hi"}
    assert response.data["createNote"]["quickActionsStatus"]["errorMessages"] == [INSUFFICIENT]
    assert (await setup.contacts_and_notes())["contacts"] == []


# ------------------------------------------------------------------ createIssue, updateIssue


async def test_create_issue_adds_contacts_and_ignores_removal(setup: Setup) -> None:
    response = await setup.run(
        CREATE_ISSUE,
        projectPath="acme/web",
        title="Call back",
        description=(
            "Customer called.\n/add_contacts [contact:Ann@Example.com]\n"
            "/remove_contacts [contact:ann@example.com]"
        ),
    )
    assert response.error_messages == []
    assert response.data["createIssue"] == {
        "issue": {
            "iid": "2",
            "description": "Customer called.",
            "customerRelationsContacts": {"nodes": [{"email": "ann@example.com"}]},
        },
        "errors": [],
    }


async def test_create_issue_returns_the_issue_with_quick_action_errors(setup: Setup) -> None:
    response = await setup.run(
        CREATE_ISSUE,
        projectPath="acme/web",
        title="Call back",
        description="/add_contacts nobody@example.com bob@example.com",
    )
    assert response.data["createIssue"] == {
        "issue": {
            "iid": "2",
            "description": "",
            "customerRelationsContacts": {"nodes": [{"email": "bob@example.com"}]},
        },
        "errors": ["No contact found for nobody@example.com."],
    }


async def test_update_issue_description_adds_and_removes_contacts(setup: Setup) -> None:
    await setup.run(
        UPDATE_ISSUE,
        projectPath="acme/web",
        iid="1",
        description="/add_contacts ann@example.com bob@example.com",
    )
    response = await setup.run(
        UPDATE_ISSUE,
        projectPath="acme/web",
        iid="1",
        description="Only Bob now.\n/remove_contacts [contact:ANN@EXAMPLE.COM]",
    )
    assert response.data["updateIssue"] == {
        "issue": {
            "description": "Only Bob now.",
            "customerRelationsContacts": {"nodes": [{"email": "bob@example.com"}]},
        },
        "errors": [],
    }
    assert (await setup.contacts_and_notes())["notes"] == [
        ("added 2 contacts", True),
        ("removed 1 contact", True),
    ]


async def test_update_without_description_runs_no_commands(setup: Setup) -> None:
    await setup.run(
        UPDATE_ISSUE, projectPath="acme/web", iid="1", description="```\n/add_contacts a@b.c\n```"
    )
    response = await setup.run(UPDATE_ISSUE, projectPath="acme/web", iid="1", title="Renamed")
    assert response.data["updateIssue"]["errors"] == []
    assert await setup.contacts_and_notes() == {"contacts": [], "notes": []}
