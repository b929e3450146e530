"""Alembic environment: the URL comes from the caller (gate-server migrate) or the settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from sync_server import models  # noqa: F401 - registers the tables on Base.metadata
from sync_server.core.config import get_settings
from sync_server.db import Base, make_engine

MIGRATION_LOCK = 727_001  # PostgreSQL advisory lock: one server process migrates at a time


def run_migrations() -> None:
    url = context.config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = make_engine(url)
    with engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if postgres:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
                connection.commit()
    engine.dispose()


run_migrations()
