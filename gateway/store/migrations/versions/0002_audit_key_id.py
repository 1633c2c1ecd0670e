"""Audit rows name the key generation their hash was made with (keyed chain, signed checkpoints).

Existing rows keep ``key_id`` NULL: they were hashed with plain SHA-256 and stay verifiable as
they are; the first checkpoint written after this migration seals them.

Revision ID: 0002_audit_key_id
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_audit_key_id"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("key_id", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("key_id")
