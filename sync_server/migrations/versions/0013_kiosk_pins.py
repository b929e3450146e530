"""personal kiosk PINs: users.kiosk_pin_hash

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 19:00:00.000000

No account has one yet: each is set in the back office (``PUT /users/{name}/kiosk-pin``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not in batch mode (see 0009): a plain ADD COLUMN on both databases.
    op.add_column("users", sa.Column("kiosk_pin_hash", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM changes WHERE kind = 'staff'")
    op.execute("ALTER TABLE users DROP COLUMN kiosk_pin_hash")
