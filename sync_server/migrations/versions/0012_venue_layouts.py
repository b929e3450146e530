"""venue layouts: each venue's zone tree becomes its first (default) layout

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 18:00:00.000000

Every venue gets one layout, ``MAIN`` ("Main layout", renamable), holding its zones; every event
is held in it; the gates' ``zones`` are where they lead in it. Other layouts' access points go to
``access_points``. The feed gets each new layout (protocol 3 gates read layouts), published
like any change: the counter moves, so gates pull them.

``zones`` is copied into a new table (its unique key changes from the venue's to the
layout's); no table refers to zones. ``events.layout_id`` is a plain column without a foreign
key: SQLite cannot drop a column that has one, and events are referred to by rights (a copy of
the table would break those keys). The services keep it right.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

MAIN = "MAIN"
MAIN_NAME = "Main layout"


def upgrade() -> None:
    op.create_table(
        "layouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["venue_id"], ["venues.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("venue_id", "code", name="uq_layouts_venue_code"),
    )
    op.create_index("ix_layouts_venue_id", "layouts", ["venue_id"])
    bind = op.get_bind()
    venues = bind.execute(sa.text("SELECT id, code FROM venues ORDER BY id")).all()
    for venue_id, _code in venues:
        bind.execute(
            sa.text(
                "INSERT INTO layouts (venue_id, code, name, is_default) VALUES (:v, :c, :n, :d)"
            ),
            {"v": venue_id, "c": MAIN, "n": MAIN_NAME, "d": True},
        )

    op.create_table(
        "zones_by_layout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layout_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent", sa.String(length=64), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["layout_id"], ["layouts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("layout_id", "code", name="uq_zones_layout_code"),
    )
    op.execute(
        "INSERT INTO zones_by_layout (layout_id, code, name, parent, capacity)"
        " SELECT l.id, z.code, z.name, z.parent, z.capacity FROM zones z"
        " JOIN layouts l ON l.venue_id = z.venue_id ORDER BY z.id"
    )
    op.drop_table("zones")
    op.rename_table("zones_by_layout", "zones")
    op.create_index("ix_zones_layout_id", "zones", ["layout_id"])

    op.add_column("events", sa.Column("layout_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE events SET layout_id ="
        " (SELECT l.id FROM layouts l WHERE l.venue_id = events.venue_id AND l.is_default)"
    )
    op.create_table(
        "access_points",
        sa.Column("layout_id", sa.Integer(), nullable=False),
        sa.Column("gate_id", sa.Integer(), nullable=False),
        sa.Column("zones", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["gate_id"], ["gates.id"]),
        sa.ForeignKeyConstraint(["layout_id"], ["layouts.id"]),
        sa.PrimaryKeyConstraint("layout_id", "gate_id"),
    )
    _publish_layouts(bind)


def _publish_layouts(bind: sa.Connection) -> None:
    """Each venue's layout into the change feed, as ``sync_server.services.layouts`` builds it
    (the wire's ``LayoutRow``: code, name, zones, access, events)."""
    rows = []
    for venue_id, venue_code in bind.execute(sa.text("SELECT id, code FROM venues ORDER BY id")):
        layout_id = bind.execute(
            sa.text("SELECT id FROM layouts WHERE venue_id = :v"), {"v": venue_id}
        ).scalar_one()
        zones = [
            {"code": c, "name": n, "parent": p, "capacity": cap}
            for c, n, p, cap in bind.execute(
                sa.text(
                    "SELECT code, name, parent, capacity FROM zones WHERE layout_id = :l"
                    " ORDER BY code"
                ),
                {"l": layout_id},
            )
        ]
        access: dict[str, Any] = {}
        for name, gate_zones in bind.execute(
            sa.text("SELECT name, zones FROM gates WHERE venue_id = :v ORDER BY name"),
            {"v": venue_id},
        ):
            found = json.loads(gate_zones) if isinstance(gate_zones, str) else gate_zones
            if found:
                access[name] = found
        events = [
            code
            for (code,) in bind.execute(
                sa.text("SELECT code FROM events WHERE layout_id = :l ORDER BY code"),
                {"l": layout_id},
            )
        ]
        data = {"code": MAIN, "name": MAIN_NAME, "zones": zones, "access": access,
                "events": events}  # fmt: skip
        rows.append((venue_code, data))
    if not rows:
        return
    last = bind.execute(sa.text("SELECT value FROM feed_counter WHERE id = 1")).scalar()
    if last is None:
        return  # a database the server never started: the first start writes the counter
    bind.execute(
        sa.text("UPDATE feed_counter SET value = :v WHERE id = 1"), {"v": int(last) + len(rows)}
    )
    changes = sa.table(
        "changes",
        sa.column("kind", sa.String),
        sa.column("scope", sa.String),
        sa.column("key", sa.String),
        sa.column("seq", sa.BigInteger),
        sa.column("op", sa.String),
        sa.column("data", sa.JSON),
    )
    op.bulk_insert(
        changes,
        [
            {
                "kind": "layout",
                "scope": scope,
                "key": MAIN,
                "seq": int(last) + i + 1,
                "op": "upsert",
                "data": data,
            }
            for i, (scope, data) in enumerate(rows)
        ],
    )


def downgrade() -> None:
    op.execute("DELETE FROM changes WHERE kind = 'layout'")
    op.drop_table("access_points")
    op.execute("ALTER TABLE events DROP COLUMN layout_id")
    op.create_table(
        "zones_by_venue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent", sa.String(length=64), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["venue_id"], ["venues.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("venue_id", "code"),
    )
    # The default layouts' zones: what a release without layouts knew.
    op.execute(
        "INSERT INTO zones_by_venue (venue_id, code, name, parent, capacity)"
        " SELECT l.venue_id, z.code, z.name, z.parent, z.capacity FROM zones z"
        " JOIN layouts l ON l.id = z.layout_id WHERE l.is_default ORDER BY z.id"
    )
    op.drop_index("ix_zones_layout_id", table_name="zones")
    op.drop_table("zones")
    op.rename_table("zones_by_venue", "zones")
    op.drop_index("ix_layouts_venue_id", table_name="layouts")
    op.drop_table("layouts")
