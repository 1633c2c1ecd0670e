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
# A source checkout keeps the cube models at the top (schema/); an installed wheel carries them
# as gateway/schema/ (setup.py maps one onto the other).
IN_CHECKOUT = (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "schema").is_dir()
DEFAULT_SCHEMA_DIR = PROJECT_ROOT / "schema" if IN_CHECKOUT else Path(__file__).resolve().parent / "schema"


def _default_home() -> Path:
    """``var`` in the checkout; ``./var`` of the current directory for an installed package."""
    return PROJECT_ROOT / "var" if IN_CHECKOUT else Path.cwd() / "var"


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


def _secret(env: Mapping[str, str], name: str, file_setting: str) -> str | None:
    """``name`` itself, or the first line of the file ``file_setting`` names (e.g. a systemd credential)."""
    value = env.get(name, "")
    file_name = env.get(file_setting, "")
    if value and file_name:
        raise ValueError(f"set {name} or {file_setting}, not both")
    if file_name:
        try:
            lines = Path(file_name).expanduser().read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise ValueError(f"{file_setting}: cannot read {file_name}: {error.strerror or error}") from None
        value = lines[0] if lines else ""
        if not value:
            raise ValueError(f"{file_setting}: {file_name} is empty")
    return value or None


@dataclass(frozen=True)
class Settings:
    """All runtime configuration. Build with :meth:`from_env`; pass explicitly, never global."""

    home: Path
    schema_dir: Path = DEFAULT_SCHEMA_DIR
    metadata_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8443
    workers: int = 1  # serve: worker processes sharing the listening socket
    # engine limits
    cell_limit: int = 500_000
    max_open_engines: int = 16  # each open DuckDB engine is a DuckDB instance (~5 MiB)
    query_timeout_seconds: float = 30.0
    result_cache_cells: int = 2_000_000  # cells of finished cell sets kept per process; 0 = off
    response_cache_bytes: int = 64 * 1024 * 1024  # whole GraphQL answers kept per process; 0 = off
    # identity
    trusted_proxies: tuple[str, ...] = ()
    identity_mode: str = "tls"  # "tls": uvicorn terminates mTLS; "proxy": nginx/Envoy forward the cert
    client_cert_header: str = "X-SSL-Client-Cert"  # "x-forwarded-client-cert" selects Envoy's XFCC
    identity_check_interval_seconds: float = 0.0  # 0 = ask the store's revision on every request
    ca_cert_file: Path | None = None  # default: <home>/ca/ca.crt.pem
    # disclosure control: the key its noise is drawn with, shared by every worker
    disclosure_key_file: Path | None = None  # default: <home>/disclosure.key (made on first use)
    crl_file: Path | None = None  # default: <home>/ca/crl.pem; read on every request (defence in depth)
    tls_key_passphrase: str | None = field(default=None, repr=False)  # the server's TLS key, encrypted at rest
    # GraphQL limits
    max_query_depth: int = 12
    max_aliases: int = 15
    max_tokens: int = 2000
    max_body_bytes: int = 65536
    max_query_string_bytes: int = 16384  # a GET request's query string (414 above)
    max_member_queries: int = 500  # Discover member lookups (members, parent, children) per request
    graphiql: bool = False  # development only
    drop_dir: Path | None = None  # refresh: where source files are dropped; default <home>/drop
    # audit seal: kept outside the metadata database (default under the home)
    audit_key_dir: Path | None = None  # default: <home>/audit/keys
    audit_checkpoint_file: Path | None = None  # default: <home>/audit/checkpoints.jsonl
    audit_checkpoint_seconds: float = 300.0  # how often a serving worker signs the chain head; 0 = never
    # control plane
    individual_grant_max_days: int = 365  # four-eyes grants of person data last at most this long
    portal_idle_minutes: int = 15  # a portal session ends after this long without a request
    portal_absolute_hours: int = 8  # ... and this long after login, whatever happens
    oidc_issuer: str = ""  # the kommune's OpenID Connect provider; empty = certificate login only
    oidc_client_id: str = ""
    oidc_client_secret: str = field(default="", repr=False)
    oidc_login_claim: str = "preferred_username"  # the ID token claim holding the user's login
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        """Cube databases (DuckDB files) and the registry live here."""
        return self.home / "data"

    @property
    def resolved_drop_dir(self) -> Path:
        """``dataadgang refresh`` reads ``<drop>/<area>/<kode|benchmark>/`` from here."""
        return self.drop_dir or self.home / "drop"

    @property
    def ca_dir(self) -> Path:
        """The certificate authority's private directory (mode 0700)."""
        return self.home / "ca"

    @property
    def resolved_disclosure_key_file(self) -> Path:
        return self.disclosure_key_file or self.home / "disclosure.key"

    @property
    def resolved_audit_key_dir(self) -> Path:
        return self.audit_key_dir or self.home / "audit" / "keys"

    @property
    def resolved_audit_checkpoint_file(self) -> Path:
        return self.audit_checkpoint_file or self.home / "audit" / "checkpoints.jsonl"

    @property
    def resolved_crl_file(self) -> Path:
        """The CRL the gateway consults on every request (the one ``pki crl`` publishes)."""
        return self.crl_file or self.ca_dir / "crl.pem"

    @property
    def resolved_metadata_url(self) -> str:
        return self.metadata_url or f"sqlite:///{self.home / 'metadata.sqlite'}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = _path(env, "DATAADGANG_HOME", _default_home())
        return cls(
            home=home,
            schema_dir=_path(env, "DATAADGANG_SCHEMA_DIR", DEFAULT_SCHEMA_DIR),
            metadata_url=env.get("DATAADGANG_METADATA_URL", ""),
            host=env.get("DATAADGANG_HOST", "127.0.0.1"),
            port=_int(env, "DATAADGANG_PORT", 8443),
            workers=_int(env, "DATAADGANG_WORKERS", 1),
            cell_limit=_int(env, "DATAADGANG_CELL_LIMIT", 500_000),
            max_open_engines=_int(env, "DATAADGANG_MAX_OPEN_ENGINES", 16),
            query_timeout_seconds=_float(env, "DATAADGANG_QUERY_TIMEOUT_SECONDS", 30.0),
            result_cache_cells=_int(env, "DATAADGANG_RESULT_CACHE_CELLS", 2_000_000),
            response_cache_bytes=_int(env, "DATAADGANG_RESPONSE_CACHE_BYTES", 64 * 1024 * 1024),
            trusted_proxies=_list(env, "DATAADGANG_TRUSTED_PROXIES"),
            ca_cert_file=_path(env, "DATAADGANG_CA_CERT", Path()) if env.get("DATAADGANG_CA_CERT") else None,
            disclosure_key_file=(
                _path(env, "DATAADGANG_DISCLOSURE_KEY_FILE", Path()) if env.get("DATAADGANG_DISCLOSURE_KEY_FILE") else None
            ),
            crl_file=_path(env, "DATAADGANG_CRL_FILE", Path()) if env.get("DATAADGANG_CRL_FILE") else None,
            tls_key_passphrase=_secret(env, "DATAADGANG_TLS_KEY_PASSPHRASE", "DATAADGANG_TLS_KEY_PASSPHRASE_FILE"),
            max_query_depth=_int(env, "DATAADGANG_MAX_QUERY_DEPTH", 12),
            max_aliases=_int(env, "DATAADGANG_MAX_ALIASES", 15),
            max_tokens=_int(env, "DATAADGANG_MAX_TOKENS", 2000),
            max_body_bytes=_int(env, "DATAADGANG_MAX_BODY_BYTES", 65536),
            max_query_string_bytes=_int(env, "DATAADGANG_MAX_QUERY_STRING_BYTES", 16384),
            max_member_queries=_int(env, "DATAADGANG_MAX_MEMBER_QUERIES", 500),
            graphiql=env.get("DATAADGANG_GRAPHIQL", "") in ("1", "true", "yes"),
            drop_dir=_path(env, "DATAADGANG_DROP_DIR", Path()) if env.get("DATAADGANG_DROP_DIR") else None,
            identity_mode=env.get("DATAADGANG_IDENTITY_MODE", "tls"),
            client_cert_header=env.get("DATAADGANG_CLIENT_CERT_HEADER", "X-SSL-Client-Cert"),
            identity_check_interval_seconds=_float(env, "DATAADGANG_IDENTITY_CHECK_INTERVAL_SECONDS", 0.0),
            audit_key_dir=_path(env, "DATAADGANG_AUDIT_KEY_DIR", Path()) if env.get("DATAADGANG_AUDIT_KEY_DIR") else None,
            audit_checkpoint_file=(
                _path(env, "DATAADGANG_AUDIT_CHECKPOINT_FILE", Path()) if env.get("DATAADGANG_AUDIT_CHECKPOINT_FILE") else None
            ),
            audit_checkpoint_seconds=_float(env, "DATAADGANG_AUDIT_CHECKPOINT_SECONDS", 300.0),
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
