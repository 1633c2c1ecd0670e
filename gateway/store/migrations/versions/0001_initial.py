"""Initial metadata schema: kommuner, users, certificates, grants, identity revision, audit chain.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.tables import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kommuner",
        sa.Column("kode", sa.String(3), primary_key=True),
        sa.Column("navn", sa.String(100), nullable=False),
        sa.Column("region", sa.String(50), nullable=False),
        sa.Column("onboarded_at", UTCDateTime(), nullable=True),
        sa.Column("onboarded_by", sa.String(256), nullable=True),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kommune_kode", sa.String(3), sa.ForeignKey("kommuner.kode"), nullable=False),
        sa.Column("login", sa.String(256), nullable=False, unique=True),
        sa.Column("display_name", sa.String(256), nullable=False),
        sa.Column("roles", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.CheckConstraint("status in ('active', 'suspended')", name="ck_users_status"),
    )
    op.create_index("ix_users_kommune_kode", "users", ["kommune_kode"])
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("serial", sa.String(64), nullable=False, unique=True),
        sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
        sa.Column("not_before", UTCDateTime(), nullable=False),
        sa.Column("not_after", UTCDateTime(), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("issued_by", sa.String(256), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revocation_reason", sa.String(64), nullable=True),
        sa.Column("revoked_by", sa.String(256), nullable=True),
    )
    op.create_index("ix_certificates_user_id", "certificates", ["user_id"])
    op.create_table(
        "grants",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("area", sa.String(64), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_to", UTCDateTime(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("granted_at", UTCDateTime(), nullable=False),
        sa.Column("granted_by", sa.String(256), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(256), nullable=True),
        sa.CheckConstraint("level in ('aggregated', 'individual')", name="ck_grants_level"),
        sa.CheckConstraint("valid_to is null or valid_to > valid_from", name="ck_grants_window"),
    )
    op.create_index("ix_grants_user_id", "grants", ["user_id"])
    revision_table = op.create_table(
        "identity_revision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(revision_table, [{"id": 1, "value": 1}])
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("time", UTCDateTime(), nullable=False),
        sa.Column("login", sa.Text(), nullable=True),
        sa.Column("cert_fingerprint", sa.Text(), nullable=True),
        sa.Column("kommune_kode", sa.Text(), nullable=True),
        sa.Column("client_address", sa.Text(), nullable=True),
        sa.Column("operation", sa.Text(), nullable=False),
        sa.Column("database", sa.Text(), nullable=True),
        sa.Column("query", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("cells", sa.BigInteger(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_events_time", "audit_events", ["time"])
    op.create_index("ix_audit_events_login", "audit_events", ["login"])
    op.create_index("ix_audit_events_database", "audit_events", ["database"])
    head_table = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head_table, [{"id": 1, "seq": 0, "hash": "0" * 64}])


def downgrade() -> None:
    for table in ("audit_chain_head", "audit_events", "identity_revision", "grants", "certificates", "users", "kommuner"):
        op.drop_table(table)
