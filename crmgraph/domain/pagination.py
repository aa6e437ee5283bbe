"""Page arguments and opaque cursors for connections."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from crmgraph.domain.errors import InvalidArgument

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 100
INVALID_CURSOR = "Please provide a valid cursor"

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True, slots=True)
class PageArgs:
    first: int | None = None
    last: int | None = None
    after: str | None = None
    before: str | None = None

    @classmethod
    def of(
        cls,
        first: int | None = None,
        last: int | None = None,
        after: str | None = None,
        before: str | None = None,
    ) -> PageArgs:
        """Normalize client arguments: empty cursors are absent, sizes capped at 100."""
        for name, size in (("first", first), ("last", last)):
            if size is not None and size < 0:
                raise InvalidArgument(f"Argument '{name}' must be a non-negative integer")
        return cls(
            first=None if first is None else min(first, MAX_PAGE_SIZE),
            last=None if last is None else min(last, MAX_PAGE_SIZE),
            after=after or None,
            before=before or None,
        )

    @property
    def backward(self) -> bool:
        """Whether the page is counted from the end (``last`` without ``first``)."""
        return self.last is not None and self.first is None

    @property
    def limit(self) -> int:
        size = self.last if self.backward else self.first
        return DEFAULT_PAGE_SIZE if size is None else size


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a connection: items with their cursors, and where the page sits."""

    items: list[T]
    cursors: Sequence[str]
    has_next_page: bool
    has_previous_page: bool

    @property
    def start_cursor(self) -> str | None:
        return self.cursors[0] if self.cursors else None

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        """The same page with every item converted."""
        return Page(
            [convert(item) for item in self.items],
            self.cursors,
            self.has_next_page,
            self.has_previous_page,
        )

    @classmethod
    def empty(cls) -> Page[T]:
        return cls(items=[], cursors=[], has_next_page=False, has_previous_page=False)


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    """The sort-key values in ``cursor``; a cursor of another shape is refused."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidArgument(INVALID_CURSOR) from None
    if not isinstance(values, list) or len(values) != length:
        raise InvalidArgument(INVALID_CURSOR)
    return values
