"""the database's epoch: changed after a restore, so that gates resend their scans

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 02:30:00.000000
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feed_counter", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("epoch", sa.String(length=32), nullable=False, server_default="")
        )
    # Every database its own: two servers (or a restored copy) never share an epoch.
    counter = sa.table("feed_counter", sa.column("epoch", sa.String))
    op.execute(counter.update().values(epoch=secrets.token_hex(16)))


def downgrade() -> None:
    with op.batch_alter_table("feed_counter", schema=None) as batch_op:
        batch_op.drop_column("epoch")
