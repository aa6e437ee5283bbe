"""What a consistent crmgraph database looks like, checked from the stored rows alone.

``check_consistency(db)`` reads every table (test databases are small) and states the
invariants that the use-cases promise, independently of the code that keeps them, so a
test that fuzzes, interrupts or races the service can end with one call:

- no orphans: every reference names an existing row (the foreign keys, checked again);
- groups form a forest; full paths are the parent's path plus the own path, unique
  ignoring case across groups and projects (they share one namespace);
- issues: ``(project, iid)`` unique, ``0 < iid <= project.last_issue_iid``, closed
  exactly when ``closed_at`` is set, never updated before they were created;
- links: each (issue, contact) pair at most once, and only to a contact of the issue's
  CRM group (the contact source, or the root). Transfers re-point or drop links (spec §9),
  so after any sequence of use-cases no link crosses into another CRM group;
- contacts: an organization of the same group; emails unique per group ignoring case;
  organization names likewise;
- notes: system notes are ones the service writes (counts of contacts, moves);
- memberships: one per (group or project, user), with a known access level;
- tokens: only a 64-hex-digit digest is stored.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, select

from crmgraph.persistence import tables as t
from crmgraph.persistence.unit_of_work import Database

ACCESS_LEVELS = {10, 15, 20, 30, 40, 50}
SYSTEM_NOTE = re.compile(
    r"(added \d+ contacts?( and removed \d+ contacts?)?|removed \d+ contacts?|moved from .+)"
)
HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


class Inconsistent(AssertionError):
    pass


async def _rows(db: Database, table: Table) -> list[Any]:
    async with db.connect() as conn:
        return list((await conn.execute(select(table).order_by(table.c.id))).all())


def _duplicates(keys: Iterable[Any]) -> list[Any]:
    return [key for key, n in Counter(keys).items() if n > 1]


async def consistency_problems(db: Database) -> list[str]:
    """Every broken invariant, as readable lines; empty when the database is consistent."""
    problems: list[str] = []
    users = {r.id: r for r in await _rows(db, t.users)}
    groups = {r.id: r for r in await _rows(db, t.groups)}
    projects = {r.id: r for r in await _rows(db, t.projects)}
    issues = {r.id: r for r in await _rows(db, t.issues)}
    notes = await _rows(db, t.notes)
    contacts = {r.id: r for r in await _rows(db, t.contacts)}
    organizations = {r.id: r for r in await _rows(db, t.organizations)}
    links = await _rows(db, t.issue_contacts)

    def bad(message: str) -> None:
        problems.append(message)

    # ---------------------------------------------------------------- groups
    for g in groups.values():
        if g.parent_id is not None and g.parent_id not in groups:
            bad(f"group {g.id} has a missing parent {g.parent_id}")
        if g.crm_source_group_id is not None and (
            g.crm_source_group_id not in groups or g.crm_source_group_id == g.id
        ):
            bad(f"group {g.id} names a bad contact source {g.crm_source_group_id}")
    chains: dict[int, list[Any]] = {}
    for g in groups.values():
        chain, seen, current = [], set(), g
        while current is not None and current.id not in seen:
            seen.add(current.id)
            chain.append(current)
            current = groups.get(current.parent_id) if current.parent_id is not None else None
        if current is not None:
            bad(f"group {g.id} is part of a parent cycle")
            continue
        chains[g.id] = chain
        parent = groups.get(g.parent_id) if g.parent_id is not None else None
        expected = g.path if parent is None else f"{parent.full_path}/{g.path}"
        if g.full_path != expected:
            bad(f"group {g.id} has full path {g.full_path!r}, expected {expected!r}")
    for p in projects.values():
        group = groups.get(p.group_id)
        if group is None:
            bad(f"project {p.id} belongs to a missing group {p.group_id}")
        elif p.full_path != f"{group.full_path}/{p.path}":
            bad(f"project {p.id} has full path {p.full_path!r} under {group.full_path!r}")
    namespace = [g.full_path.lower() for g in groups.values()]
    namespace += [p.full_path.lower() for p in projects.values()]
    for path in _duplicates(namespace):
        bad(f"full path {path!r} is taken twice")

    def crm_group(group_id: int) -> int | None:
        chain = chains.get(group_id)
        if not chain:
            return None
        for g in chain:
            if g.crm_source_group_id is not None:
                return int(g.crm_source_group_id)
        return int(chain[-1].id)

    # ---------------------------------------------------------------- issues and notes
    for key in _duplicates((i.project_id, i.iid) for i in issues.values()):
        bad(f"project {key[0]} has iid {key[1]} twice")
    for i in issues.values():
        project = projects.get(i.project_id)
        if project is None:
            bad(f"issue {i.id} belongs to a missing project {i.project_id}")
        elif not 0 < i.iid <= project.last_issue_iid:
            bad(f"issue {i.id} has iid {i.iid}; project's last iid is {project.last_issue_iid}")
        if i.author_id not in users:
            bad(f"issue {i.id} has a missing author {i.author_id}")
        if i.state not in ("opened", "closed") or (i.state == "closed") != (
            i.closed_at is not None
        ):
            bad(f"issue {i.id} is {i.state!r} with closed_at {i.closed_at}")
        if i.updated_at < i.created_at:
            bad(f"issue {i.id} was updated before it was created")
    for n in notes:
        if n.issue_id not in issues:
            bad(f"note {n.id} belongs to a missing issue {n.issue_id}")
        if n.author_id not in users:
            bad(f"note {n.id} has a missing author {n.author_id}")
        if n.system and not SYSTEM_NOTE.fullmatch(n.body):
            bad(f"system note {n.id} says {n.body!r}")

    # ---------------------------------------------------------------- CRM records
    for o in organizations.values():
        if o.group_id not in groups:
            bad(f"organization {o.id} belongs to a missing group {o.group_id}")
    for key in _duplicates((o.group_id, o.name.lower()) for o in organizations.values()):
        bad(f"group {key[0]} has organization name {key[1]!r} twice")
    for c in contacts.values():
        if c.group_id not in groups:
            bad(f"contact {c.id} belongs to a missing group {c.group_id}")
        if c.organization_id is not None:
            org = organizations.get(c.organization_id)
            if org is None or org.group_id != c.group_id:
                bad(f"contact {c.id} has organization {c.organization_id} of another group")
    emails = ((c.group_id, c.email.lower()) for c in contacts.values() if c.email is not None)
    for key in _duplicates(emails):
        bad(f"group {key[0]} has contact email {key[1]!r} twice")

    # ---------------------------------------------------------------- links
    for key in _duplicates((link.issue_id, link.contact_id) for link in links):
        bad(f"issue {key[0]} is linked to contact {key[1]} twice")
    for link in links:
        issue = issues.get(link.issue_id)
        contact = contacts.get(link.contact_id)
        if issue is None or contact is None:
            bad(f"link {link.id} joins a missing issue or contact")
            continue
        project = projects.get(issue.project_id)
        expected = None if project is None else crm_group(project.group_id)
        if contact.group_id != expected:
            bad(
                f"issue {issue.id} links contact {contact.id} of group {contact.group_id}, "
                f"but its CRM group is {expected}"
            )

    # ---------------------------------------------------------------- members and tokens
    for table, owner, owners in (
        (t.group_members, "group_id", groups),
        (t.project_members, "project_id", projects),
    ):
        rows = await _rows(db, table)
        for key in _duplicates((getattr(m, owner), m.user_id) for m in rows):
            bad(f"{table.name} holds {key} twice")
        for m in rows:
            if getattr(m, owner) not in owners or m.user_id not in users:
                bad(f"{table.name} {m.id} points at a missing row")
            if m.access_level not in ACCESS_LEVELS:
                bad(f"{table.name} {m.id} has access level {m.access_level}")
    for token in await _rows(db, t.personal_access_tokens):
        if token.user_id not in users:
            bad(f"token {token.id} belongs to a missing user")
        if not HEX_DIGEST.fullmatch(token.token_digest):
            bad(f"token {token.id} stores something other than a digest")
    return problems


async def check_consistency(db: Database) -> None:
    """Fail with every broken invariant listed."""
    problems = await consistency_problems(db)
    if problems:
        raise Inconsistent("database is inconsistent:\n" + "\n".join(problems[:50]))
