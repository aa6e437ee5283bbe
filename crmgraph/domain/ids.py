"""GitLab global IDs: ``gid://gitlab/<Class>/<number>``."""

from __future__ import annotations

import re

from crmgraph.domain.errors import PublicError

_GID = re.compile(r"gid://gitlab/([A-Za-z][A-Za-z0-9:]*)/([1-9][0-9]{0,17})")
#: Ids are PostgreSQL ``integer`` columns: a larger number names nothing, and sending it to
#: the database would fail there instead of finding nothing.
MAX_ID = 2**31 - 1


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
    pk = int(match.group(2))
    if pk > MAX_ID:
        raise GlobalIdError(f"{_quote(value)} is not a valid Global ID")
    return pk


def parse_number(text: str) -> int | None:
    """A positive id written in ASCII digits (as GitLab's iids and filters), else None."""
    text = text.strip()
    # str.isdigit() alone accepts "²", which int() refuses.
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def _quote(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return f'"{text}"'
