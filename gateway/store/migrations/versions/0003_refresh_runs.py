"""Refresh runs and the input each database was last built from (``dataadgang refresh``).

Revision ID: 0003_refresh
Revises: 0002_audit_key_id
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.tables import UTCDateTime

revision = "0003_refresh"
down_revision = "0002_audit_key_id"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refresh_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_by", sa.String(256), nullable=False),
        sa.Column("drop_dir", sa.Text(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("report", sa.Text(), nullable=True),
    )
    op.create_index("ix_refresh_runs_started_at", "refresh_runs", ["started_at"])
    op.create_table(
        "refresh_inputs",
        sa.Column("database", sa.String(200), primary_key=True),
        sa.Column("loaded_hash", sa.String(64), nullable=True),
        sa.Column("loaded_version", sa.Integer(), nullable=True),
        sa.Column("loaded_at", UTCDateTime(), nullable=True),
        sa.Column("last_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_status", sa.String(16), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failed_hash", sa.String(64), nullable=True),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("refresh_inputs")
    op.drop_index("ix_refresh_runs_started_at", table_name="refresh_runs")
    op.drop_table("refresh_runs")
