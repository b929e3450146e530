"""bans keep the back office's own holder reference (server only)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 16:00:00.000000

Bans made before this have none: the office finds them by typing the reference again (its
pseudonym is compared).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not in batch mode (SQLite would copy the table): a plain ADD COLUMN on both databases.
    op.add_column("bans", sa.Column("holder_ref", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE bans DROP COLUMN holder_ref")
