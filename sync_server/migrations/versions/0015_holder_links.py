"""rotating rights: access_rights.rotating, events.rotating_required, holder_links

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 20:30:00.000000

A right issued rotating is shown only as a rotating code (its credential says so); an event may
require rotating codes of every right; a holder's link (``/t/<token>``) shows a right's rotating
code, kept as the SHA-256 of its token.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "access_rights",
        sa.Column("rotating", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "events",
        sa.Column("rotating_required", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "holder_links",
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("right_id", sa.LargeBinary(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["right_id"], ["access_rights.id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_holder_links_right_id", "holder_links", ["right_id"])


def downgrade() -> None:
    op.execute("DELETE FROM changes WHERE kind = 'event_rule'")
    op.drop_index("ix_holder_links_right_id", table_name="holder_links")
    op.drop_table("holder_links")
    op.execute("ALTER TABLE events DROP COLUMN rotating_required")
    op.execute("ALTER TABLE access_rights DROP COLUMN rotating")
