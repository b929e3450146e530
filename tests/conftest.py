"""Fixtures shared by every test: paths to the team's data beside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TEAM_SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def team_shared() -> Path:
    """The team folder beside the repository (vectors, QR corpus). CI clones it there too."""
    if not (TEAM_SHARED / "vectors").is_dir():
        pytest.fail(f"team folder not found at {TEAM_SHARED}: the vectors are required")
    return TEAM_SHARED
