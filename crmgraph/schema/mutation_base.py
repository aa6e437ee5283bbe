"""What every mutation shares: descriptions of its common fields, and which input keys were sent."""

from __future__ import annotations

from typing import Any

import strawberry

CLIENT_MUTATION_ID = "A unique identifier for the client performing the mutation."
ERRORS = "Errors encountered during the mutation."
INPUT = "Parameters for the mutation."


def provided(**fields: Any) -> dict[str, Any]:
    """The input fields the client actually sent (explicit nulls included, absent keys not)."""
    return {name: v for name, v in fields.items() if v is not strawberry.UNSET}
