"""Demo data for ``make run``: a small company with every role represented."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from crmgraph.domain.groups import Group, join_path
from crmgraph.domain.roles import AccessLevel
from crmgraph.domain.users import Scope
from crmgraph.mutations.accounts import IssuedToken, issue_token
from crmgraph.persistence import groups as groups_repo
from crmgraph.persistence import issues as issues_repo
from crmgraph.persistence import users as users_repo
from crmgraph.persistence.tables import personal_access_tokens, users
from crmgraph.persistence.unit_of_work import Database

DEMO_TOKEN_NAME = "demo"

#: username → role in the root group ``acme`` (None: no membership anywhere).
DEMO_USERS: dict[str, AccessLevel | None] = {
    "owner": AccessLevel.OWNER,
    "maintainer": AccessLevel.MAINTAINER,
    "developer": AccessLevel.DEVELOPER,
    "reporter": AccessLevel.REPORTER,
    "planner": AccessLevel.PLANNER,
    "guest": AccessLevel.GUEST,
    "outsider": None,
}

ISSUES = [
    ("acme/web", "Checkout page times out for EU customers", "Reported by two customers.", False),
    ("acme/web", "Invoice PDF shows the wrong VAT rate", "Since the last release.", False),
    ("acme/web", "Security: session cookie lacks SameSite", "Do not discuss publicly.", True),
    ("acme/web", "Add dark mode to the customer portal", None, False),
    ("acme/support/helpdesk", "Customer cannot reset password", "Phone call on Monday.", False),
    ("acme/support/helpdesk", "Bulk export of tickets fails", "Large accounts only.", False),
    ("acme/support/helpdesk", "Refund request for order 1042", "Contains payment data.", True),
]


@dataclass(frozen=True)
class DemoTokens:
    tokens: list[IssuedToken]


async def is_empty(db: Database) -> bool:
    async with db.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(users))).scalar_one()) == 0


async def load_demo_world(db: Database, now: datetime | None = None) -> None:
    """The demo company ``acme``; call only on an empty database."""
    clock = now or datetime.now(UTC) - timedelta(days=30)

    def tick() -> datetime:
        nonlocal clock
        clock += timedelta(minutes=37)
        return clock

    async with db.transaction() as conn:
        people = {}
        for username in DEMO_USERS:
            people[username] = await users_repo.create_user(
                conn,
                username=username,
                name=username.title() + " Demo",
                email=f"{username}@acme.example",
                admin=False,
                now=tick(),
            )
        await users_repo.create_user(
            conn,
            username="admin",
            name="Instance Admin",
            email="admin@acme.example",
            admin=True,
            now=tick(),
        )
        groups: dict[str, Group] = {}
        for parent_path, path, name in (
            (None, "acme", "Acme Corp"),
            ("acme", "support", "Support"),
        ):
            parent = None if parent_path is None else groups[parent_path]
            groups[join_path(parent_path, path)] = await groups_repo.create_group(
                conn,
                parent=parent,
                path=path,
                name=name,
                full_path=join_path(parent_path, path),
                now=tick(),
            )
        for username, level in DEMO_USERS.items():
            if level is not None:
                await groups_repo.set_group_member(
                    conn,
                    group_id=groups["acme"].id,
                    user_id=people[username].id,
                    level=level,
                    now=tick(),
                )
        projects = {
            "acme/web": await groups_repo.create_project(
                conn, group=groups["acme"], path="web", name="Web shop", now=tick()
            ),
            "acme/support/helpdesk": await groups_repo.create_project(
                conn, group=groups["acme/support"], path="helpdesk", name="Helpdesk", now=tick()
            ),
        }
        authors = ["reporter", "developer", "maintainer", "guest", "planner", "owner", "reporter"]
        for (project_path, title, description, confidential), author in zip(
            ISSUES, authors, strict=True
        ):
            issue = await issues_repo.create_issue(
                conn,
                project_id=projects[project_path].id,
                title=title,
                description=description,
                confidential=confidential,
                author_id=people[author].id,
                now=tick(),
            )
            await issues_repo.create_note(
                conn,
                issue_id=issue.id,
                author_id=people["developer"].id,
                body="Looking into it.",
                system=False,
                now=tick(),
            )


async def issue_demo_tokens(db: Database, secret: str, now: datetime) -> DemoTokens:
    """Fresh ``api`` tokens for every demo user; earlier demo tokens are revoked."""
    async with db.transaction() as conn:
        await conn.execute(
            personal_access_tokens.update()
            .where(
                personal_access_tokens.c.name == DEMO_TOKEN_NAME,
                personal_access_tokens.c.revoked_at.is_(None),
            )
            .values(revoked_at=now, updated_at=now)
        )
    issued = []
    for username in [*DEMO_USERS, "admin"]:
        issued.append(
            await issue_token(
                db,
                username=username,
                secret=secret,
                scope=Scope.API,
                name=DEMO_TOKEN_NAME,
                now=now,
            )
        )
    return DemoTokens(issued)
