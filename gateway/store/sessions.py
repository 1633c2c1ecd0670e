"""Portal sessions, kept server-side so every worker sees them and logout ends them at once.

The browser holds a random token; the table holds only its SHA-256, the user, how they logged
in (certificate or OpenID Connect) and the session's CSRF token. A session ends at logout, after
``idle`` without a request, or ``absolute`` after login, whichever comes first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.store.tables import PortalDownloadRow, PortalSessionRow, UserRow

METHODS = ("certificate", "oidc")
# last_seen_at is written at most this often: a page view is a read, not a write per request
TOUCH_INTERVAL = dt.timedelta(seconds=30)
DOWNLOAD_LIFETIME = dt.timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class PortalSession:
    id: str  # SHA-256 of the cookie token
    user_id: int
    login: str
    method: str
    cert_fingerprint: str | None
    csrf_token: str
    oidc_id_token: str | None
    created_at: dt.datetime
    last_seen_at: dt.datetime


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(
    session: Session,
    *,
    user_id: int,
    method: str,
    cert_fingerprint: str | None,
    oidc_id_token: str | None,
    now: dt.datetime,
) -> tuple[str, PortalSession]:
    """A new session; returns (cookie token, session). The token is never stored."""
    if method not in METHODS:
        raise ValueError(f"unknown login method {method!r}")
    token = secrets.token_urlsafe(32)
    row = PortalSessionRow(
        id=token_id(token),
        user_id=user_id,
        method=method,
        cert_fingerprint=cert_fingerprint,
        csrf_token=secrets.token_urlsafe(32),
        oidc_id_token=oidc_id_token,
        created_at=now,
        last_seen_at=now,
    )
    session.add(row)
    session.flush()
    login = session.scalars(sa.select(UserRow.login).where(UserRow.id == user_id)).one()
    return token, _view(row, login)


def _view(row: PortalSessionRow, login: str) -> PortalSession:
    return PortalSession(
        id=row.id,
        user_id=row.user_id,
        login=login,
        method=row.method,
        cert_fingerprint=row.cert_fingerprint,
        csrf_token=row.csrf_token,
        oidc_id_token=row.oidc_id_token,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
    )


def find_live(
    session: Session, token: str, *, now: dt.datetime, idle: dt.timedelta, absolute: dt.timedelta
) -> PortalSession | None:
    """The session behind ``token`` if it has not ended, idled out or outlived ``absolute``."""
    found = session.execute(
        sa.select(PortalSessionRow, UserRow.login)
        .join(UserRow, PortalSessionRow.user_id == UserRow.id)
        .where(PortalSessionRow.id == token_id(token))
    ).one_or_none()
    if found is None:
        return None
    row, login = found
    if row.ended_at is not None or now - row.last_seen_at >= idle or now - row.created_at >= absolute:
        return None
    return _view(row, login)


def touch(session: Session, session_id: str, *, now: dt.datetime) -> None:
    session.execute(
        sa.update(PortalSessionRow)
        .where(PortalSessionRow.id == session_id, PortalSessionRow.ended_at.is_(None))
        .values(last_seen_at=now)
    )


def end(session: Session, session_id: str, *, now: dt.datetime) -> bool:
    """End the session and drop what it was offering; False if it had already ended."""
    session.execute(sa.delete(PortalDownloadRow).where(PortalDownloadRow.session_id == session_id))
    result = session.execute(
        sa.update(PortalSessionRow)
        .where(PortalSessionRow.id == session_id, PortalSessionRow.ended_at.is_(None))
        .values(ended_at=now)
    )
    return bool(result.rowcount)


def offer_download(session: Session, session_id: str, *, filename: str, content: bytes, now: dt.datetime) -> str:
    """Keep ``content`` for one fetch by this session; returns the download's token."""
    token = secrets.token_urlsafe(24)
    session.add(
        PortalDownloadRow(id=token_id(token), session_id=session_id, filename=filename, content=content, created_at=now)
    )
    session.flush()
    return token


def take_download(session: Session, session_id: str, token: str, *, now: dt.datetime) -> tuple[str, bytes] | None:
    """The file once, to the session it was offered to, within its lifetime; then it is gone."""
    session.execute(sa.delete(PortalDownloadRow).where(PortalDownloadRow.created_at <= now - DOWNLOAD_LIFETIME))
    row = session.get(PortalDownloadRow, token_id(token))
    if row is None or row.session_id != session_id:
        return None
    found = (row.filename, row.content)
    session.delete(row)
    session.flush()
    return found
