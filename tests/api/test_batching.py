"""Lists cost a constant number of SQL statements, however many rows they show."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from crmgraph.domain.groups import Group, Project
from crmgraph.domain.roles import AccessLevel
from crmgraph.domain.users import User
from crmgraph.persistence import issues as issues_repo
from tests.world import World

MAX_STATEMENTS = 8
ISSUE_FIELDS = "iid title confidential projectId createdAt author { username name }"
PROJECT_ISSUES = (
    '{ project(fullPath: "acme/p0") { fullPath issues { nodes { ' + ISSUE_FIELDS + " } } } }"
)
GROUP_ISSUES = '{ group(fullPath: "acme") { issues { nodes { ' + ISSUE_FIELDS + " } } } }"
NOTES = (
    '{ project(fullPath: "acme/p0") { issues { nodes { iid author { username } '
    "notes { nodes { body author { username } } pageInfo { hasNextPage } } } } } }"
)


@dataclass
class Acme:
    world: World
    group: Group
    projects: list[Project]
    authors: list[User]
    token: str

    async def issues(self, count: int, *, spread: bool = False, notes: int = 0) -> None:
        """``count`` issues by rotating authors, in one project or spread over all of them;
        issues are written by the first five authors, notes by the other five."""
        async with self.world.db.transaction() as conn:
            for n in range(count):
                project = self.projects[n % len(self.projects) if spread else 0]
                author = self.authors[n % 5]
                issue = await issues_repo.create_issue(
                    conn,
                    project_id=project.id,
                    title=f"Issue {n}",
                    description=None,
                    confidential=n % 3 == 0,
                    author_id=author.id,
                    now=self.world.now(),
                )
                for k in range(notes):
                    await issues_repo.create_note(
                        conn,
                        issue_id=issue.id,
                        author_id=self.authors[5 + (n + k) % 5].id,
                        body=f"note {k}",
                        system=False,
                        now=self.world.now(),
                    )


@pytest.fixture
async def acme(world: World) -> Acme:
    group = await world.group("acme")
    sub = await world.group("sub", group)
    projects = [await world.project(group if n < 5 else sub, f"p{n}") for n in range(10)]
    authors = [await world.user(f"author{n}") for n in range(10)]
    # A reader whose levels vary per project, so every project's level is really looked up.
    reader = await world.user("reader")
    await world.member(group, reader, AccessLevel.GUEST)
    for project in projects[::2]:
        await world.member(project, reader, AccessLevel.REPORTER)
    return Acme(world, group, projects, authors, await world.token(reader))


async def statements(acme: Acme, query: str) -> tuple[int, int]:
    """Statements the request sent, and how many issue nodes it returned."""
    counter = acme.world.db.counter
    counter.reset()
    response = await acme.world.gql(query, token=acme.token)
    count = counter.count
    assert response.error_messages == []
    root = response.data.get("project") or response.data["group"]
    return count, len(root["issues"]["nodes"])


@pytest.mark.parametrize(("query", "spread"), [(PROJECT_ISSUES, False), (GROUP_ISSUES, True)])
async def test_listing_50_issues_with_authors_costs_what_5_cost(
    world: World, acme: Acme, query: str, spread: bool
) -> None:
    await acme.issues(5, spread=spread)
    few, shown_few = await statements(acme, query)
    await acme.issues(45, spread=spread)
    many, shown_many = await statements(acme, query)
    assert shown_many > shown_few >= 3  # confidential issues hidden in some projects only
    assert many == few
    assert few <= MAX_STATEMENTS


async def test_notes_of_20_issues_cost_what_notes_of_2_issues_cost(
    world: World, acme: Acme
) -> None:
    await acme.issues(2, notes=3)
    few, shown_few = await statements(acme, NOTES)
    await acme.issues(18, notes=3)
    many, shown_many = await statements(acme, NOTES)
    assert (shown_few, shown_many) == (2, 20)
    assert many == few
    assert few <= MAX_STATEMENTS


async def test_listing_projects_of_a_group_costs_the_same_for_5_and_15(
    world: World, acme: Acme
) -> None:
    query = '{ group(fullPath: "acme") { projects { nodes { fullPath name } } } }'
    counter = world.db.counter
    results = []
    for extra in (0, 10):
        for n in range(extra):
            await world.project(acme.group, f"more{n}")
        counter.reset()
        response = await world.gql(query, token=acme.token)
        results.append((counter.count, len(response.data["group"]["projects"]["nodes"])))
    (few, shown_few), (many, shown_many) = results
    assert (shown_few, shown_many) == (5, 15)
    assert many == few
    assert few <= MAX_STATEMENTS
