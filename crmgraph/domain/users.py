"""Users and personal access tokens."""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from crmgraph.domain.ids import to_gid

TOKEN_PREFIX = "crmpat-"
USERNAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}")


class Scope(enum.StrEnum):
    API = "api"
    READ_API = "read_api"


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    name: str
    email: str | None
    admin: bool

    @property
    def gid(self) -> str:
        """Global ID, as GitLab writes it."""
        return to_gid("User", self.id)


@dataclass(frozen=True, slots=True)
class PersonalAccessToken:
    id: int
    user_id: int
    name: str
    scopes: tuple[Scope, ...]
    expires_at: datetime | None
    revoked_at: datetime | None

    def usable_at(self, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at


def new_token() -> str:
    """A fresh token; only its digest is ever stored."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str, secret: str) -> str:
    """Keyed digest, so a stolen table of digests cannot be checked offline."""
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def username_errors(username: str) -> list[str]:
    if not USERNAME.fullmatch(username):
        return ["Username can contain only letters, digits, '_', '-' and '.'"]
    return []
