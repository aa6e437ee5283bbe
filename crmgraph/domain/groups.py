"""Groups, projects and the rules on their paths."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from crmgraph.domain.ids import to_gid

PATH = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.-]*")
PATH_MESSAGE = (
    "Path can contain only letters, digits, '_', '-' and '.'. "
    "Cannot start with '-', end in '.git' or end in '.atom'"
)
MAX_NAME = 255


@dataclass(frozen=True, slots=True)
class Group:
    id: int
    parent_id: int | None
    path: str
    name: str
    full_path: str
    crm_enabled: bool
    crm_source_group_id: int | None
    created_at: datetime
    updated_at: datetime

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    @property
    def depth(self) -> int:
        """0 for a root group, 1 for its subgroups, and so on."""
        return self.full_path.count("/")

    @property
    def ancestor_paths(self) -> list[str]:
        """Full paths of this group and every ancestor, root first."""
        return ancestor_paths(self.full_path)

    @property
    def gid(self) -> str:
        """Global ID, as GitLab writes it."""
        return to_gid("Group", self.id)


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    group_id: int
    path: str
    name: str
    full_path: str
    created_at: datetime
    updated_at: datetime

    @property
    def group_path(self) -> str:
        return self.full_path.rsplit("/", 1)[0]

    @property
    def gid(self) -> str:
        """Global ID, as GitLab writes it."""
        return to_gid("Project", self.id)


def is_whole_chain(chain: Sequence[Group]) -> bool:
    """``chain`` is a group and every ancestor, the group first and the root last."""
    if not chain or not chain[-1].is_root:
        return False
    return all(child.parent_id == parent.id for child, parent in pairwise(chain))


def levels_along(chain: Sequence[Group], memberships: Mapping[int, int]) -> dict[int, int]:
    """Effective access level in each group of a whole chain (see ``is_whole_chain``),
    from the user's direct ``memberships`` by group id: a membership counts in its group
    and every group below it, and the highest counts; without any, 0 (no access)."""
    levels: dict[int, int] = {}
    best = 0
    for group in reversed(chain):  # from the root down
        best = max(best, memberships.get(group.id, 0))
        levels[group.id] = best
    return levels


def ancestor_paths(full_path: str) -> list[str]:
    parts = full_path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def join_path(parent_full_path: str | None, path: str) -> str:
    return path if parent_full_path is None else f"{parent_full_path}/{path}"


def path_errors(path: str) -> list[str]:
    if not path:
        return ["Path can't be blank"]
    if len(path) > MAX_NAME:
        return [f"Path is too long (maximum is {MAX_NAME} characters)"]
    if not PATH.fullmatch(path) or path.endswith((".git", ".atom")):
        return [PATH_MESSAGE]
    return []


def name_errors(name: str) -> list[str]:
    if not name.strip():
        return ["Name can't be blank"]
    if len(name) > MAX_NAME:
        return [f"Name is too long (maximum is {MAX_NAME} characters)"]
    return []
