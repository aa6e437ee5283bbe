"""Per-request dataloaders: every relation is fetched in batches with one ``IN`` query."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
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
    """Built per request; each batch takes its own connection, so concurrent batches are safe.

    No batch function refers back to the ``Loaders`` (or to its own loader): through such
    a cycle everything a request loaded would stay alive until the garbage collector ran,
    and walking it cost a 100-issue page about a millisecond of collection. Without
    it, the rows go when the last reference to the loaders does (``RequestContext.release``
    drops them for requests, whose execution context is in a cycle of its own).
    """

    def __init__(self, db: Database, user_id: int | None) -> None:
        self.db = db
        self.user_id = user_id
        self.users: DataLoader[Any, Any] = _by_key(db, users_repo.users_by_ids)
        self.groups: DataLoader[Any, Any] = _by_key(db, groups_repo.groups_by_ids)
        self.projects: DataLoader[Any, Any] = _by_key(db, groups_repo.projects_by_ids)
        self.issues: DataLoader[Any, Any] = _by_key(db, issues_repo.issues_by_ids)
        self.group_levels: DataLoader[Any, Any] = _by_key(
            db, _levels(members_repo.group_levels, user_id)
        )
        self.project_levels: DataLoader[Any, Any] = _by_key(
            db, _levels(members_repo.project_levels, user_id)
        )
        self.issue_notes: DataLoader[Any, Any] = _paged(db, issues_repo.notes_pages)
        self.contacts: DataLoader[Any, Any] = _by_key(db, contacts_repo.contacts_by_ids)
        self.organizations: DataLoader[Any, Any] = _by_key(db, contacts_repo.organizations_by_ids)
        self.group_chains: DataLoader[Any, Any] = _by_key(
            db, _group_chains(user_id, self.group_levels)
        )
        self.issue_contacts: DataLoader[Any, Any] = _paged(db, links_repo.issue_contacts_pages)

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
        if project is not None and chain and project.group_id != chain[0].id:
            return
        levels = _know_levels(self.user_id, self.group_levels, chain, memberships)
        if project is None or levels is None:
            return
        # A project's level: its group's, or a higher membership in the project itself.
        level = max(levels[project.group_id], project_membership or 0)
        self.prime(self.project_levels, project.id, level)

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

    async def contacts_of_issues(
        self, issue_ids: Sequence[int], shapes: Iterable[PageArgs], *, lean: bool
    ) -> dict[tuple[int, PageArgs], Page[ContactWithOrganization]]:
        """The contacts of many issues in each page shape, one query per shape on one
        connection (``lean``: without timestamps). A whole list asks at once, so this
        goes around the dataloader, whose futures (one per issue) cost more than the
        query's Python side."""
        found: dict[tuple[int, PageArgs], Page[ContactWithOrganization]] = {}
        async with self.db.connect() as conn:
            for shape in shapes:
                pages = await links_repo.issue_contacts_pages(conn, issue_ids, shape, lean=lean)
                found.update(((issue_id, shape), page) for issue_id, page in pages.items())
        return found

    def prime(self, loader: DataLoader[Any, Any], key: Any, value: Any) -> None:
        _prime(loader, key, value)

    def clear_all(self) -> None:
        """Forget everything loaded; the loaders stay usable."""
        for loader in vars(self).values():
            if isinstance(loader, DataLoader):
                loader.clear_all()


def _prime(loader: DataLoader[Any, Any], key: Any, value: Any) -> None:
    loader.clear(key).prime(key, value)


def _by_key(db: Database, fetch: Fetch) -> DataLoader[Any, Any]:
    async def batch(keys: list[Any]) -> list[Any]:
        async with db.connect() as conn:
            found = await fetch(conn, keys)
        return [found.get(key) for key in keys]

    return DataLoader(batch)


def _paged(db: Database, fetch: PagedFetch) -> DataLoader[Any, Any]:
    """Keys are ``(parent id, PageArgs)``; one query per distinct page shape."""

    async def batch(keys: list[tuple[Any, PageArgs]]) -> list[Any]:
        by_shape: dict[PageArgs, list[Any]] = {}
        for parent_id, page in keys:
            by_shape.setdefault(page, []).append(parent_id)
        results: dict[tuple[Any, PageArgs], Any] = {}
        async with db.connect() as conn:
            for page, parent_ids in by_shape.items():
                pages = await fetch(conn, parent_ids, page)
                for parent_id in parent_ids:
                    results[(parent_id, page)] = pages[parent_id]
        return [results[key] for key in keys]

    return DataLoader(batch)


def _levels(
    fetch: Callable[[AsyncConnection, int, Sequence[int]], Awaitable[dict[int, int]]],
    user_id: int | None,
) -> Fetch:
    """The user's levels by id; an anonymous caller has none anywhere."""

    async def levels(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, int]:
        if user_id is None:
            return {key: 0 for key in ids}
        return await fetch(conn, user_id, ids)

    return levels


def _group_chains(user_id: int | None, group_levels: DataLoader[Any, Any]) -> Fetch:
    """Group chains by id; the memberships read with them prime ``group_levels``."""

    async def chains_by_id(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, list[Group]]:
        chains, memberships = await links_repo.group_chains_with_memberships(conn, ids, user_id)
        for chain in chains.values():
            _know_levels(user_id, group_levels, chain, memberships)
        return chains

    return chains_by_id


def _know_levels(
    user_id: int | None,
    group_levels: DataLoader[Any, Any],
    chain: list[Group],
    memberships: Mapping[int, int],
) -> dict[int, int] | None:
    """Prime ``group_levels`` along ``chain``; the levels, or None when nothing could be
    assumed (no user, or a chain that does not reach the root unbroken)."""
    if user_id is None or not is_whole_chain(chain):
        return None
    levels = levels_along(chain, memberships)
    for group_id, level in levels.items():
        _prime(group_levels, group_id, level)
    return levels
