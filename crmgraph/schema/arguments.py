"""The resolver ``Info`` and the field arguments that several object types share."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crmgraph.context import RequestContext
from crmgraph.schema.connections import AFTER, BEFORE, FIRST, LAST
from crmgraph.schema.enums import IssuableState

Info = strawberry.Info[RequestContext, None]
First = Annotated[int | None, strawberry.argument(description=FIRST)]
Last = Annotated[int | None, strawberry.argument(description=LAST)]
After = Annotated[str | None, strawberry.argument(description=AFTER)]
Before = Annotated[str | None, strawberry.argument(description=BEFORE)]
Search = Annotated[str | None, strawberry.argument(description="Text to search for.")]
CrmContactArg = Annotated[
    str | None,
    strawberry.argument(description="Only issues linked to this contact (numeric ID)."),
]
CrmOrganizationArg = Annotated[
    str | None,
    strawberry.argument(
        description="Only issues linked to a contact of this organization (numeric ID)."
    ),
]
StateArg = Annotated[
    IssuableState | None, strawberry.argument(description="Only issues in this state.")
]
