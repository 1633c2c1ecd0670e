"""``dataadgang demo``: everything a newcomer needs to see the gateway answer, on one machine.

A development CA and server certificate, demo data for all 98 kommuner, a few onboarded
kommuner with one user per role and their certificates, and an example request that works as
pasted. Running it again reuses what is there (data, users) and only issues what is missing.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from admin.certificates import issue_user_certificate
from admin.pki import CertificateAuthority
from admin.revocation import revoke_certificate
from gateway.model import load_catalog
from gateway.principal import Role
from gateway.settings import Settings
from gateway.store.errors import ConflictError
from gateway.store.store import MetadataStore
from gateway.store.views import Actor

DOMAIN = "komb-fli-prod"
DEMO_OPERATOR = Actor.operator("dataadgang-demo")
SERVER_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class DemoUser:
    kommune: str
    user: str  # the part after the domain
    roles: tuple[Role, ...]
    grants: tuple[tuple[str, str], ...]  # (area id, level)

    @property
    def login(self) -> str:
        return f"{DOMAIN}\\{self.user}"


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(
        "101",
        "kl_pri",
        (Role.USER,),
        (("ukraine", "aggregated"), ("borger", "aggregated"), ("voksenhandicap", "individual"), ("kl_databank", "aggregated")),
    ),
    DemoUser("101", "k101_sikkerhed", (Role.SECURITY_OFFICER,), ()),
    DemoUser("101", "k101_sikkerhed2", (Role.SECURITY_OFFICER,), ()),  # the second pair of eyes (four-eyes)
    DemoUser("101", "k101_revisor", (Role.AUDITOR,), ()),
    DemoUser("147", "k147_analytiker", (Role.USER,), (("ukraine", "aggregated"), ("voksenhandicap", "aggregated"))),
    DemoUser("751", "k751_analytiker", (Role.USER,), (("ukraine", "aggregated"), ("borger", "aggregated"))),
    DemoUser("101", "drift", (Role.OPERATOR,), ()),
)


def _officer_of(kommune: str) -> Actor:
    officer = next(u for u in DEMO_USERS if u.kommune == kommune and Role.SECURITY_OFFICER in u.roles)
    return Actor(login=officer.login, roles=frozenset(officer.roles), kommune_kode=kommune)


@dataclass(frozen=True)
class DemoCredentials:
    login: str
    certificate: Path
    key: Path
    pkcs12: Path
    password_file: Path


def users_dir(settings: Settings) -> Path:
    return settings.home / "users"


def server_tls_dir(settings: Settings) -> Path:
    return settings.home / "tls"


def prepare_pki(settings: Settings) -> tuple[CertificateAuthority, Path, Path]:
    """The development CA and a server certificate for the loopback names (reused while valid)."""
    ca = CertificateAuthority.open_or_create(settings.ca_dir, common_name="dataadgang Development CA")
    out = server_tls_dir(settings)
    cert, key = out / "server.crt", out / "server.key"
    if not (cert.exists() and key.exists()):
        issued = ca.issue_server_certificate(list(SERVER_HOSTS))
        cert, key = ca.write_server_files(issued, out, key_passphrase=settings.tls_key_passphrase)
    ca.publish_crl_if_stale()
    return ca, cert, key


def prepare_users(
    settings: Settings, store: MetadataStore, ca: CertificateAuthority, *, say: Callable[[str], None]
) -> dict[str, DemoCredentials]:
    """Onboard the demo kommuner, add the users and grants, and issue missing certificates."""
    areas = frozenset(load_catalog(settings.schema_dir).areas)
    for kode in sorted({u.kommune for u in DEMO_USERS}):
        if not any(k.kode == kode and k.onboarded for k in store.list_kommuner()):
            store.onboard_kommune(DEMO_OPERATOR, kode)
    credentials: dict[str, DemoCredentials] = {}
    for demo in DEMO_USERS:
        try:
            store.add_user(DEMO_OPERATOR, kommune_kode=demo.kommune, login=demo.login, roles=frozenset(demo.roles))
            for area, level in demo.grants:
                grant = store.add_grant(
                    DEMO_OPERATOR, login=demo.login, area=area, valid_areas=areas, level=level, purpose="Demo"
                )
                if grant.awaiting_approval:  # four-eyes: the kommune's security officer approves it
                    store.approve_grant(_officer_of(demo.kommune), grant.id)
        except ConflictError:
            pass  # made by an earlier run
        credentials[demo.login] = _credentials(settings, store, ca, demo, say=say)
    return credentials


def _credentials(
    settings: Settings, store: MetadataStore, ca: CertificateAuthority, demo: DemoUser, *, say: Callable[[str], None]
) -> DemoCredentials:
    folder = users_dir(settings) / demo.user
    files = DemoCredentials(
        login=demo.login,
        certificate=folder / f"{demo.user}.crt.pem",
        key=folder / f"{demo.user}.key.pem",
        pkcs12=folder / f"{demo.user}.p12",
        password_file=folder / "password.txt",
    )
    valid = [c for c in store.list_certificates(DEMO_OPERATOR, demo.login) if c.status(store.now()) == "valid"]
    present = _fingerprint_of(files.certificate) if files.certificate.exists() else None
    if present is not None and any(c.fingerprint == present for c in valid) and files.password_file.exists():
        return files
    for orphan in valid:  # its key file is gone or replaced: nobody should hold it any more
        revoke_certificate(store, ca, DEMO_OPERATOR, orphan.serial, "superseded")
    for stale in (files.certificate, files.key, files.pkcs12, files.password_file):
        stale.unlink(missing_ok=True)
    result = issue_user_certificate(store, ca, DEMO_OPERATOR, demo.login, folder, bundle_name=demo.user)
    files.password_file.write_text(result.password + "\n", encoding="utf-8")
    files.password_file.chmod(0o600)
    say(f"issued a certificate for {demo.login} in {folder}")
    return files


def _fingerprint_of(path: Path) -> str:
    from admin.pki import fingerprint

    return fingerprint(x509.load_pem_x509_certificate(path.read_bytes()))


EXAMPLE_QUERY = """{
  execute(catalog: "FLIS Ukraine-101", query: {
    cube: "Ukraine Statistik"
    measures: ["[Measures].[Indrejste]", "[Measures].[Udrejste]", "[Measures].[Nettoindvandring]"]
    rows: [{level: "[Aldersgruppe].[Aldersgruppe]"}]
    columns: [{level: "[Køn].[Køn]"}]
  }) {
    dataAsOf
    rowset { columns { name } rows }
  }
}"""


def example_request(settings: Settings, credentials: DemoCredentials, *, catalog: str = "FLIS Ukraine-101") -> str:
    """A curl command that works as pasted (absolute paths, the key's password read from its file)."""
    query = EXAMPLE_QUERY.replace("FLIS Ukraine-101", catalog)
    payload = json.dumps({"query": " ".join(query.split())}, ensure_ascii=False)
    return _curl(settings, credentials, "application/json", f"--data {shlex.quote(payload)}", "/graphql")


def _curl(settings: Settings, credentials: DemoCredentials, content_type: str, data: str, path: str) -> str:
    """The user's mTLS curl command for one POST to the demo server, one option per line."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "127.0.0.1") else settings.host
    return " \\\n  ".join(
        [
            "curl -sS",
            f"--cacert {shlex.quote(str(settings.ca_dir / 'ca.crt.pem'))}",
            f"--cert {shlex.quote(str(credentials.certificate))}",
            f"--key {shlex.quote(str(credentials.key))}",
            f'--pass "$(cat {shlex.quote(str(credentials.password_file))})"',
            f"-H 'content-type: {content_type}'",
            data,
            f"https://{host}:{settings.port}{path}",
        ]
    )


# What Excel sends for a first pivot with subtotals (Køn on columns, Aldersgruppe on rows, All
# members for the totals), as one XMLA Execute: paste it to see the mddataset Excel reads.
EXAMPLE_MDX = (
    "SELECT NON EMPTY Hierarchize({DrilldownLevel({[Køn].[Køn].[All]})}) DIMENSION PROPERTIES PARENT_UNIQUE_NAME "
    "ON COLUMNS, NON EMPTY Hierarchize({DrilldownLevel({[Aldersgruppe].[Aldersgruppe].[All]})}) "
    "DIMENSION PROPERTIES PARENT_UNIQUE_NAME ON ROWS FROM [Ukraine Statistik] WHERE ([Measures].[Nettoindvandring]) "
    "CELL PROPERTIES VALUE, FORMATTED_VALUE"
)


def example_xmla_body(catalog: str = "FLIS Ukraine-101") -> str:
    from xml.sax.saxutils import escape

    return (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        '<Execute xmlns="urn:schemas-microsoft-com:xml-analysis">'
        f"<Command><Statement>{escape(EXAMPLE_MDX)}</Statement></Command>"
        f"<Properties><PropertyList><Catalog>{escape(catalog)}</Catalog></PropertyList></Properties>"
        "</Execute></soap:Body></soap:Envelope>"
    )


def example_xmla_request(settings: Settings, credentials: DemoCredentials, *, catalog: str = "FLIS Ukraine-101") -> str:
    """The same pivot over XMLA (as Excel asks for it), as a curl command that works as pasted."""
    return _curl(settings, credentials, "text/xml", f"--data-binary {shlex.quote(example_xmla_body(catalog))}", "/xmla")
