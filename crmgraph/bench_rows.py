"""The benchmark's rows, without a database: sizes per scale, the names and words rows
draw from, and generators of organization, contact, issue and link rows. Ids, the clock
and the random source are passed in, so the same seed gives the same rows."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

PROJECTS = 20
FIRST = [
    "Ann",
    "Bob",
    "Carla",
    "Dev",
    "Erin",
    "Farid",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemal",
    "Lena",
    "Mads",
    "Nora",
    "Omar",
    "Petra",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Ugo",
    "Vera",
    "Wim",
    "Xena",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Lee",
    "Okafor",
    "Schmidt",
    "Novak",
    "Silva",
    "Tanaka",
    "Berg",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Horvat",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Meyer",
    "Nakamura",
    "Olsen",
    "Petrov",
    "Quist",
    "Rossi",
    "Sato",
    "Torres",
]
# Surnames made of two parts: 875 of them, so that a surname matches about 0.1 % of the
# contacts, as in a real address book (25 surnames would make every one match 4 %).
SURNAMES = [
    f"{head}{tail}"
    for head in LAST
    for tail in ("berg", "ford", "stein", "ley", "man", "son", "ton", "well", "wood", "ani")
] + [f"{head}-{other}" for head in LAST for other in LAST]
WORDS = [
    "renewal",
    "invoice",
    "onboarding",
    "outage",
    "billing",
    "migration",
    "contract",
    "upgrade",
    "support",
    "training",
    "refund",
    "escalation",
    "security",
    "audit",
    "integration",
    "export",
    "import",
    "latency",
    "mobile",
    "portal",
]


@dataclass(frozen=True)
class BenchSize:
    organizations: int
    contacts: int
    issues: int

    @classmethod
    def at(cls, scale: float) -> BenchSize:
        return cls(int(1_000 * scale), int(10_000 * scale), int(50_000 * scale))


def organization_rows(
    ids: range, group_id: int, now: datetime, rng: random.Random
) -> Iterator[dict[str, Any]]:
    for n, oid in enumerate(ids):
        yield {
            "id": oid, "group_id": group_id, "name": f"{rng.choice(LAST)} {rng.choice(WORDS)} {n}",
            "default_rate": Decimal(rng.randrange(5000, 30000)) / 100 if n % 4 else None,
            "description": f"{rng.choice(WORDS)} account" if n % 3 else None,
            "state": "inactive" if n % 20 == 0 else "active",
            "created_at": now - timedelta(minutes=n), "updated_at": now,
        }  # fmt: skip


def contact_rows(
    ids: range, orgs: range, group_id: int, now: datetime, rng: random.Random
) -> Iterator[dict[str, Any]]:
    for n, cid in enumerate(ids):
        first, last = rng.choice(FIRST), rng.choice(SURNAMES)
        yield {
            "id": cid, "group_id": group_id,
            "organization_id": orgs[rng.randrange(len(orgs))] if orgs and n % 5 else None,
            "first_name": first, "last_name": last,
            "email": f"{first.lower()}.{last.lower()}.{n}@example.com" if n % 10 else None,
            "phone": f"+1 555 {n:07d}" if n % 3 else None,
            "description": " ".join(rng.sample(WORDS, 3)) if n % 2 else None,
            "state": "inactive" if n % 20 == 0 else "active",
            "created_at": now - timedelta(seconds=n), "updated_at": now,
        }  # fmt: skip


def issue_rows(
    ids: range, project_ids: Sequence[int], author_id: int, now: datetime, rng: random.Random
) -> Iterator[dict[str, Any]]:
    for n, iid in enumerate(ids):
        yield {
            "id": iid, "project_id": project_ids[n % PROJECTS], "iid": n // PROJECTS + 1,
            "title": f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} for customer {n}",
            "description": None, "state": "closed" if n % 7 == 0 else "opened",
            "confidential": False, "author_id": author_id,
            "created_at": now - timedelta(seconds=len(ids) - n), "updated_at": now,
            "closed_at": None,
        }  # fmt: skip


def link_pairs(issues: range, contacts: range, rng: random.Random) -> Iterator[tuple[int, int]]:
    """Two or three distinct contacts per issue: about 2.5 links per issue."""
    if not contacts:
        return
    for issue_id in issues:
        for offset in rng.sample(range(len(contacts)), 2 + issue_id % 2):
            yield issue_id, contacts[offset]
