"""venue keys: a venue's own signing keys (signing_keys.venue_id), its rotation keys

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 19:30:00.000000

Existing keys stay the platform's (venue_id NULL), trusted by every gate. A plain column without
a foreign key, so that SQLite can drop it on a downgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("signing_keys", sa.Column("venue_id", sa.Integer(), nullable=True))
    op.create_table(
        "rotation_keys",
        sa.Column("rkid", sa.String(length=8), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["venue_id"], ["venues.id"]),
        sa.PrimaryKeyConstraint("rkid"),
    )
    op.create_index("ix_rotation_keys_venue_id", "rotation_keys", ["venue_id"])


def downgrade() -> None:
    op.execute("DELETE FROM changes WHERE kind = 'rotation_key'")
    op.drop_index("ix_rotation_keys_venue_id", table_name="rotation_keys")
    op.drop_table("rotation_keys")
    # A release without venue keys would sign with whichever is active: keep the platform's.
    op.execute("DELETE FROM changes WHERE kind = 'key' AND scope <> '*'")
    op.execute("DELETE FROM signing_keys WHERE venue_id IS NOT NULL")
    op.execute("ALTER TABLE signing_keys DROP COLUMN venue_id")
