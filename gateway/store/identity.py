"""The store as the gateway's IdentitySource: fingerprint -> Principal, plus a cheap change counter."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from gateway.principal import Principal
from gateway.store.db import Database
from gateway.store.rules import parse_roles
from gateway.store.tables import CertificateRow, KommuneRow, RevisionRow, UserRow


_REVISION_SQL = f"SELECT value FROM {RevisionRow.__tablename__} WHERE id = 1"


class StoreIdentitySource:
    """Implements ``gateway.identity.source.IdentitySource`` over the metadata store.

    Every answer is read fresh from the database; callers cache and use :meth:`revision` (one
    primary-key lookup) to learn when to drop their cache.
    """

    def __init__(self, database: Database) -> None:
        self._database = database

    def revision(self) -> int:
        """One primary-key read on a pooled DBAPI connection: this runs on every request, so it
        skips the ORM and SQLAlchemy's per-statement work (the SQL is a constant)."""
        connection = self._database.engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(_REVISION_SQL)
                row = cursor.fetchone()
            finally:
                cursor.close()
        finally:
            connection.close()  # back to the pool (rolled back there)
        if row is None:
            raise LookupError("the metadata store has no revision row; run migrations")
        return int(row[0])

    def revoked_fingerprints(self) -> frozenset[str]:
        with self._database.read() as session:
            return frozenset(
                session.scalars(sa.select(CertificateRow.fingerprint).where(CertificateRow.revoked_at.is_not(None)))
            )

    def owner_of(self, fingerprint: str) -> tuple[str, str] | None:
        """(login, kommune) of the user a certificate was issued to, whatever its state: so a refused
        certificate's audit event is filed under its user and kommune (their auditor sees the attempt)."""
        with self._database.read() as session:
            found = session.execute(
                sa.select(UserRow.login, UserRow.kommune_kode)
                .join(CertificateRow, CertificateRow.user_id == UserRow.id)
                .where(CertificateRow.fingerprint == fingerprint.strip().lower())
            ).one_or_none()
        return None if found is None else (found[0], found[1])

    def principal_for(self, fingerprint: str, *, now: dt.datetime | None = None) -> Principal | None:
        """None unless the certificate is known, unrevoked, valid now, its user active, its kommune onboarded."""
        at = self._database.clock() if now is None else now
        with self._database.read() as session:
            found = session.execute(
                sa.select(CertificateRow, UserRow, KommuneRow)
                .join(UserRow, CertificateRow.user_id == UserRow.id)
                .join(KommuneRow, UserRow.kommune_kode == KommuneRow.kode)
                .where(CertificateRow.fingerprint == fingerprint.strip().lower())
            ).one_or_none()
        if found is None:
            return None
        certificate, user, kommune = found
        if certificate.revoked_at is not None:
            return None
        if not certificate.not_before <= at < certificate.not_after:
            return None
        if user.status != "active" or kommune.onboarded_at is None:
            return None
        return Principal(
            user_id=user.id,
            login=user.login,
            kommune_kode=user.kommune_kode,
            roles=parse_roles(user.roles),
            cert_fingerprint=certificate.fingerprint,
            cert_serial=int(certificate.serial),
            cert_not_after=certificate.not_after,
        )
