"""Demo data for ``make run``: a small company with every role represented."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from crmgraph.domain.contacts import Contact
from crmgraph.domain.crm import system_note
from crmgraph.domain.groups import Group, join_path
from crmgraph.domain.roles import AccessLevel
from crmgraph.domain.users import Scope
from crmgraph.mutations.accounts import IssuedToken, issue_token
from crmgraph.persistence import contacts as contacts_repo
from crmgraph.persistence import groups as groups_repo
from crmgraph.persistence import issue_contacts as links_repo
from crmgraph.persistence import issues as issues_repo
from crmgraph.persistence import members as members_repo
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


ORGANIZATIONS = [
    ("Initech", "150.00", "Enterprise customer since 2019."),
    ("Globex Corporation", "120.50", None),
    ("Umbrella Health", "99.99", "Healthcare; strict data handling."),
    ("Hooli", None, "Trial account."),
    ("Vandelay Industries", "80.00", "Importer/exporter. Inactive since the merger."),
]
FIRST = ["Ann", "Bob", "Carla", "Dev", "Erin", "Farid", "Greta", "Hiro", "Ines", "Jonas"]
LAST = ["Lee", "Okafor", "Schmidt", "Novak", "Silva", "Tanaka", "Berg", "Costa"]
PARTNERS = [
    ("Pia", "Larsen", "pia@partner.example"),
    ("Quentin", "Moreau", "quentin@partner.example"),
    ("Rosa", "Diaz", None),
    ("Sven", "Holm", "sven@partner.example"),
    ("Tara", "Walsh", "tara@partner.example"),
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
                await members_repo.set_group_member(
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
        # The support subgroup takes its contacts from acme/partners (a contact source).
        partners = await groups_repo.create_group(
            conn,
            parent=groups["acme"],
            path="partners",
            name="Partners",
            full_path="acme/partners",
            now=tick(),
        )
        await groups_repo.update_group(
            conn, groups["acme/support"].id, {"crm_source_group_id": partners.id}, tick()
        )
        acme_contacts = await _acme_crm(conn, groups["acme"], tick)
        partner_contacts = [
            await contacts_repo.create_contact(
                conn,
                group_id=partners.id,
                values={"first_name": f, "last_name": last, "email": email},
                now=tick(),
            )
            for f, last, email in PARTNERS
        ]
        authors = ["reporter", "developer", "maintainer", "guest", "planner", "owner", "reporter"]
        for n, ((project_path, title, description, confidential), author) in enumerate(
            zip(ISSUES, authors, strict=True)
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
            pool = acme_contacts if project_path == "acme/web" else partner_contacts
            start = (n * 2) % len(pool)
            linked = [c.id for c in pool[start : start + 1 + n % 3] if c.active]
            note = system_note(len(linked), 0)
            if note is not None:
                await links_repo.link(conn, issue.id, linked, tick())
                await issues_repo.create_note(
                    conn,
                    issue_id=issue.id,
                    author_id=people["developer"].id,
                    body=note,
                    system=True,
                    now=tick(),
                )


async def _acme_crm(
    conn: AsyncConnection, acme: Group, tick: Callable[[], datetime]
) -> list[Contact]:
    """Five organizations and 45 contacts: some inactive, some without email or company."""
    organizations = []
    for name, rate, description in ORGANIZATIONS:
        organizations.append(
            await contacts_repo.create_organization(
                conn,
                group_id=acme.id,
                now=tick(),
                values={
                    "name": name,
                    "default_rate": None if rate is None else Decimal(rate),
                    "description": description,
                    "active": not name.startswith("Vandelay"),
                },
            )
        )
    contacts = []
    for n in range(45):
        first, last = FIRST[n % len(FIRST)], LAST[(n * 3) % len(LAST)]
        org = organizations[n % 6] if n % 6 < len(organizations) else None
        domain = "example.com" if org is None else org.name.split()[0].lower() + ".example"
        contacts.append(
            await contacts_repo.create_contact(
                conn,
                group_id=acme.id,
                now=tick(),
                values={
                    "first_name": first,
                    "last_name": last if n < 10 else f"{last}-{n}",
                    "email": None if n % 9 == 4 else f"{first.lower()}.{n}@{domain}",
                    "phone": None if n % 2 else f"+1 555 01{n:02d}",
                    "organization_id": None if org is None else org.id,
                    "description": "Prefers phone calls." if n % 7 == 0 else None,
                    "active": n % 11 != 5,
                },
            )
        )
    return contacts


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
