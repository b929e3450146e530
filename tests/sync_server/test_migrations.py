"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from sync_server.db import Base, make_engine
from sync_server.migrate import alembic_config, upgrade


def test_migrations_match_models(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)  # a second run is a no-op
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        counter = connection.exec_driver_sql("SELECT id, value FROM feed_counter").all()
    engine.dispose()
    assert counter == [(1, 0)]


def test_upgrading_gives_existing_venues_the_default_time_zone(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 0009: venues made before it take ENTRIX_DEFAULT_TIMEZONE (the deploy guide says
    to set it before upgrading); downgrading and upgrading again keeps the data."""
    config = alembic_config(database_url)
    upgrade(database_url)
    command.downgrade(config, "0008")  # as a server of the previous release left it
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM venues WHERE code = 'OLD'"))
        connection.execute(text("INSERT INTO venues (code, name) VALUES ('OLD', 'Old ground')"))
    monkeypatch.setenv("ENTRIX_DEFAULT_TIMEZONE", "Africa/Tunis")
    command.upgrade(config, "head")
    with engine.connect() as connection:
        zone = connection.execute(text("SELECT timezone FROM venues WHERE code = 'OLD'")).scalar()
        columns = {c["name"] for c in inspect(connection).get_columns("alerts")}
    assert zone == "Africa/Tunis" and "facts" in columns
    command.downgrade(config, "0008")
    command.upgrade(config, "head")
    with engine.connect() as connection:
        names = connection.execute(text("SELECT code, timezone FROM venues")).all()
    engine.dispose()
    assert ("OLD", "Africa/Tunis") in [tuple(n) for n in names]
