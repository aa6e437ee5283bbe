"""Access levels, with GitLab's numbers."""

from __future__ import annotations

import enum


class AccessLevel(enum.IntEnum):
    """A member's role; the number is what GitLab stores and compares."""

    GUEST = 10
    PLANNER = 15
    REPORTER = 20
    DEVELOPER = 30
    MAINTAINER = 40
    OWNER = 50


NO_ACCESS = 0


def effective_level(levels: list[int] | tuple[int, ...]) -> int:
    """The effective level is the highest of the levels a user holds on a chain."""
    return max(levels, default=NO_ACCESS)
