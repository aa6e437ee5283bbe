"""Users and personal access tokens."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from crmgraph.domain.users import PersonalAccessToken, Scope, User
from crmgraph.persistence.tables import personal_access_tokens as tokens_t
from crmgraph.persistence.tables import users as users_t
from crmgraph.persistence.unit_of_work import write_one


class UsernameTaken(Exception):
    pass


def to_user(row: Any) -> User:
    m = row._mapping
    return User(
        id=m["id"], username=m["username"], name=m["name"], email=m["email"], admin=m["admin"]
    )


def to_token(row: Any) -> PersonalAccessToken:
    m = row._mapping
    return PersonalAccessToken(
        id=m["id"],
        user_id=m["user_id"],
        name=m["name"],
        scopes=(Scope(m["scopes"]),),
        expires_at=m["expires_at"],
        revoked_at=m["revoked_at"],
    )


USER_COLUMNS = (users_t.c.id, users_t.c.username, users_t.c.name, users_t.c.email, users_t.c.admin)


async def create_user(
    conn: AsyncConnection,
    *,
    username: str,
    name: str,
    email: str | None,
    admin: bool,
    now: datetime,
) -> User:
    stmt = (
        insert(users_t)
        .values(
            username=username, name=name, email=email, admin=admin, created_at=now, updated_at=now
        )
        .returning(*USER_COLUMNS)
    )
    row = await write_one(conn, stmt, lambda: UsernameTaken(username))
    return to_user(row)


async def user_by_username(conn: AsyncConnection, username: str) -> User | None:
    stmt = select(*USER_COLUMNS).where(func.lower(users_t.c.username) == username.lower())
    row = (await conn.execute(stmt)).first()
    return None if row is None else to_user(row)


async def users_by_ids(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, User]:
    rows = (await conn.execute(select(*USER_COLUMNS).where(users_t.c.id.in_(ids)))).all()
    return {row.id: to_user(row) for row in rows}


async def create_token(
    conn: AsyncConnection,
    *,
    user_id: int,
    name: str,
    digest: str,
    scope: Scope,
    expires_at: datetime | None,
    now: datetime,
) -> PersonalAccessToken:
    stmt = (
        insert(tokens_t)
        .values(
            user_id=user_id,
            name=name,
            token_digest=digest,
            scopes=scope.value,
            expires_at=expires_at,
            created_at=now,
            updated_at=now,
        )
        .returning(tokens_t)
    )
    return to_token((await conn.execute(stmt)).one())


async def token_with_user(
    conn: AsyncConnection, digest: str
) -> tuple[PersonalAccessToken, User] | None:
    """The token with this digest and its user, in one statement."""
    stmt = (
        select(
            tokens_t.c.token_digest,
            tokens_t.c.id,
            tokens_t.c.user_id,
            tokens_t.c.name,
            tokens_t.c.scopes,
            tokens_t.c.expires_at,
            tokens_t.c.revoked_at,
            users_t.c.username,
            users_t.c.name.label("user_name"),
            users_t.c.email,
            users_t.c.admin,
        )
        .join(users_t, users_t.c.id == tokens_t.c.user_id)
        .where(tokens_t.c.token_digest == digest)
    )
    row = (await conn.execute(stmt)).first()
    # The index finds the row; the digests are then compared again in constant time, so
    # that no database collation or padding rule can make a near miss count as a match.
    if row is None or not hmac.compare_digest(row.token_digest, digest):
        return None
    m = row._mapping
    user = User(
        id=m["user_id"],
        username=m["username"],
        name=m["user_name"],
        email=m["email"],
        admin=m["admin"],
    )
    return to_token(row), user


async def revoke_token(
    conn: AsyncConnection, *, token_id: int | None = None, digest: str | None = None, now: datetime
) -> PersonalAccessToken | None:
    stmt = update(tokens_t).values(revoked_at=now, updated_at=now).returning(tokens_t)
    if token_id is not None:
        stmt = stmt.where(tokens_t.c.id == token_id)
    elif digest is not None:
        stmt = stmt.where(tokens_t.c.token_digest == digest)
    else:
        raise ValueError("revoke_token needs a token id or a digest")
    row = (await conn.execute(stmt.where(tokens_t.c.revoked_at.is_(None)))).first()
    return None if row is None else to_token(row)
