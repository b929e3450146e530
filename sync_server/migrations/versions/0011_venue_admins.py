"""venue admins: the venues each manages

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 17:00:00.000000

Existing accounts keep their roles: an ``admin`` still manages everything.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_venues",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["venue_id"], ["venues.id"]),
        sa.PrimaryKeyConstraint("user_id", "venue_id"),
    )


def downgrade() -> None:
    op.drop_table("user_venues")
