"""GitLab global IDs: ``gid://gitlab/<Class>/<number>``."""

from __future__ import annotations

import re

from crmgraph.domain.errors import PublicError

_GID = re.compile(r"gid://gitlab/([A-Za-z][A-Za-z0-9:]*)/([1-9][0-9]{0,17})")


class GlobalIdError(PublicError):
    pass


def to_gid(model: str, pk: int) -> str:
    return f"gid://gitlab/{model}/{pk}"


def parse_gid(value: object, model: str) -> int:
    """The numeric id in ``value``, which must name an instance of ``model``."""
    if not isinstance(value, str):
        raise GlobalIdError(f"{_quote(value)} is not a valid Global ID")
    match = _GID.fullmatch(value)
    if match is None:
        raise GlobalIdError(f"{_quote(value)} is not a valid Global ID")
    if match.group(1) != model:
        raise GlobalIdError(f"{_quote(value)} does not represent an instance of {model}")
    return int(match.group(2))


def _quote(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return f'"{text}"'
