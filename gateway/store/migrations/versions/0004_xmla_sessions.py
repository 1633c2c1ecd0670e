"""XMLA sessions: one row per open session, bound to the certificate that opened it.

Revision ID: 0004_xmla_sessions
Revises: 0003_refresh
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.tables import UTCDateTime

revision = "0004_xmla_sessions"
down_revision = "0003_refresh"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "xmla_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("cert_fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_xmla_sessions_cert_fingerprint", "xmla_sessions", ["cert_fingerprint"])
    op.create_index("ix_xmla_sessions_last_used_at", "xmla_sessions", ["last_used_at"])


def downgrade() -> None:
    op.drop_table("xmla_sessions")
