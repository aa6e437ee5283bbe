"""How PostgreSQL makes a page whose rows carry much text."""

from __future__ import annotations

import json
from typing import Any

import pytest

from crmgraph.domain.pagination import PageArgs
from crmgraph.persistence import issues as issues_repo
from crmgraph.persistence.unit_of_work import Database
from tests.plans import plan_of
from tests.world import World

EMAILS = (("email", "email"),)


async def test_an_issue_page_with_its_contacts_json_is_made_whole_before_it_is_sent(
    world: World, db: Database
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("the contacts' JSON is written by PostgreSQL")
    acme = await world.group("acme")
    web = await world.project(acme, "web")
    author = await world.user("author")
    ann = await world.contact(acme, "Ann", "Lee", "ann@example.com")
    bob = await world.contact(acme, "Bob", "Ray", "bob@example.com")
    for n in range(4):
        issue = await world.issue(web, author, f"Issue {n}")
        await world.link(issue, *[ann, bob][: n % 3])
    answers: list[Any] = []

    async def listed(conn: Any) -> None:
        answers.append(
            await issues_repo.issues_page_with_contacts_json(
                conn, web.id, issues_repo.IssueFilter(), PageArgs.of(first=3), EMAILS, 10
            )
        )

    [root] = json.loads(await plan_of(db, listed, "EXPLAIN (FORMAT JSON)"))
    # Sorted last, by an order PostgreSQL cannot take from the rows below: it makes every
    # row before it sends the first, and the page leaves in one burst rather than in as
    # many pieces as its text fills the server's send buffer, each a wake-up for the
    # client's event loop.
    assert root["Plan"]["Node Type"] == "Sort"
    [(page, found)] = answers
    assert [issue.title for issue in page.items] == ["Issue 3", "Issue 2", "Issue 1"]
    assert [found[issue.id][0] for issue in page.items] == [
        "[]",
        '[{"email":"ann@example.com"},{"email":"bob@example.com"}]',
        '[{"email":"ann@example.com"}]',
    ]
