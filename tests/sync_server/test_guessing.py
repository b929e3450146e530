"""Guessing enrollment codes and tokens is limited per source address (issue 15), and the
limit is one address's: it never shuts out another."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sync_server.core.limits import FailureLimiter
from tests.support.server import RunningServer, start_server

LIMIT = 5


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[RunningServer]:
    """A server of its own, with a low guessing limit (the shared test servers lift it)."""
    url = f"sqlite:///{tmp_path}/server.db"
    running = start_server(url, tmp_path / "server.log", ENTRIX_GUESS_LIMIT_PER_MINUTE=str(LIMIT))
    yield running
    running.stop()


def test_guessing_enrollment_codes_and_tokens_is_slowed_per_address(
    strict: RunningServer,
) -> None:
    api = f"{strict.url}/api/v1"
    for i in range(LIMIT):
        wrong = httpx.post(f"{api}/gate/enroll", json={"code": f"AAAA-BBBB-CC{i:02d}"})
        assert wrong.status_code == 401
    refused = httpx.post(f"{api}/gate/enroll", json={"code": "AAAA-BBBB-CCCC"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # The same address guessing a device token, or a user token, is refused unchecked too.
    gate = httpx.get(f"{api}/gate/changes", headers={"Authorization": "Bearer egd_guess"})
    assert gate.status_code == 429
    user = httpx.get(f"{api}/alerts", headers={"Authorization": "Bearer egu_guess"})
    assert user.status_code == 429


def test_the_limit_is_per_address_and_forgets_after_its_window() -> None:
    now = [0.0]
    limiter = FailureLimiter(3, window_s=60, clock=lambda: now[0])
    for _ in range(3):
        assert limiter.wait_s("203.0.113.7") == 0
        limiter.failed("203.0.113.7")
    assert limiter.wait_s("203.0.113.7") == pytest.approx(60)
    assert limiter.wait_s("10.0.0.21") == 0  # the supervisor's address is not concerned
    now[0] = 61
    assert limiter.wait_s("203.0.113.7") == 0
