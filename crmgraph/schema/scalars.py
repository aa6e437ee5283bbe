"""GitLab's scalars: ISO-8601 times and typed global IDs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NewType

import strawberry

from crmgraph.domain.ids import parse_gid, to_gid


def _serialize_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a valid Time")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f'"{value}" has no timezone')
    return parsed


Time = NewType("Time", datetime)

SCALARS: dict[object, Any] = {}

SCALARS[Time] = strawberry.scalar(
    name="Time",
    description="Time in ISO 8601 with a timezone, e.g. `2026-11-22T10:00:00Z`.",
    serialize=_serialize_time,
    parse_value=_parse_time,
)


def _gid_scalar(name: str, model: str) -> Any:
    scalar_type = NewType(name, int)

    def serialize(value: Any) -> str:
        return to_gid(model, value) if isinstance(value, int) else str(value)

    def parse(value: Any) -> int:
        return parse_gid(value, model)

    SCALARS[scalar_type] = strawberry.scalar(
        name=name,
        description=f"A global ID of a `{model}`: `gid://gitlab/{model}/<number>`.",
        serialize=serialize,
        parse_value=parse,
    )
    return scalar_type


GroupID = _gid_scalar("GroupID", "Group")
ProjectID = _gid_scalar("ProjectID", "Project")
IssueID = _gid_scalar("IssueID", "Issue")
IssuableID = _gid_scalar("IssuableID", "Issue")
NoteableID = _gid_scalar("NoteableID", "Issue")
NoteID = _gid_scalar("NoteID", "Note")
UserID = _gid_scalar("UserID", "User")
CustomerRelationsContactID = _gid_scalar("CustomerRelationsContactID", "CustomerRelations::Contact")
CustomerRelationsOrganizationID = _gid_scalar(
    "CustomerRelationsOrganizationID", "CustomerRelations::Organization"
)
