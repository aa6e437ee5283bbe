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
