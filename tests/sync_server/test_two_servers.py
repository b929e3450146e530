"""Two server processes on one PostgreSQL database serve a site as one server would.

Gate A talks to server 1 only, gate B to server 2 only, each through the real gate sync client.
Nothing is shared between the processes but the database: each one's writes reach the other's
gates through the change feed, and each one's event stream announces changes made through the
other.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.model import BanScope
from shared.reasons import Reason
from tests.support.postgres import PostgresCluster, free_port
from tests.support.server import RunningServer, create_user, gate_server
from tests.support.site import Site, Terminal, ok

STREAM_READ_TIMEOUT_S = 10.0
"""Only so that a missing announcement fails the test instead of hanging it (pings: every 15 s)."""


@pytest.fixture(scope="module")
def servers(
    postgres: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, RunningServer]]:
    """Migrate once, create the admin once, then start two servers on the one database."""
    url = postgres.create_database("two_servers")
    gate_server("migrate", database_url=url)
    tokens = {"admin": create_user(url, "admin", "admin")}
    logs = tmp_path_factory.mktemp("two-servers")
    pair = [
        RunningServer(url, free_port(), logs / f"server-{n}.log", tokens=dict(tokens))
        for n in (1, 2)
    ]
    try:
        one, two = (server.start() for server in pair)
        assert one.process is not None and two.process is not None
        assert one.process.pid != two.process.pid
        yield one, two
    finally:
        for server in pair:
            server.stop()


@dataclass
class Pair:
    """One site seen through each server, gate A enrolled at server 1, gate B at server 2."""

    via_one: Site
    via_two: Site
    gate_a: Terminal
    gate_b: Terminal


@pytest.fixture
def pair(servers: tuple[RunningServer, RunningServer], tmp_path: Path) -> Iterator[Pair]:
    one, two = servers
    via_one = Site.create(one)
    via_two = dataclasses.replace(via_one, server=two, admin=two.client("admin"))
    gate_a = via_one.terminal("NORD-1", tmp_path)
    gate_b = via_two.terminal("NORD-2", tmp_path)
    yield Pair(via_one, via_two, gate_a, gate_b)
    for closing in (gate_a, gate_b):
        closing.close()
    for site in (via_one, via_two):
        site.admin.close()


def test_admin_writes_through_server_one_reach_a_gate_of_server_two(pair: Pair) -> None:
    right = pair.via_one.right(holder="cust-banned")
    ban = {"scope": "holder", "holder": "cust-banned", "reason": "pitch invasion"}
    banned = ok(pair.via_one.admin.post("/bans", json=ban), 201)

    assert pair.gate_b.sync.pull() >= 2

    replica = pair.gate_b.replica
    assert replica.right(bytes.fromhex(right["right_id"])) is not None
    assert replica.bans(BanScope.HOLDER, bytes.fromhex(banned["subject"]))
    code = pair.via_one.code(right)
    assert pair.gate_b.check(code).decision.reason is Reason.BLACKLISTED


def test_a_scan_uploaded_to_server_two_is_usage_at_a_gate_of_server_one(pair: Pair) -> None:
    right = pair.via_one.right()
    code = pair.via_one.code(right)
    pair.gate_b.sync.pull()
    assert pair.gate_b.check(code).decision.granted
    assert pair.gate_b.sync.push() == 1

    assert pair.gate_a.sync.pull() >= 1

    usage = pair.gate_a.replica.usage(bytes.fromhex(right["right_id"]))
    assert usage is not None
    assert usage.entries == 1
    assert pair.gate_a.check(code).decision.reason is Reason.ALREADY_USED


def sse_events(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event, data) pairs of a server-sent event stream; comments (pings) are skipped."""
    event, data = "message", []
    for line in response.iter_lines():
        if line.startswith(":"):
            continue
        if line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data.append(line.removeprefix("data:").strip())
        elif line == "" and data:
            yield event, json.loads("\n".join(data))
            event, data = "message", []


def test_server_one_announces_a_change_made_through_server_two(pair: Pair) -> None:
    url = f"{pair.via_one.server.url}/api/v1/gate/stream"
    headers = dict(pair.gate_a.sync._http.headers)
    timeout = httpx.Timeout(STREAM_READ_TIMEOUT_S)
    with httpx.stream("GET", url, headers=headers, timeout=timeout) as response:
        assert response.status_code == 200
        events = sse_events(response)
        kind, opening = next(events)
        assert kind == "changes"
        pair.via_two.right()
        written = pair.gate_b.sync.heartbeat().head
        assert written > opening["head"]
        announced = next((kind, data) for kind, data in events if data["head"] >= written)
    assert announced[0] == "changes"
