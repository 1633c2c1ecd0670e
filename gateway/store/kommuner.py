"""The 98 kommuner: seeded from gateway/data/kommuner.csv, onboarded one by one by an operator."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.store.errors import ConflictError, ValidationError
from gateway.store.rules import bump_revision, require_operator
from gateway.store.tables import KommuneRow
from gateway.store.views import Actor, KommuneView

KOMMUNER_CSV = Path(__file__).resolve().parent.parent / "data" / "kommuner.csv"


def _view(row: KommuneRow) -> KommuneView:
    return KommuneView(kode=row.kode, navn=row.navn, region=row.region, onboarded_at=row.onboarded_at)


def seed(session: Session, csv_path: Path = KOMMUNER_CSV) -> int:
    """Insert the kommuner that are missing; return how many were added. Existing rows are kept."""
    with csv_path.open(encoding="utf-8", newline="") as handle:
        wanted = {row["kode"].strip(): row for row in csv.DictReader(handle)}
    present = set(session.scalars(sa.select(KommuneRow.kode)))
    missing = [code for code in sorted(wanted) if code not in present]
    for code in missing:
        row = wanted[code]
        session.add(KommuneRow(kode=code, navn=row["navn"].strip(), region=row["region"].strip()))
    session.flush()
    return len(missing)


def get(session: Session, kode: str) -> KommuneRow:
    row = session.get(KommuneRow, kode.strip())
    if row is None:
        raise ValidationError(f"unknown kommune '{kode}' (expected a three-digit kommune code such as 101)")
    return row


def onboard(session: Session, actor: Actor, kode: str, *, now: dt.datetime) -> KommuneView:
    require_operator(actor, "onboard kommuner")
    row = get(session, kode)
    if row.onboarded_at is not None:
        raise ConflictError(f"kommune {row.kode} {row.navn} was already onboarded on {row.onboarded_at:%Y-%m-%d}")
    bump_revision(session)
    row.onboarded_at = now
    row.onboarded_by = actor.login
    session.flush()
    return _view(row)


def offboard(session: Session, actor: Actor, kode: str) -> KommuneView:
    """End the agreement: the kommune's users are refused from the next request on."""
    require_operator(actor, "offboard kommuner")
    row = get(session, kode)
    if row.onboarded_at is None:
        raise ConflictError(f"kommune {row.kode} {row.navn} is not onboarded")
    bump_revision(session)
    row.onboarded_at = None
    row.onboarded_by = actor.login
    session.flush()
    return _view(row)


def list_all(session: Session, *, onboarded_only: bool = False) -> list[KommuneView]:
    query = sa.select(KommuneRow).order_by(KommuneRow.kode)
    if onboarded_only:
        query = query.where(KommuneRow.onboarded_at.is_not(None))
    return [_view(row) for row in session.scalars(query)]
