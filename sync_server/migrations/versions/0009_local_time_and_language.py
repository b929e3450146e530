"""venue time zones, users' languages, alert facts

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 15:00:00.000000

Every venue gets a time zone: the server's ``ENTRIX_DEFAULT_TIMEZONE`` (``UTC`` unless set) for
the venues already there; ``gate-admin venue update CODE --timezone Africa/Tunis`` changes it.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    default = os.environ.get("ENTRIX_DEFAULT_TIMEZONE", "UTC") or "UTC"
    with op.batch_alter_table("venues") as batch:
        batch.add_column(
            sa.Column("timezone", sa.String(length=64), nullable=False, server_default="UTC")
        )
    if default != "UTC":
        op.execute(sa.text("UPDATE venues SET timezone = :zone").bindparams(zone=default))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("facts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("facts")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("venues") as batch:
        batch.drop_column("timezone")
