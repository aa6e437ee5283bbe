"""Typed settings, read from the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/crmgraph.db"
DEFAULT_SECRET_FILE = "var/secret.key"
LOG_FORMATS = ("text", "json")


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

    # Limits (docs/security.md); GitLab's values where GitLab has one.
    max_query_length: int = 10_000
    #: The whole POST body, variables included (texts may be 1 MB, JSON-escaped larger).
    max_body_bytes: int = 16_000_000
    max_depth_anonymous: int = 15
    max_depth_authenticated: int = 20
    max_complexity_anonymous: int = 200
    max_complexity_authenticated: int = 250
    max_aliases: int = 30
    max_directives: int = 50
    #: How often one response key may be selected in one selection set (fragments included).
    max_field_repeats: int = 20
    max_tokens: int = 2_000
    max_batch_size: int = 10
    #: Whole request, database work included (0: no limit).
    request_timeout_seconds: float = 30.0
    #: PostgreSQL only: how long opening a connection may take before the request is 503.
    database_connect_timeout_seconds: int = 3
    #: Failed token authentications per client address within the window (0: no limit).
    auth_failure_limit: int = 10
    auth_failure_window_seconds: float = 60.0

    log_format: str = "text"
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        defaults = cls()

        def integer(name: str, default: int) -> int:
            return int(env.get(name, str(default)))

        def number(name: str, default: float) -> float:
            return float(env.get(name, str(default)))

        log_format = env.get("CRMGRAPH_LOG_FORMAT", defaults.log_format).strip().lower()
        if log_format not in LOG_FORMATS:
            raise ValueError(f"CRMGRAPH_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
        return cls(
            database_url=env.get("CRMGRAPH_DATABASE_URL", DEFAULT_DATABASE_URL),
            secret=env.get("CRMGRAPH_SECRET", ""),
            secret_file=env.get("CRMGRAPH_SECRET_FILE", DEFAULT_SECRET_FILE),
            graphiql=_flag(env.get("CRMGRAPH_GRAPHIQL", "1")),
            introspection=_flag(env.get("CRMGRAPH_INTROSPECTION", "1")),
            pool_size=int(env.get("CRMGRAPH_POOL_SIZE", "10")),
            token_cache_seconds=float(env.get("CRMGRAPH_TOKEN_CACHE_SECONDS", "5")),
            max_query_length=integer("CRMGRAPH_MAX_QUERY_LENGTH", defaults.max_query_length),
            max_body_bytes=integer("CRMGRAPH_MAX_BODY_BYTES", defaults.max_body_bytes),
            max_depth_anonymous=integer(
                "CRMGRAPH_MAX_DEPTH_ANONYMOUS", defaults.max_depth_anonymous
            ),
            max_depth_authenticated=integer(
                "CRMGRAPH_MAX_DEPTH_AUTHENTICATED", defaults.max_depth_authenticated
            ),
            max_complexity_anonymous=integer(
                "CRMGRAPH_MAX_COMPLEXITY_ANONYMOUS", defaults.max_complexity_anonymous
            ),
            max_complexity_authenticated=integer(
                "CRMGRAPH_MAX_COMPLEXITY_AUTHENTICATED", defaults.max_complexity_authenticated
            ),
            max_aliases=integer("CRMGRAPH_MAX_ALIASES", defaults.max_aliases),
            max_directives=integer("CRMGRAPH_MAX_DIRECTIVES", defaults.max_directives),
            max_field_repeats=integer("CRMGRAPH_MAX_FIELD_REPEATS", defaults.max_field_repeats),
            max_tokens=integer("CRMGRAPH_MAX_TOKENS", defaults.max_tokens),
            max_batch_size=integer("CRMGRAPH_MAX_BATCH_SIZE", defaults.max_batch_size),
            request_timeout_seconds=number(
                "CRMGRAPH_REQUEST_TIMEOUT_SECONDS", defaults.request_timeout_seconds
            ),
            database_connect_timeout_seconds=integer(
                "CRMGRAPH_DATABASE_CONNECT_TIMEOUT_SECONDS",
                defaults.database_connect_timeout_seconds,
            ),
            auth_failure_limit=integer("CRMGRAPH_AUTH_FAILURE_LIMIT", defaults.auth_failure_limit),
            auth_failure_window_seconds=number(
                "CRMGRAPH_AUTH_FAILURE_WINDOW_SECONDS", defaults.auth_failure_window_seconds
            ),
            log_format=log_format,
            log_level=env.get("CRMGRAPH_LOG_LEVEL", defaults.log_level).strip().upper(),
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
