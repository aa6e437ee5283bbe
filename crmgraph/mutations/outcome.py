"""What a write use-case hands back: the object, and messages the user can act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    value: T | None = None
    errors: list[str] = field(default_factory=list)

    @classmethod
    def failed(cls, errors: list[str], value: T | None = None) -> Outcome[T]:
        return cls(value=value, errors=errors)
