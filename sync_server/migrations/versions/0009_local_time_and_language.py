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


# Not in batch mode: on SQLite that copies the table, and zones, events and gates refer to venues
# (a foreign key the copy's DROP TABLE breaks). ADD and DROP COLUMN are plain statements on both
# databases.
def _columns() -> list[tuple[str, sa.Column[object]]]:
    """Made afresh for each run: a Column belongs to the table it was added to."""
    return [
        ("venues", sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC")),
        ("users", sa.Column("language", sa.String(length=8), nullable=True)),
        ("alerts", sa.Column("facts", sa.JSON(), nullable=True)),
    ]


def upgrade() -> None:
    default = os.environ.get("ENTRIX_DEFAULT_TIMEZONE", "UTC") or "UTC"
    for table, column in _columns():
        op.add_column(table, column)
    if default != "UTC":
        op.execute(sa.text("UPDATE venues SET timezone = :zone").bindparams(zone=default))


def downgrade() -> None:
    for table, column in reversed(_columns()):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column.name}")
