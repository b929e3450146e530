"""device sequence: the highest sequence number of each device's records stored and stated

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


COLUMNS = ("acked_seq", "heard_seq")
# Not in batch mode: on SQLite that copies the table, and scans refer to devices (a foreign key
# the copy's DROP TABLE breaks). ADD and DROP COLUMN are plain statements on both databases.


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column(
            "devices", sa.Column(column, sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.execute(f"ALTER TABLE devices DROP COLUMN {column}")
