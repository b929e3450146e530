"""scan quarantine: records the server did not believe as uploaded, held until an admin decides

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 13:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("scans", sa.Column("quarantine", sa.String(length=200), nullable=True))
    op.add_column("scans", sa.Column("quarantine_state", sa.String(length=10), nullable=True))
    op.create_index("ix_scans_quarantine_state", "scans", ["quarantine_state"])


def downgrade() -> None:
    op.drop_index("ix_scans_quarantine_state", table_name="scans")
    op.execute("ALTER TABLE scans DROP COLUMN quarantine_state")
    op.execute("ALTER TABLE scans DROP COLUMN quarantine")
