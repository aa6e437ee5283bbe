from __future__ import annotations

from crmgraph.domain.roles import AccessLevel
from tests.world import World


async def test_owner_creates_group_project_and_issue_and_reads_them_back(world: World) -> None:
    alice = await world.user("alice")
    token = await world.token(alice)
    created = await world.gql(
        'mutation { groupCreate(input: {path: "acme", name: "Acme"}) '
        "{ group { fullPath } errors } }",
        token=token,
    )
    assert created.data["groupCreate"] == {"group": {"fullPath": "acme"}, "errors": []}
    project = await world.gql(
        'mutation { projectCreate(input: {groupPath: "acme", path: "web", name: "Web"}) '
        "{ project { fullPath group { fullPath } } errors } }",
        token=token,
    )
    assert project.data["projectCreate"]["project"] == {
        "fullPath": "acme/web",
        "group": {"fullPath": "acme"},
    }
    issue = await world.gql(
        'mutation { createIssue(input: {projectPath: "acme/web", title: "Broken"}) '
        "{ issue { iid title state author { username } } errors } }",
        token=token,
    )
    assert issue.data["createIssue"]["issue"] == {
        "iid": "1",
        "title": "Broken",
        "state": "opened",
        "author": {"username": "alice"},
    }
    read = await world.gql(
        '{ project(fullPath: "acme/web") { issues { nodes { iid title } } } }', token=token
    )
    assert read.data["project"]["issues"]["nodes"] == [{"iid": "1", "title": "Broken"}]
    assert AccessLevel.OWNER == 50
