"""Administration portal: four-eyes approval of grants, server-side portal sessions, one-time
certificate downloads, indexes for searching the audit trail, and the record of chain checks.

Revision ID: 0005_portal
Revises: 0004_xmla_sessions
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.tables import UTCDateTime

revision = "0005_portal"
down_revision = "0004_xmla_sessions"
branch_labels = None
depends_on = None

SEARCH_COLUMNS = ("kommune_kode", "login", "database", "operation", "outcome")


def upgrade() -> None:
    with op.batch_alter_table("grants") as batch:
        batch.add_column(sa.Column("approved_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("approved_by", sa.String(256), nullable=True))
    # every grant made before four-eyes counted as approved by whoever granted it
    op.execute("UPDATE grants SET approved_at = granted_at, approved_by = granted_by")
    op.create_table(
        "portal_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("cert_fingerprint", sa.String(64), nullable=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("oidc_id_token", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("method in ('certificate', 'oidc')", name="ck_portal_sessions_method"),
    )
    op.create_table(
        "portal_downloads",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("session_id", sa.String(64), sa.ForeignKey("portal_sessions.id"), nullable=False, index=True),
        sa.Column("filename", sa.String(256), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "audit_verifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("verified_at", UTCDateTime(), nullable=False),
        sa.Column("verified_by", sa.String(256), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("checked", sa.BigInteger(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
    )
    # the auditor's search: an equality filter and a period, in time order, one page at a time
    op.create_index("ix_audit_events_time_seq", "audit_events", ["time", "seq"])
    for column in SEARCH_COLUMNS:
        op.create_index(f"ix_audit_events_{column}_time", "audit_events", [column, "time", "seq"])


def downgrade() -> None:
    for column in SEARCH_COLUMNS:
        op.drop_index(f"ix_audit_events_{column}_time", table_name="audit_events")
    op.drop_index("ix_audit_events_time_seq", table_name="audit_events")
    op.drop_table("audit_verifications")
    op.drop_table("portal_downloads")
    op.drop_table("portal_sessions")
    with op.batch_alter_table("grants") as batch:
        batch.drop_column("approved_by")
        batch.drop_column("approved_at")
