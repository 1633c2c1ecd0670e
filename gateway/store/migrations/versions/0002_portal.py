"""Administration portal: four-eyes approval of grants, server-side portal sessions, one-time
certificate downloads, and indexes for searching the audit trail.

Revision ID: 0002_portal
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.tables import UTCDateTime

revision = "0002_portal"
down_revision = "0001"
branch_labels = None
depends_on = None


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
    op.create_index("ix_audit_events_kommune_time", "audit_events", ["kommune_kode", "time"])
    op.create_index("ix_audit_events_operation_time", "audit_events", ["operation", "time"])
    op.create_index("ix_audit_events_outcome_time", "audit_events", ["outcome", "time"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_outcome_time", table_name="audit_events")
    op.drop_index("ix_audit_events_operation_time", table_name="audit_events")
    op.drop_index("ix_audit_events_kommune_time", table_name="audit_events")
    op.drop_table("portal_downloads")
    op.drop_table("portal_sessions")
    with op.batch_alter_table("grants") as batch:
        batch.drop_column("approved_by")
        batch.drop_column("approved_at")
