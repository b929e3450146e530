"""Database migrations (Alembic), run by ``gate-server migrate`` and at ``serve`` start."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("sync_server") / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the database to the latest schema (safe to run from several processes at once)."""
    command.upgrade(alembic_config(url), "head")
