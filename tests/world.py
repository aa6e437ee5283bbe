"""Building a world for a test directly through the repositories, and talking to the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import insert

from crmgraph.app import create_app
from crmgraph.domain.contacts import Contact, Organization
from crmgraph.domain.groups import Group, Project, join_path
from crmgraph.domain.issues import Issue
from crmgraph.domain.roles import AccessLevel
from crmgraph.domain.users import Scope, User
from crmgraph.mutations.accounts import issue_token
from crmgraph.persistence import contacts as contacts_repo
from crmgraph.persistence import groups as groups_repo
from crmgraph.persistence import issue_contacts as links_repo
from crmgraph.persistence import issues as issues_repo
from crmgraph.persistence import members as members_repo
from crmgraph.persistence import tables
from crmgraph.persistence import users as users_repo
from crmgraph.persistence.unit_of_work import Database
from crmgraph.settings import Settings

SECRET = "test-secret"
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@dataclass
class Response:
    status: int
    body: dict[str, Any]

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.body["data"]
        return data

    @property
    def error_messages(self) -> list[str]:
        return [e["message"] for e in self.body.get("errors") or []]


class World:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.clock = T0
        # No token cache: tests revoke tokens and expect the next request to see it.
        self.app = create_app(Settings(secret=SECRET, token_cache_seconds=0), db=db)

    def now(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    async def user(self, username: str, *, admin: bool = False) -> User:
        async with self.db.transaction() as conn:
            return await users_repo.create_user(
                conn,
                username=username,
                name=username.title(),
                email=f"{username}@example.com",
                admin=admin,
                now=self.now(),
            )

    async def token(
        self, user: User, *, scope: Scope = Scope.API, expires_at: datetime | None = None
    ) -> str:
        issued = await issue_token(
            self.db,
            username=user.username,
            secret=SECRET,
            scope=scope,
            expires_at=expires_at,
            now=datetime.now(UTC) - timedelta(days=1) if expires_at else self.now(),
        )
        return issued.token

    async def group(self, path: str, parent: Group | None = None) -> Group:
        async with self.db.transaction() as conn:
            return await groups_repo.create_group(
                conn,
                parent=parent,
                path=path,
                name=path.title(),
                full_path=join_path(None if parent is None else parent.full_path, path),
                now=self.now(),
            )

    async def project(self, group: Group, path: str) -> Project:
        async with self.db.transaction() as conn:
            return await groups_repo.create_project(
                conn, group=group, path=path, name=path.title(), now=self.now()
            )

    async def member(self, where: Group | Project, user: User, level: AccessLevel) -> None:
        async with self.db.transaction() as conn:
            if isinstance(where, Group):
                await members_repo.set_group_member(
                    conn, group_id=where.id, user_id=user.id, level=level, now=self.now()
                )
            else:
                await members_repo.set_project_member(
                    conn, project_id=where.id, user_id=user.id, level=level, now=self.now()
                )

    async def issue(
        self, project: Project, author: User, title: str = "An issue", *, confidential: bool = False
    ) -> Issue:
        async with self.db.transaction() as conn:
            return await issues_repo.create_issue(
                conn,
                project_id=project.id,
                title=title,
                description=None,
                confidential=confidential,
                author_id=author.id,
                now=self.now(),
            )

    async def organization(
        self, group: Group, name: str, *, default_rate: str | None = None, **values: Any
    ) -> Organization:
        rate = None if default_rate is None else Decimal(default_rate)
        async with self.db.transaction() as conn:
            return await contacts_repo.create_organization(
                conn,
                group_id=group.id,
                values={"name": name, "default_rate": rate, **values},
                now=self.now(),
            )

    async def contact(
        self,
        group: Group,
        first_name: str,
        last_name: str,
        email: str | None = None,
        *,
        organization: Organization | None = None,
        **values: Any,
    ) -> Contact:
        """A contact stored directly (``active=False`` for an inactive one)."""
        async with self.db.transaction() as conn:
            return await contacts_repo.create_contact(
                conn,
                group_id=group.id,
                values={
                    "first_name": first_name,
                    "last_name": last_name,
                    "email": email,
                    "organization_id": None if organization is None else organization.id,
                    **values,
                },
                now=self.now(),
            )

    async def many_contacts(self, group: Group, count: int) -> None:
        """``count`` contacts ``First{n} Last{n:04d}`` in one insert, then the table
        analyzed, as autovacuum would leave it: for tests of PostgreSQL's plans."""
        async with self.db.transaction() as conn:
            await conn.execute(
                insert(tables.contacts),
                [{"group_id": group.id, "first_name": f"First{n}", "last_name": f"Last{n:04d}",
                  "state": "active", "created_at": self.now(), "updated_at": self.now()}
                 for n in range(count)],
            )  # fmt: skip
            if self.db.dialect == "postgresql":
                await conn.exec_driver_sql("ANALYZE customer_relations_contacts")

    async def link(self, issue: Issue, *contacts: Contact) -> None:
        async with self.db.transaction() as conn:
            await links_repo.link(conn, issue.id, [c.id for c in contacts], self.now())

    async def set_group(self, group: Group, **values: Any) -> Group:
        """Change stored group settings (``crm_enabled``, ``crm_source_group_id``)."""
        async with self.db.transaction() as conn:
            return await groups_repo.update_group(conn, group.id, values, self.now())

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        path: str = "/api/graphql",
    ) -> Response:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://crmgraph.test"
        ) as client:
            response = await client.post(
                path, json={"query": query, "variables": variables or {}}, headers=headers
            )
        return Response(response.status_code, response.json())

    async def http(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://crmgraph.test"
        ) as client:
            return await client.request(method, path, **kwargs)
