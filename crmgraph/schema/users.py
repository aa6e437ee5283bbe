"""Users as the API shows them: authors of issues and notes, and the current user."""

from __future__ import annotations

import strawberry


@strawberry.type(name="UserCore", description="A user of the service.")
class UserCore:
    gid: strawberry.ID = strawberry.field(name="id", description="Global ID of the user.")

    username: str = strawberry.field(description="Username of the user; unique.")
    name: str = strawberry.field(description="Human-readable name of the user.")
