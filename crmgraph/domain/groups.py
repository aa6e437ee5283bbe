"""Groups, projects and the rules on their paths."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

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
