"""``MetadataStore``: the control plane's single entry point. Each method is one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.orm import Session

from gateway.access import GrantView
from gateway.audit import chain as audit_chain
from gateway.audit.checkpoints import AuditSeal, Checkpoint
from gateway.audit.events import Outcome, admin_event
from gateway.audit.log import AuditLog, event_fields
from gateway.principal import Principal, Role
from gateway.store import certificates, grants, kommuner, sessions, users
from gateway.store.db import Clock, Database, utc_now
from gateway.store.errors import ConflictError
from gateway.store.identity import StoreIdentitySource
from gateway.store.sessions import PortalSession
from gateway.store.views import Actor, CertificateView, GrantInfo, KommuneView, UserView

if TYPE_CHECKING:
    from gateway.audit import AuditLog
    from gateway.store.refresh import RefreshLog
    from gateway.settings import Settings
    from gateway.store.xmla_sessions import XmlaSessions

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic config built in code: no alembic.ini needed at runtime."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


_MIGRATION_LOCK_KEY = 0x64616167  # 'daag': any constant the deployment's other users do not take


class MetadataStore(StoreIdentitySource):
    """Kommuner, users, certificates, grants and the audit trail, in one SQL database.

    Also the gateway's IdentitySource (``revision``, ``revoked_fingerprints``, ``principal_for``).
    ``seal`` holds what keeps the audit trail honest outside the database (keys, checkpoints).
    """

    def __init__(
        self,
        url: str,
        *,
        seal: AuditSeal,
        clock: Clock = utc_now,
        max_individual_grant_validity: dt.timedelta = grants.DEFAULT_MAX_INDIVIDUAL_VALIDITY,
    ) -> None:
        self.database = Database(url, clock=clock)
        self.seal = seal
        self.max_individual_grant_validity = max_individual_grant_validity
        super().__init__(self.database)

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock = utc_now) -> MetadataStore:
        """The store as configured: URL, audit keys (created with mode 0600 on first use), the
        longest an individual-level grant may last."""
        seal = AuditSeal.open(settings.resolved_audit_key_dir, settings.resolved_audit_checkpoint_file)
        return cls(
            settings.resolved_metadata_url,
            seal=seal,
            clock=clock,
            max_individual_grant_validity=dt.timedelta(days=settings.individual_grant_max_days),
        )

    # -- lifecycle -------------------------------------------------------------------------
    def migrate(self) -> None:
        """Bring the schema to the newest revision and seed missing kommuner. Safe to repeat,
        also from several processes at once (SQLite: the write lock; PostgreSQL: an advisory
        lock held around both steps)."""
        with self.database.write_engine.connect() as connection:
            postgres = connection.dialect.name == "postgresql"
            if postgres:
                connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
                connection.commit()
            try:
                command.upgrade(alembic_config(connection), "head")
                connection.commit()
                with self.database.write() as session:
                    kommuner.seed(session)
                self._adopt_audit_seal()
            finally:
                if postgres:
                    connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK_KEY})
                    connection.commit()

    def _adopt_audit_seal(self) -> None:
        """The first checkpoint seals whatever the trail holds when its checkpoint file begins
        (rows from before audit keys included); a trail with checkpoints is left alone."""
        if not self.seal.checkpoints.exists():
            self.audit_log().checkpoint(kind="adopted")

    def close(self) -> None:
        self.database.dispose()

    def __enter__(self) -> MetadataStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def identity_source(self) -> StoreIdentitySource:
        return self

    def audit_log(self) -> AuditLog:
        return AuditLog(self.database, self.seal)

    def rotate_audit_key(self) -> Checkpoint:
        """A new audit key generation for this store's rows from now on; the head is checkpointed
        under it at once. Older generations stay in the key directory for verification."""
        self.seal = self.seal.rotated()
        return self.audit_log().checkpoint(kind="manual")

    def refresh_log(self) -> RefreshLog:
        from gateway.store.refresh import RefreshLog

        return RefreshLog(self.database)

    def xmla_sessions(self) -> XmlaSessions:
        from gateway.store.xmla_sessions import XmlaSessions

        return XmlaSessions(self.database)

    def now(self) -> dt.datetime:
        return self.database.clock()

    @contextmanager
    def _write(self) -> Iterator[Session]:
        try:
            with self.database.write() as session:
                yield session
        except sa.exc.IntegrityError as error:
            # Our own checks name the clash; this is the backstop for a race between two writers.
            raise ConflictError("the change conflicts with a record written at the same time; try again") from error

    def _record_admin(
        self,
        session: Session,
        actor: Actor,
        operation: str,
        kommune_kode: str | None,
        detail: str,
        *,
        database: str | None = None,
        reason: str | None = None,
        outcome: Outcome = "served",
    ) -> None:
        """Append the change's audit event inside the change's own transaction: both or neither."""
        event = admin_event(actor.login, operation=operation, kommune_kode=kommune_kode, detail=detail, time=self.now(),
                            database=database, reason=reason, outcome=outcome)
        audit_chain.append(session, self.seal.keys, event_fields(event))

    def record_refused(self, actor: Actor, operation: str, *, detail: str, reason: str) -> None:
        """A change the actor asked for and was refused: one ``denied`` event, nothing else.

        Filed under the actor's own kommune, never the target's: a target of another kommune and
        one that does not exist must leave the same trace, or the trail would tell them apart.
        """
        with self._write() as session:
            self._record_admin(session, actor, operation, actor.kommune_kode, detail, reason=reason, outcome="denied")

    @staticmethod
    def _kommune_of(session: Session, user_id: int) -> str:
        """The kommune a change belongs to, so its audit event shows in that kommune's trail."""
        return session.scalars(sa.select(users.UserRow.kommune_kode).where(users.UserRow.id == user_id)).one()

    # -- kommuner -------------------------------------------------------------------------
    def onboard_kommune(self, actor: Actor, kode: str) -> KommuneView:
        with self._write() as session:
            view = kommuner.onboard(session, actor, kode, now=self.now())
            self._record_admin(session, actor, "admin.kommune.onboard", view.kode, f"onboarded kommune {view.kode} {view.navn}")
            return view

    def offboard_kommune(self, actor: Actor, kode: str) -> KommuneView:
        with self._write() as session:
            view = kommuner.offboard(session, actor, kode)
            self._record_admin(session, actor, "admin.kommune.offboard", view.kode, f"offboarded kommune {view.kode} {view.navn}")
            return view

    def list_kommuner(self, *, onboarded_only: bool = False) -> list[KommuneView]:
        with self.database.read() as session:
            return kommuner.list_all(session, onboarded_only=onboarded_only)

    # -- users ----------------------------------------------------------------------------
    def add_user(
        self,
        actor: Actor,
        *,
        kommune_kode: str,
        login: str,
        display_name: str = "",
        roles: frozenset[Role] = frozenset({Role.USER}),
    ) -> UserView:
        with self._write() as session:
            view = users.add(
                session, actor, kommune_kode=kommune_kode, login=login, display_name=display_name, roles=roles, now=self.now()
            )
            roles_text = ",".join(sorted(r.value for r in view.roles))
            self._record_admin(session, actor, "admin.user.add", view.kommune_kode, f"added user {view.login} roles={roles_text}")
            return view

    def suspend_user(self, actor: Actor, login: str) -> UserView:
        with self._write() as session:
            view = users.set_status(session, actor, login, users.SUSPENDED)
            self._record_admin(session, actor, "admin.user.suspend", view.kommune_kode, f"suspended user {view.login}")
            return view

    def activate_user(self, actor: Actor, login: str) -> UserView:
        with self._write() as session:
            view = users.set_status(session, actor, login, users.ACTIVE)
            self._record_admin(session, actor, "admin.user.activate", view.kommune_kode, f"activated user {view.login}")
            return view

    def set_roles(self, actor: Actor, login: str, roles: frozenset[Role]) -> UserView:
        with self._write() as session:
            view = users.set_roles(session, actor, login, roles)
            roles_text = ",".join(sorted(r.value for r in view.roles))
            self._record_admin(session, actor, "admin.user.roles", view.kommune_kode, f"set roles of {view.login} to {roles_text}")
            return view

    def get_user(self, actor: Actor, login: str) -> UserView:
        with self.database.read() as session:
            return users.view(users.find(session, actor, login))

    def get_user_by_id(self, actor: Actor, user_id: int) -> UserView:
        with self.database.read() as session:
            return users.view(users.find_by_id(session, actor, user_id))

    def list_users(self, actor: Actor, *, kommune_kode: str | None = None) -> list[UserView]:
        with self.database.read() as session:
            return users.list_users(session, actor, kommune_kode=kommune_kode)

    # -- grants ---------------------------------------------------------------------------
    def add_grant(
        self,
        actor: Actor,
        *,
        login: str,
        area: str,
        valid_areas: Collection[str],
        purpose: str,
        level: str = "aggregated",
        valid_from: dt.datetime | None = None,
        valid_to: dt.datetime | None = None,
    ) -> GrantInfo:
        with self._write() as session:
            info = grants.add(
                session,
                actor,
                login=login,
                area=area,
                valid_areas=valid_areas,
                purpose=purpose,
                level=level,
                valid_from=valid_from,
                valid_to=valid_to,
                now=self.now(),
                max_individual_validity=self.max_individual_grant_validity,
            )
            until = info.valid_to.isoformat() if info.valid_to else "open"
            detail = f"granted {info.id}: {info.login} {info.area} ({info.level}) {info.valid_from.isoformat()}..{until}; purpose: {info.purpose}"
            if info.awaiting_approval:
                detail += "; awaiting approval by a second officer"
            self._record_admin(session, actor, "admin.grant.add", info.kommune_kode, detail)
            return info

    def approve_grant(self, actor: Actor, grant_id: int) -> GrantInfo:
        """Four-eyes: a second officer makes an individual-level grant count."""
        with self._write() as session:
            info = grants.approve(session, actor, grant_id, now=self.now())
            detail = f"approved grant {info.id}: {info.login} {info.area} ({info.level}), granted by {info.granted_by}"
            self._record_admin(session, actor, "admin.grant.approve", info.kommune_kode, detail)
            return info

    def get_grant(self, actor: Actor, grant_id: int) -> GrantInfo:
        with self.database.read() as session:
            return grants.get(session, actor, grant_id)

    def revoke_grant(self, actor: Actor, grant_id: int) -> GrantInfo:
        with self._write() as session:
            info = grants.revoke(session, actor, grant_id, now=self.now())
            self._record_admin(session, actor, "admin.grant.revoke", info.kommune_kode, f"revoked grant {info.id}: {info.login} {info.area}")
            return info

    def list_grants(
        self,
        actor: Actor,
        *,
        login: str | None = None,
        kommune_kode: str | None = None,
        include_revoked: bool = True,
        awaiting_approval: bool = False,
        expiring_within: dt.timedelta | None = None,
    ) -> list[GrantInfo]:
        """``expiring_within`` lists grants in force that end within that time: the recertification list."""
        now = self.now()
        with self.database.read() as session:
            return grants.list_grants(
                session,
                actor,
                login=login,
                kommune_kode=kommune_kode,
                include_revoked=include_revoked,
                awaiting_approval=awaiting_approval,
                expiring_before=None if expiring_within is None else now + expiring_within,
                now=now,
            )

    def grants_for(self, principal: Principal) -> tuple[GrantView, ...]:
        """The principal's unrevoked grants, read fresh for ``gateway.access.decide`` on each request."""
        with self.database.read() as session:
            return grants.for_user(session, principal.user_id)

    # -- certificates ---------------------------------------------------------------------
    def record_certificate(
        self,
        actor: Actor,
        *,
        login: str,
        serial: int,
        fingerprint: str,
        not_before: dt.datetime,
        not_after: dt.datetime,
    ) -> CertificateView:
        with self._write() as session:
            view = certificates.record(
                session,
                actor,
                login=login,
                serial=serial,
                fingerprint=fingerprint,
                not_before=not_before,
                not_after=not_after,
                now=self.now(),
            )
            detail = f"issued certificate {view.serial:x} (sha256 {view.fingerprint}) to {view.login}, valid to {view.not_after.isoformat()}"
            self._record_admin(session, actor, "admin.certificate.issue", self._kommune_of(session, view.user_id), detail)
            return view

    def revoke_certificate(self, actor: Actor, serial: int, *, reason: str) -> CertificateView:
        with self._write() as session:
            view = certificates.revoke(session, actor, serial, reason=reason, now=self.now())
            self._record_admin(
                session, actor, "admin.certificate.revoke", self._kommune_of(session, view.user_id),
                f"revoked certificate {view.serial:x} of {view.login} ({reason})",
            )
            return view

    def get_certificate(self, actor: Actor, serial: int) -> CertificateView:
        with self.database.read() as session:
            return certificates.get_by_serial(session, actor, serial)

    def list_expiring_certificates(self, actor: Actor, *, within: dt.timedelta) -> list[CertificateView]:
        """Valid certificates that expire within ``within``: operators see every kommune's."""
        now = self.now()
        with self.database.read() as session:
            return certificates.list_expiring(session, actor, now=now, before=now + within)

    def list_certificates(self, actor: Actor, login: str) -> list[CertificateView]:
        with self.database.read() as session:
            return certificates.list_for(session, actor, login)

    def all_certificates(self, actor: Actor) -> list[CertificateView]:
        """Every certificate the actor may see, for comparing the store with the CA."""
        with self.database.read() as session:
            return certificates.list_all(session, actor)

    # -- portal sessions ------------------------------------------------------------------
    def start_portal_session(
        self,
        user: UserView,
        *,
        method: str,
        cert_fingerprint: str | None = None,
        oidc_id_token: str | None = None,
        client_address: str | None = None,
    ) -> tuple[str, PortalSession]:
        """Log ``user`` in to the portal; the login is an audit event in the same transaction."""
        actor = Actor(login=user.login, roles=user.roles, kommune_kode=user.kommune_kode)
        with self._write() as session:
            token, started = sessions.start(
                session, user_id=user.id, method=method, cert_fingerprint=cert_fingerprint,
                oidc_id_token=oidc_id_token, now=self.now(),
            )
            self._record_admin(session, actor, "admin.session.login", user.kommune_kode, f"portal login by {method}",
                               reason=client_address)
            return token, started

    def record_refused_login(self, login: str | None, kommune_kode: str | None, *, method: str, reason: str,
                             client_address: str | None = None) -> None:
        """A portal login that was refused: one ``denied`` ``admin.session.login`` event.

        ``login`` is who the certificate or the provider said the person is (None when nobody
        could be named, e.g. a forged state); the event is filed in that user's kommune, so
        their officer sees attempts on the account.
        """
        detail = f"portal login by {method} refused" + (f" from {client_address}" if client_address else "")
        event = admin_event(login, operation="admin.session.login", kommune_kode=kommune_kode, detail=detail,
                            time=self.now(), reason=reason, outcome="denied")
        with self._write() as session:
            audit_chain.append(session, self.seal.keys, event_fields(event))

    def portal_session(self, token: str, *, idle: dt.timedelta, absolute: dt.timedelta) -> PortalSession | None:
        """The live session behind a cookie token (None when ended or timed out); keeps it alive."""
        now = self.now()
        with self.database.read() as session:
            found = sessions.find_live(session, token, now=now, idle=idle, absolute=absolute)
        if found is not None and now - found.last_seen_at >= sessions.TOUCH_INTERVAL:
            with self._write() as session:
                sessions.touch(session, found.id, now=now)
        return found

    def end_portal_session(self, actor: Actor, session_id: str, *, why: str = "logout") -> None:
        with self._write() as session:
            if sessions.end(session, session_id, now=self.now()):
                self._record_admin(session, actor, "admin.session.logout", actor.kommune_kode, f"portal session ended: {why}")

    def offer_download(self, session_id: str, *, filename: str, content: bytes) -> str:
        with self._write() as session:
            return sessions.offer_download(session, session_id, filename=filename, content=content, now=self.now())

    def take_download(self, actor: Actor, session_id: str, token: str) -> tuple[str, bytes] | None:
        """The offered file, once; handing it over is an audit event in the same transaction."""
        with self._write() as session:
            found = sessions.take_download(session, session_id, token, now=self.now())
            if found is not None:
                self._record_admin(session, actor, "admin.certificate.download", actor.kommune_kode,
                                   f"downloaded {found[0]}")
            return found

    def user_by_id(self, user_id: int) -> UserView | None:
        """The user as now stored (status, roles), whoever asks: for the portal's own session checks."""
        with self.database.read() as session:
            row = session.get(users.UserRow, user_id)
            return None if row is None else users.view(row)

    def user_by_login(self, login: str) -> UserView | None:
        """The user an identity provider named (OpenID Connect login), whoever asks."""
        with self.database.read() as session:
            row = session.scalars(sa.select(users.UserRow).where(users.UserRow.login == users.normalise_login(login))).one_or_none()
            return None if row is None else users.view(row)

    def kommune_onboarded(self, kode: str) -> bool:
        with self.database.read() as session:
            return kommuner.get(session, kode).onboarded_at is not None
