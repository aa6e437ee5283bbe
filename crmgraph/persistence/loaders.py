"""Per-request dataloaders: every relation is fetched in batches with one ``IN`` query."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncConnection

from crmgraph.domain.contacts import ContactWithOrganization, Organization
from crmgraph.domain.groups import Group, Project, is_whole_chain, levels_along
from crmgraph.domain.issues import Issue, Note
from crmgraph.domain.pagination import Page, PageArgs
from crmgraph.domain.users import User
from crmgraph.persistence import contacts as contacts_repo
from crmgraph.persistence import groups as groups_repo
from crmgraph.persistence import issue_contacts as links_repo
from crmgraph.persistence import issues as issues_repo
from crmgraph.persistence import members as members_repo
from crmgraph.persistence import users as users_repo
from crmgraph.persistence.unit_of_work import Database

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Fetch = Callable[[AsyncConnection, Sequence[Any]], Awaitable[dict[Any, Any]]]
PagedFetch = Callable[[AsyncConnection, Sequence[Any], PageArgs], Awaitable[dict[Any, Any]]]


class Loaders:
    """Built per request; each batch takes its own connection, so concurrent batches are safe."""

    def __init__(self, db: Database, user_id: int | None) -> None:
        self.db = db
        self.user_id = user_id
        self.users: DataLoader[Any, Any] = self._by_key(users_repo.users_by_ids)
        self.groups: DataLoader[Any, Any] = self._by_key(groups_repo.groups_by_ids)
        self.projects: DataLoader[Any, Any] = self._by_key(groups_repo.projects_by_ids)
        self.issues: DataLoader[Any, Any] = self._by_key(issues_repo.issues_by_ids)
        self.group_levels: DataLoader[Any, Any] = self._by_key(self._group_levels)
        self.project_levels: DataLoader[Any, Any] = self._by_key(self._project_levels)
        self.issue_notes: DataLoader[Any, Any] = self._paged(issues_repo.notes_pages)
        self.contacts: DataLoader[Any, Any] = self._by_key(contacts_repo.contacts_by_ids)
        self.organizations: DataLoader[Any, Any] = self._by_key(contacts_repo.organizations_by_ids)
        self.group_chains: DataLoader[Any, Any] = self._by_key(self._group_chains)
        self.issue_contacts: DataLoader[Any, Any] = self._paged(links_repo.issue_contacts_pages)
        #: Without timestamps, for lists whose query does not show them.
        self.lean_issue_contacts: DataLoader[Any, Any] = self._paged(
            links_repo.lean_issue_contacts_pages
        )

    def _by_key(self, fetch: Fetch) -> DataLoader[Any, Any]:
        async def batch(keys: list[Any]) -> list[Any]:
            async with self.db.connect() as conn:
                found = await fetch(conn, keys)
            return [found.get(key) for key in keys]

        return DataLoader(batch)

    def _paged(self, fetch: PagedFetch) -> DataLoader[Any, Any]:
        """Keys are ``(parent id, PageArgs)``; one query per distinct page shape."""

        async def batch(keys: list[tuple[Any, PageArgs]]) -> list[Any]:
            by_shape: dict[PageArgs, list[Any]] = {}
            for parent_id, page in keys:
                by_shape.setdefault(page, []).append(parent_id)
            results: dict[tuple[Any, PageArgs], Any] = {}
            async with self.db.connect() as conn:
                for page, parent_ids in by_shape.items():
                    pages = await fetch(conn, parent_ids, page)
                    for parent_id in parent_ids:
                        results[(parent_id, page)] = pages[parent_id]
            return [results[key] for key in keys]

        return DataLoader(batch)

    def know_levels(
        self,
        chain: list[Group],
        memberships: Mapping[int, int],
        project: Project | None = None,
        project_membership: int | None = None,
    ) -> None:
        """Prime the level loaders along ``chain`` (and for ``project``, in its first
        group) from the user's direct ``memberships``, read with the chain, so that later
        checks need no level query. Nothing is assumed unless the chain reaches the root
        unbroken."""
        if self.user_id is None or not is_whole_chain(chain):
            return
        if project is not None and project.group_id != chain[0].id:
            return
        levels = levels_along(chain, memberships)
        for group_id, level in levels.items():
            self.prime(self.group_levels, group_id, level)
        if project is not None:
            # A project's level: its group's, or a higher membership in the project itself.
            level = max(levels[project.group_id], project_membership or 0)
            self.prime(self.project_levels, project.id, level)

    async def _group_chains(
        self, conn: AsyncConnection, ids: Sequence[int]
    ) -> dict[int, list[Group]]:
        chains, memberships = await links_repo.group_chains_with_memberships(
            conn, ids, self.user_id
        )
        for chain in chains.values():
            self.know_levels(chain, memberships)
        return chains

    async def _group_levels(self, conn: AsyncConnection, ids: Sequence[int]) -> dict[int, int]:
        if self.user_id is None:
            return {gid: 0 for gid in ids}
        return await members_repo.group_levels(conn, self.user_id, ids)

    async def _project_levels(self, conn: AsyncConnection, ids: Sequence[int]) -> dict[int, int]:
        if self.user_id is None:
            return {pid: 0 for pid in ids}
        return await members_repo.project_levels(conn, self.user_id, ids)

    # Typed front doors, so callers do not handle ``Any``.

    async def user(self, user_id: int) -> User | None:
        result: User | None = await self.users.load(user_id)
        return result

    async def group(self, group_id: int) -> Group | None:
        result: Group | None = await self.groups.load(group_id)
        return result

    async def project(self, project_id: int) -> Project | None:
        result: Project | None = await self.projects.load(project_id)
        return result

    async def issue(self, issue_id: int) -> Issue | None:
        result: Issue | None = await self.issues.load(issue_id)
        return result

    async def notes_page(self, issue_id: int, page: PageArgs) -> Page[Note]:
        result: Page[Note] = await self.issue_notes.load((issue_id, page))
        return result

    async def organization(self, organization_id: int) -> Organization | None:
        result: Organization | None = await self.organizations.load(organization_id)
        return result

    async def group_chain(self, group_id: int) -> list[Group]:
        result: list[Group] = await self.group_chains.load(group_id)
        return result

    async def issue_contacts_page(
        self, issue_id: int, page: PageArgs
    ) -> Page[ContactWithOrganization]:
        result: Page[ContactWithOrganization] = await self.issue_contacts.load((issue_id, page))
        return result

    def prime(self, loader: DataLoader[Any, Any], key: Any, value: Any) -> None:
        loader.clear(key).prime(key, value)
