"""XMLA sessions in the metadata store, so every gateway worker sees the same ones.

A session belongs to the certificate that opened it: looked up by id *and* fingerprint, so
another certificate presenting the id finds nothing, exactly as for an id that never existed.
Sessions idle longer than ``idle_timeout`` are gone; use refreshes ``last_used_at`` at most
once per ``touch_interval`` so that a busy session costs a read, not a write, per request.
"""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa

from gateway.store.db import Database
from gateway.store.tables import XmlaSessionRow

IDLE_TIMEOUT = dt.timedelta(hours=8)
TOUCH_INTERVAL = dt.timedelta(minutes=5)


class XmlaSessions:
    def __init__(self, database: Database, *, idle_timeout: dt.timedelta = IDLE_TIMEOUT) -> None:
        self._database = database
        self._idle_timeout = idle_timeout

    def begin(self, fingerprint: str) -> str:
        """Open a session for the certificate; return its id (also drops long-idle sessions)."""
        now = self._database.clock()
        session_id = secrets.token_hex(16).upper()
        with self._database.write() as session:
            session.execute(sa.delete(XmlaSessionRow).where(XmlaSessionRow.last_used_at < now - self._idle_timeout))
            session.add(XmlaSessionRow(id=session_id, cert_fingerprint=fingerprint, created_at=now, last_used_at=now))
        return session_id

    def use(self, session_id: str, fingerprint: str) -> bool:
        """True when the session is open and this certificate's; refreshes its idle clock."""
        now = self._database.clock()
        with self._database.read() as session:
            row = session.get(XmlaSessionRow, session_id[:64])
            if row is None or row.cert_fingerprint != fingerprint or row.last_used_at < now - self._idle_timeout:
                return False
            stale = row.last_used_at < now - TOUCH_INTERVAL
        if stale:
            with self._database.write() as session:
                session.execute(
                    sa.update(XmlaSessionRow).where(XmlaSessionRow.id == session_id).values(last_used_at=now)
                )
        return True

    def end(self, session_id: str, fingerprint: str) -> bool:
        """Close the session if it is this certificate's; False when there was none to close."""
        with self._database.write() as session:
            result = session.execute(
                sa.delete(XmlaSessionRow).where(
                    XmlaSessionRow.id == session_id[:64], XmlaSessionRow.cert_fingerprint == fingerprint
                )
            )
            return bool(result.rowcount)
