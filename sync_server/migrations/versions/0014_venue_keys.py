"""venue keys: a venue's own signing keys (signing_keys.venue_id)

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


def downgrade() -> None:
    # A release without venue keys would sign with whichever is active: keep the platform's.
    op.execute("DELETE FROM changes WHERE kind = 'key' AND scope <> '*'")
    op.execute("DELETE FROM signing_keys WHERE venue_id IS NOT NULL")
    op.execute("ALTER TABLE signing_keys DROP COLUMN venue_id")
