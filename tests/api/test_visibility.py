"""Spec §3: role inheritance and what each member sees, through GraphQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from crmgraph.domain.groups import Group, Project
from crmgraph.domain.issues import Issue
from crmgraph.domain.roles import AccessLevel
from crmgraph.domain.users import User
from crmgraph.persistence import groups as groups_repo
from crmgraph.persistence import issues as issues_repo
from crmgraph.persistence import members as members_repo
from crmgraph.persistence import users as users_repo
from tests.world import World

ALL_WEB = {"web public", "web confidential", "web guest's secret"}
ALL_DESK = {"desk public", "desk confidential"}


@dataclass
class Tree:
    """acme (root) ⊃ acme/web, acme/support ⊃ acme/support/desk; other ⊃ other/vault."""

    world: World
    users: dict[str, User]
    issues: dict[str, Issue]
    tokens: dict[str, str] = field(default_factory=dict)

    async def query(self, who: str | None, query: str, **variables: object) -> dict[str, Any]:
        if who is not None and who not in self.tokens:
            self.tokens[who] = await self.world.token(self.users[who])
        token = None if who is None else self.tokens[who]
        response = await self.world.gql(query, variables, token=token)
        assert response.error_messages == []
        return response.data

    async def titles(self, who: str | None, kind: str, path: str) -> set[str] | None:
        """Titles in ``Group.issues`` or ``Project.issues``; None when the parent is hidden."""
        query = f"query($p: ID!) {{ {kind}(fullPath: $p) {{ issues {{ nodes {{ title }} }} }} }}"
        found = (await self.query(who, query, p=path))[kind]
        return None if found is None else {node["title"] for node in found["issues"]["nodes"]}


USERS = [
    *("guest", "planner", "reporter", "author", "sub_dev", "desk_reporter"),
    *("guest_web_reporter", "stranger", "admin", "boss"),
]
MEMBERSHIPS = [
    ("acme", "guest", AccessLevel.GUEST),
    ("acme", "planner", AccessLevel.PLANNER),
    ("acme", "reporter", AccessLevel.REPORTER),
    ("acme", "author", AccessLevel.GUEST),
    ("acme", "boss", AccessLevel.OWNER),
    ("acme/support", "sub_dev", AccessLevel.DEVELOPER),
    ("acme/support/desk", "desk_reporter", AccessLevel.REPORTER),
    ("acme", "guest_web_reporter", AccessLevel.GUEST),
    ("acme/web", "guest_web_reporter", AccessLevel.REPORTER),
    ("other", "boss", AccessLevel.OWNER),
]
ISSUES = [  # title, project, author, confidential
    ("web public", "acme/web", "boss", False),
    ("web confidential", "acme/web", "boss", True),
    ("web guest's secret", "acme/web", "author", True),
    ("desk public", "acme/support/desk", "boss", False),
    ("desk confidential", "acme/support/desk", "boss", True),
    ("vault public", "other/vault", "boss", False),
]


@pytest.fixture
async def tree(world: World) -> Tree:
    """Built in one transaction: the tree is rebuilt for every test."""
    now = world.now()
    async with world.db.transaction() as conn:
        users = {
            name: await users_repo.create_user(
                conn, username=name, name=name, email=None, admin=name == "admin", now=now
            )
            for name in USERS
        }
        places: dict[str, Group | Project] = {}
        for path in ("acme", "acme/support", "other"):
            parent = places.get(path.rpartition("/")[0])
            assert parent is None or isinstance(parent, Group)
            places[path] = await groups_repo.create_group(
                conn,
                parent=parent,
                path=path.rpartition("/")[2],
                name=path,
                full_path=path,
                now=now,
            )
        for path in ("acme/web", "acme/support/desk", "other/vault"):
            group = places[path.rpartition("/")[0]]
            assert isinstance(group, Group)
            places[path] = await groups_repo.create_project(
                conn, group=group, path=path.rpartition("/")[2], name=path, now=now
            )
        for path, name, level in MEMBERSHIPS:
            where, user_id = places[path], users[name].id
            if isinstance(where, Group):
                await members_repo.set_group_member(
                    conn, group_id=where.id, user_id=user_id, level=level, now=now
                )
            else:
                await members_repo.set_project_member(
                    conn, project_id=where.id, user_id=user_id, level=level, now=now
                )
        issues = {
            title: await issues_repo.create_issue(
                conn,
                project_id=places[path].id,
                title=title,
                description=None,
                confidential=confidential,
                author_id=users[author].id,
                now=world.now(),
            )
            for title, path, author, confidential in ISSUES
        }
    return Tree(world, users, issues)


async def test_member_of_root_group_sees_subgroups_projects_and_issues_below(tree: Tree) -> None:
    data = await tree.query(
        "guest",
        '{ group(fullPath: "acme") { projects { nodes { fullPath } } } '
        'sub: group(fullPath: "acme/support") { fullPath parent { fullPath } '
        "projects { nodes { fullPath } } } "
        'project(fullPath: "acme/support/desk") '
        "{ group { fullPath } issues { nodes { title } } } }",
    )
    assert data["group"] == {"projects": {"nodes": [{"fullPath": "acme/web"}]}}
    assert data["sub"] == {
        "fullPath": "acme/support",
        "parent": {"fullPath": "acme"},
        "projects": {"nodes": [{"fullPath": "acme/support/desk"}]},
    }
    assert data["project"] == {
        "group": {"fullPath": "acme/support"},
        "issues": {"nodes": [{"title": "desk public"}]},
    }


async def test_member_of_subgroup_only_sees_the_subgroup_but_not_the_root(tree: Tree) -> None:
    data = await tree.query(
        "sub_dev",
        '{ root: group(fullPath: "acme") { id } sub: group(fullPath: "acme/support") '
        '{ fullPath parent { fullPath } } web: project(fullPath: "acme/web") { id } '
        'desk: project(fullPath: "acme/support/desk") { group { fullPath } } }',
    )
    assert data == {
        "root": None,
        "sub": {"fullPath": "acme/support", "parent": None},
        "web": None,
        "desk": {"group": {"fullPath": "acme/support"}},
    }
    assert await tree.titles("sub_dev", "group", "acme/support") == ALL_DESK


async def test_project_only_member_sees_the_project_and_its_issues_but_not_the_group(
    tree: Tree,
) -> None:
    data = await tree.query(
        "desk_reporter",
        '{ project(fullPath: "acme/support/desk") { fullPath group { fullPath } } '
        'sub: group(fullPath: "acme/support") { id } root: group(fullPath: "acme") { id } }',
    )
    assert data == {
        "project": {"fullPath": "acme/support/desk", "group": None},
        "sub": None,
        "root": None,
    }
    assert await tree.titles("desk_reporter", "project", "acme/support/desk") == ALL_DESK


@pytest.mark.parametrize("who", ["stranger", None])
async def test_non_member_gets_null_for_group_project_and_issue(
    tree: Tree, who: str | None
) -> None:
    for path in ("acme", "acme/support"):
        assert await tree.titles(who, "group", path) is None
    for path in ("acme/web", "acme/support/desk"):
        assert await tree.titles(who, "project", path) is None
    for issue in tree.issues.values():
        query = "query($id: IssueID!) { issue(id: $id) { title } }"
        data = await tree.query(who, query, id=f"gid://gitlab/Issue/{issue.id}")
        assert data == {"issue": None}


# Who sees which issues of acme/web and acme/support/desk.
CONFIDENTIALITY = [
    ("guest", {"web public"}, {"desk public"}),
    ("planner", {"web public"}, {"desk public"}),
    ("author", {"web public", "web guest's secret"}, {"desk public"}),
    ("reporter", ALL_WEB, ALL_DESK),
    ("boss", ALL_WEB, ALL_DESK),
    ("admin", ALL_WEB, ALL_DESK),
    ("guest_web_reporter", ALL_WEB, {"desk public"}),
    ("sub_dev", None, ALL_DESK),
    ("desk_reporter", None, ALL_DESK),
    ("stranger", None, None),
]


@pytest.mark.parametrize(("who", "web", "desk"), CONFIDENTIALITY)
async def test_confidential_issues_need_reporter_or_authorship_in_every_lookup(
    tree: Tree, who: str, web: set[str] | None, desk: set[str] | None
) -> None:
    assert await tree.titles(who, "project", "acme/web") == web
    assert await tree.titles(who, "project", "acme/support/desk") == desk
    # Group.issues covers the projects of descendant groups, with the same rules.
    in_root = await tree.titles(who, "group", "acme")
    assert in_root == (None if web is None else web | (desk or set()))
    project_only = who == "desk_reporter"
    in_sub = await tree.titles(who, "group", "acme/support")
    assert in_sub == (None if desk is None or project_only else desk)
    visible = (web or set()) | (desk or set())
    for title, path, _, _ in ISSUES[:-1]:
        issue = tree.issues[title]
        data = await tree.query(
            who,
            "query($id: IssueID!, $p: ID!, $iid: String!) { issue(id: $id) { title } "
            "project(fullPath: $p) { issue(iid: $iid) { title } } }",
            id=f"gid://gitlab/Issue/{issue.id}",
            p=path,
            iid=str(issue.iid),
        )
        expected = {"title": title} if title in visible else None
        assert data["issue"] == expected, title
        if data["project"] is not None:
            assert data["project"]["issue"] == expected, title


async def test_admin_sees_groups_and_projects_without_membership(tree: Tree) -> None:
    data = await tree.query(
        "admin",
        '{ group(fullPath: "other") { fullPath projects { nodes { fullPath } } } '
        'project(fullPath: "other/vault") { issues { nodes { title } } } }',
    )
    assert data == {
        "group": {"fullPath": "other", "projects": {"nodes": [{"fullPath": "other/vault"}]}},
        "project": {"issues": {"nodes": [{"title": "vault public"}]}},
    }
