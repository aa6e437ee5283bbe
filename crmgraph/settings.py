"""Typed settings, read from the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/crmgraph.db"
DEFAULT_SECRET_FILE = "var/secret.key"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    #: Mixed into token digests; the file default keeps development tokens valid across runs.
    secret: str = ""
    secret_file: str = DEFAULT_SECRET_FILE
    graphiql: bool = True
    introspection: bool = True
    pool_size: int = 10
    #: How long a valid token is trusted without asking the database (0: always ask).
    token_cache_seconds: float = 5.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("CRMGRAPH_DATABASE_URL", DEFAULT_DATABASE_URL),
            secret=env.get("CRMGRAPH_SECRET", ""),
            secret_file=env.get("CRMGRAPH_SECRET_FILE", DEFAULT_SECRET_FILE),
            graphiql=_flag(env.get("CRMGRAPH_GRAPHIQL", "1")),
            introspection=_flag(env.get("CRMGRAPH_INTROSPECTION", "1")),
            pool_size=int(env.get("CRMGRAPH_POOL_SIZE", "10")),
            token_cache_seconds=float(env.get("CRMGRAPH_TOKEN_CACHE_SECONDS", "5")),
        )

    def with_database(self, url: str | None) -> Settings:
        return self if url is None else replace(self, database_url=url)

    def token_secret(self) -> str:
        """The digest secret: from the environment, else from a file made on first use."""
        if self.secret:
            return self.secret
        path = Path(self.secret_file)
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_hex(32)
        path.write_text(value + "\n")
        path.chmod(0o600)
        return value

    def sqlite_file(self) -> Path | None:
        prefix = "sqlite+aiosqlite:///"
        if self.database_url.startswith(prefix):
            name = self.database_url[len(prefix) :]
            return None if name in ("", ":memory:") else Path(name)
        return None


def _flag(value: str) -> bool:
    return value.strip().lower() not in ("0", "false", "no", "off", "")
