"""Configuration: one frozen object, read from ``DATAADGANG_*`` environment variables.

Every setting is documented in README.md (a test keeps the two in step). Defaults are the
secure, embedded ones: SQLite metadata and DuckDB cube files under one home directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _path(env: Mapping[str, str], name: str, default: Path) -> Path:
    value = env.get(name)
    return Path(value).expanduser().resolve() if value else default


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None


def _list(env: Mapping[str, str], name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    value = env.get(name)
    if value is None:
        return default
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """All runtime configuration. Build with :meth:`from_env`; pass explicitly, never global."""

    home: Path
    schema_dir: Path = PROJECT_ROOT / "schema"
    metadata_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8443
    workers: int = 1  # serve: worker processes sharing the listening socket
    # engine limits
    cell_limit: int = 500_000
    max_open_engines: int = 16  # each open DuckDB engine is a DuckDB instance (~5 MiB)
    query_timeout_seconds: float = 30.0
    result_cache_cells: int = 2_000_000  # cells of finished cell sets kept per process; 0 = off
    # identity
    trusted_proxies: tuple[str, ...] = ()
    identity_mode: str = "tls"  # "tls": uvicorn terminates mTLS; "proxy": nginx/Envoy forward the cert
    client_cert_header: str = "X-SSL-Client-Cert"  # "x-forwarded-client-cert" selects Envoy's XFCC
    identity_check_interval_seconds: float = 0.0  # 0 = ask the store's revision on every request
    ca_cert_file: Path | None = None  # default: <home>/ca/ca.crt.pem
    # GraphQL limits
    max_query_depth: int = 12
    max_aliases: int = 15
    max_tokens: int = 2000
    max_body_bytes: int = 65536
    max_member_queries: int = 500  # Discover member lookups (members, parent, children) per request
    graphiql: bool = False  # development only
    # control plane
    individual_grant_max_days: int = 365  # four-eyes grants of person data last at most this long
    portal_idle_minutes: int = 15  # a portal session ends after this long without a request
    portal_absolute_hours: int = 8  # ... and this long after login, whatever happens
    oidc_issuer: str = ""  # the kommune's OpenID Connect provider; empty = certificate login only
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_login_claim: str = "preferred_username"  # the ID token claim holding the user's login
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        """Cube databases (DuckDB files) and the registry live here."""
        return self.home / "data"

    @property
    def ca_dir(self) -> Path:
        """The certificate authority's private directory (mode 0700)."""
        return self.home / "ca"

    @property
    def resolved_metadata_url(self) -> str:
        return self.metadata_url or f"sqlite:///{self.home / 'metadata.sqlite'}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = _path(env, "DATAADGANG_HOME", PROJECT_ROOT / "var")
        return cls(
            home=home,
            schema_dir=_path(env, "DATAADGANG_SCHEMA_DIR", PROJECT_ROOT / "schema"),
            metadata_url=env.get("DATAADGANG_METADATA_URL", ""),
            host=env.get("DATAADGANG_HOST", "127.0.0.1"),
            port=_int(env, "DATAADGANG_PORT", 8443),
            workers=_int(env, "DATAADGANG_WORKERS", 1),
            cell_limit=_int(env, "DATAADGANG_CELL_LIMIT", 500_000),
            max_open_engines=_int(env, "DATAADGANG_MAX_OPEN_ENGINES", 16),
            query_timeout_seconds=_float(env, "DATAADGANG_QUERY_TIMEOUT_SECONDS", 30.0),
            result_cache_cells=_int(env, "DATAADGANG_RESULT_CACHE_CELLS", 2_000_000),
            trusted_proxies=_list(env, "DATAADGANG_TRUSTED_PROXIES"),
            ca_cert_file=_path(env, "DATAADGANG_CA_CERT", Path()) if env.get("DATAADGANG_CA_CERT") else None,
            max_query_depth=_int(env, "DATAADGANG_MAX_QUERY_DEPTH", 12),
            max_aliases=_int(env, "DATAADGANG_MAX_ALIASES", 15),
            max_tokens=_int(env, "DATAADGANG_MAX_TOKENS", 2000),
            max_body_bytes=_int(env, "DATAADGANG_MAX_BODY_BYTES", 65536),
            max_member_queries=_int(env, "DATAADGANG_MAX_MEMBER_QUERIES", 500),
            graphiql=env.get("DATAADGANG_GRAPHIQL", "") in ("1", "true", "yes"),
            identity_mode=env.get("DATAADGANG_IDENTITY_MODE", "tls"),
            client_cert_header=env.get("DATAADGANG_CLIENT_CERT_HEADER", "X-SSL-Client-Cert"),
            identity_check_interval_seconds=_float(env, "DATAADGANG_IDENTITY_CHECK_INTERVAL_SECONDS", 0.0),
            individual_grant_max_days=_int(env, "DATAADGANG_INDIVIDUAL_GRANT_MAX_DAYS", 365),
            portal_idle_minutes=_int(env, "DATAADGANG_PORTAL_IDLE_MINUTES", 15),
            portal_absolute_hours=_int(env, "DATAADGANG_PORTAL_ABSOLUTE_HOURS", 8),
            oidc_issuer=env.get("DATAADGANG_OIDC_ISSUER", ""),
            oidc_client_id=env.get("DATAADGANG_OIDC_CLIENT_ID", ""),
            oidc_client_secret=env.get("DATAADGANG_OIDC_CLIENT_SECRET", ""),
            oidc_login_claim=env.get("DATAADGANG_OIDC_LOGIN_CLAIM", "preferred_username"),
        )

    def with_home(self, home: Path) -> Settings:
        return replace(self, home=home)
