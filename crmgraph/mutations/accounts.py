"""Administrative writes: users and personal access tokens (CLI and demo data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crmgraph.domain.users import PersonalAccessToken, Scope, User, new_token, token_digest
from crmgraph.domain.users import username_errors as username_problems
from crmgraph.persistence import users as users_repo
from crmgraph.persistence.unit_of_work import Database
from crmgraph.persistence.users import UsernameTaken


class AccountError(Exception):
    """A refusal the CLI prints as one line."""


@dataclass(frozen=True)
class IssuedToken:
    token: str
    record: PersonalAccessToken
    user: User


async def create_user(
    db: Database,
    *,
    username: str,
    name: str | None = None,
    email: str | None = None,
    admin: bool = False,
    now: datetime,
) -> User:
    problems = username_problems(username)
    if problems:
        raise AccountError(problems[0])
    async with db.transaction() as conn:
        try:
            return await users_repo.create_user(
                conn, username=username, name=name or username, email=email, admin=admin, now=now
            )
        except UsernameTaken:
            raise AccountError(f"Username {username} has already been taken") from None


async def issue_token(
    db: Database,
    *,
    username: str,
    secret: str,
    scope: Scope = Scope.API,
    name: str = "default",
    expires_at: datetime | None = None,
    now: datetime,
) -> IssuedToken:
    """A new token for the user; the value is returned once and only its digest is kept."""
    if expires_at is not None and expires_at <= now:
        raise AccountError("Expiry date must be in the future")
    token = new_token()
    async with db.transaction() as conn:
        user = await users_repo.user_by_username(conn, username)
        if user is None:
            raise AccountError(f"No user named {username}")
        record = await users_repo.create_token(
            conn,
            user_id=user.id,
            name=name,
            digest=token_digest(token, secret),
            scope=scope,
            expires_at=expires_at,
            now=now,
        )
    return IssuedToken(token=token, record=record, user=user)


async def revoke_token(
    db: Database,
    *,
    token_id: int | None = None,
    token: str | None = None,
    secret: str,
    now: datetime,
) -> PersonalAccessToken:
    digest = None if token is None else token_digest(token, secret)
    async with db.transaction() as conn:
        revoked = await users_repo.revoke_token(conn, token_id=token_id, digest=digest, now=now)
    if revoked is None:
        raise AccountError("No active token matches")
    return revoked
