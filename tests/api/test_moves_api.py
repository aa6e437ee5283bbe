"""issueMove, projectTransfer and groupTransfer through GraphQL (the rules: integration tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from crmgraph.domain.errors import RESOURCE_NOT_AVAILABLE
from crmgraph.domain.groups import Group
from crmgraph.domain.issues import Issue
from crmgraph.domain.roles import AccessLevel
from tests.world import World

CRM_REFUSED = (
    "Transfer failed: Group contains contacts/organizations and you don't have enough "
    "permissions to move them to the new root group."
)
ISSUE_FIELDS = """issue {
    iid title
    customerRelationsContacts { nodes { email } }
    notes { nodes { body system } }
}"""


@dataclass
class Api:
    world: World
    groups: dict[str, Group] = field(default_factory=dict)
    issue: Issue | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    async def __call__(
        self, who: str, name: str, selection: str, **fields: Any
    ) -> tuple[dict[str, Any] | None, list[str]]:
        """The payload (its echoed clientMutationId checked and removed) and top-level errors."""
        input_type = name[0].upper() + name[1:] + "Input"
        response = await self.world.gql(
            f"mutation($input: {input_type}!) "
            f"{{ {name}(input: $input) {{ clientMutationId errors {selection} }} }}",
            {"input": {"clientMutationId": "cm-1", **fields}},
            token=self.tokens[who],
        )
        payload: dict[str, Any] | None = response.data[name]
        if payload is not None:
            assert payload.pop("clientMutationId") == "cm-1"
        return payload, response.error_messages

    async def contact_emails(self, who: str, group_path: str) -> list[str]:
        query = "query($p: ID!) { group(fullPath: $p) { contacts { nodes { email } } } }"
        response = await self.world.gql(query, {"p": group_path}, token=self.tokens[who])
        return sorted(node["email"] for node in response.data["group"]["contacts"]["nodes"])


@pytest.fixture
async def api(world: World) -> Api:
    """acme (contacts ann@, bob@) ⊃ acme/support ⊃ project desk with issue #1 → ann, bob;
    project acme/web; root beta (contact ANN@) with project app. boss: Owner of acme and
    beta; reporter: Reporter of acme only; mover: Owner of acme, Maintainer of beta/inbox."""
    acme, beta = await world.group("acme"), await world.group("beta")
    support, inbox = await world.group("support", acme), await world.group("inbox", beta)
    desk = await world.project(support, "desk")
    await world.project(acme, "web")
    await world.project(beta, "app")
    users = {name: await world.user(name) for name in ("boss", "reporter", "mover")}
    for group, who, level in [
        (acme, "boss", AccessLevel.OWNER),
        (beta, "boss", AccessLevel.OWNER),
        (acme, "reporter", AccessLevel.REPORTER),
        (acme, "mover", AccessLevel.OWNER),
        (inbox, "mover", AccessLevel.MAINTAINER),
    ]:
        await world.member(group, users[who], level)
    issue = await world.issue(desk, users["boss"], "Printer on fire")
    await world.link(
        issue,
        await world.contact(acme, "Ann", "Lee", "ann@example.com"),
        await world.contact(acme, "Bob", "Ray", "bob@example.com"),
    )
    await world.contact(beta, "Annie", "Lee", "ANN@example.com")
    tokens = {name: await world.token(user) for name, user in users.items()}
    return Api(world, {"acme": acme, "beta": beta, "support": support}, issue, tokens)


async def test_issue_move_returns_the_issue_in_its_new_project(api: Api) -> None:
    payload, errors = await api(
        "boss",
        "issueMove",
        ISSUE_FIELDS,
        projectPath="acme/support/desk",
        iid="1",
        targetProjectPath="acme/web",
    )
    assert errors == []
    assert payload == {
        "errors": [],
        "issue": {
            "iid": "1",
            "title": "Printer on fire",
            "customerRelationsContacts": {
                "nodes": [{"email": "ann@example.com"}, {"email": "bob@example.com"}]
            },
            "notes": {"nodes": [{"body": "moved from acme/support/desk#1", "system": True}]},
        },
    }


async def test_issue_moved_to_another_root_comes_back_without_contacts(api: Api) -> None:
    payload, _ = await api(
        "boss",
        "issueMove",
        ISSUE_FIELDS,
        projectPath="acme/support/desk",
        iid="1",
        targetProjectPath="beta/app",
    )
    assert payload is not None and payload["issue"]["customerRelationsContacts"]["nodes"] == []
    assert payload["issue"]["notes"]["nodes"][-1] == {"body": "removed 2 contacts", "system": True}


async def test_issue_move_into_a_project_the_user_cannot_report_in_is_a_resource_error(
    api: Api,
) -> None:
    payload, errors = await api(
        "reporter",
        "issueMove",
        ISSUE_FIELDS,
        projectPath="acme/support/desk",
        iid="1",
        targetProjectPath="beta/app",
    )
    assert (payload, errors) == (None, [RESOURCE_NOT_AVAILABLE])


async def test_issue_move_to_its_own_project_is_a_payload_error(api: Api) -> None:
    payload, errors = await api(
        "boss",
        "issueMove",
        "issue { iid }",
        projectPath="acme/support/desk",
        iid="1",
        targetProjectPath="acme/support/desk",
    )
    assert errors == []
    assert payload == {
        "errors": ["Cannot move issue to project it originates from!"],
        "issue": None,
    }


async def test_project_transfer_returns_the_project_at_its_new_path(api: Api) -> None:
    payload, errors = await api(
        "boss",
        "projectTransfer",
        "project { fullPath group { fullPath } }",
        fullPath="acme/web",
        newGroupPath="beta",
    )
    assert errors == []
    assert payload == {
        "errors": [],
        "project": {"fullPath": "beta/web", "group": {"fullPath": "beta"}},
    }


async def test_project_transfer_by_a_non_owner_is_a_resource_error(api: Api) -> None:
    payload, errors = await api(
        "reporter",
        "projectTransfer",
        "project { fullPath }",
        fullPath="acme/web",
        newGroupPath="acme/support",
    )
    assert (payload, errors) == (None, [RESOURCE_NOT_AVAILABLE])


async def test_group_transfer_moves_the_subtree_and_its_contacts(api: Api) -> None:
    payload, errors = await api(
        "boss",
        "groupTransfer",
        "group { fullPath parent { fullPath } projects { nodes { fullPath } } }",
        fullPath="acme/support",
        newParentPath="beta",
    )
    assert errors == []
    assert payload == {
        "errors": [],
        "group": {
            "fullPath": "beta/support",
            "parent": {"fullPath": "beta"},
            "projects": {"nodes": [{"fullPath": "beta/support/desk"}]},
        },
    }
    assert await api.contact_emails("boss", "beta") == ["ANN@example.com", "bob@example.com"]
    assert await api.contact_emails("boss", "acme") == ["ann@example.com", "bob@example.com"]


async def test_group_transfer_to_root_takes_a_null_parent(api: Api) -> None:
    payload, errors = await api(
        "boss",
        "groupTransfer",
        "group { fullPath parent { fullPath } }",
        fullPath="acme/support",
        newParentPath=None,
    )
    assert errors == []
    assert payload == {"errors": [], "group": {"fullPath": "support", "parent": None}}
    assert await api.contact_emails("boss", "support") == ["ann@example.com", "bob@example.com"]


async def test_group_transfer_without_crm_rights_in_the_new_root_gives_gitlabs_message(
    api: Api,
) -> None:
    payload, errors = await api(
        "mover",
        "groupTransfer",
        "group { fullPath }",
        fullPath="acme/support",
        newParentPath="beta/inbox",
    )
    assert errors == []
    assert payload == {"errors": [CRM_REFUSED], "group": None}
    query = 'query { group(fullPath: "acme/support") { fullPath } }'
    response = await api.world.gql(query, token=api.tokens["boss"])
    assert response.data == {"group": {"fullPath": "acme/support"}}


async def test_group_transfer_by_a_non_owner_is_a_resource_error(api: Api) -> None:
    payload, errors = await api(
        "reporter",
        "groupTransfer",
        "group { fullPath }",
        fullPath="acme/support",
        newParentPath=None,
    )
    assert (payload, errors) == (None, [RESOURCE_NOT_AVAILABLE])
