"""Screenshots for the README and docs (``docs/screenshots``): taken when ENTRIX_SCREENSHOTS=1,
on SQLite only (one copy of each, whatever the database parameter)."""

from __future__ import annotations

import os

from tests.support.server import REPO

SCREENSHOTS = REPO / "docs" / "screenshots"


def shooting(database_url: str) -> bool:
    """Screenshots are asked for, and this is the run that takes them (the folder exists)."""
    if os.environ.get("ENTRIX_SCREENSHOTS") == "1" and database_url.startswith("sqlite"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return True
    return False
