"""Issues and notes."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from crmgraph.domain.ids import parse_number, to_gid

MAX_TITLE = 255
MAX_DESCRIPTION = 1_048_576
MAX_NOTE = 1_000_000


class IssueState(enum.StrEnum):
    OPENED = "opened"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Issue:
    id: int
    project_id: int
    iid: int
    title: str
    description: str | None
    state: IssueState
    confidential: bool
    author_id: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None

    @property
    def gid(self) -> str:
        """Global ID, as GitLab writes it."""
        return to_gid("Issue", self.id)


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    issue_id: int
    author_id: int
    body: str
    system: bool
    created_at: datetime

    @property
    def gid(self) -> str:
        """Global ID, as GitLab writes it."""
        return to_gid("Note", self.id)


def title_errors(title: str) -> list[str]:
    if not title.strip():
        return ["Title can't be blank"]
    if len(title) > MAX_TITLE:
        return [f"Title is too long (maximum is {MAX_TITLE} characters)"]
    return []


def description_errors(description: str | None) -> list[str]:
    if description is not None and len(description) > MAX_DESCRIPTION:
        return [f"Description is too long (maximum is {MAX_DESCRIPTION} characters)"]
    return []


def note_errors(body: str) -> list[str]:
    if not body.strip():
        return ["Note can't be blank"]
    if len(body) > MAX_NOTE:
        return [f"Note is too long (maximum is {MAX_NOTE} characters)"]
    return []


def parse_iid(iid: str) -> int | None:
    """GitLab takes iids as strings; anything but a positive number finds nothing."""
    return parse_number(iid)
