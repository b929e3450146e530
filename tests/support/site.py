"""A derby site built through the real API, with unique codes so tests can share one server."""

from __future__ import annotations

import itertools
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from scanner_app.checkpoint import Checkpoint, CheckResult
from scanner_app.replica import REPLICATED_TABLES, Replica
from scanner_app.sync import SyncClient, enroll
from tests.support.server import RunningServer

_sites = itertools.count(1)


def ok(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, f"{answer.status_code}: {answer.text}"
    return answer.json()


@dataclass
class Site:
    """A venue with home/away stands and a VIP box, one event, gates, and a signing key."""

    server: RunningServer
    admin: httpx.Client
    venue: str
    event: str
    season: str
    gates: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, server: RunningServer, *, capacity: int | None = None) -> Site:
        n = next(_sites)
        admin = server.client("admin")
        venue, event, season = f"V{n}", f"DERBY{n}", f"S{n}"
        zones = [
            {"code": "STADE", "name": "Stade"},
            {"code": "NORD", "name": "Virage Nord", "parent": "STADE", "capacity": capacity},
            {"code": "SUD", "name": "Virage Sud", "parent": "STADE"},
            {"code": "VIP", "name": "Loges", "parent": "STADE"},
        ]
        ok(admin.post("/venues", json={"code": venue, "name": f"Venue {n}", "zones": zones}), 201)
        ok(admin.post("/seasons", json={"code": season, "name": f"Season {n}"}), 201)
        now = datetime.now(UTC)
        ok(
            admin.post(
                "/events",
                json={
                    "code": event,
                    "name": "Derby",
                    "venue": venue,
                    "season": season,
                    "starts_at": (now + timedelta(hours=1)).isoformat(),
                    "ends_at": (now + timedelta(hours=3)).isoformat(),
                },
            ),
            201,
        )
        if not ok(admin.get("/keys")):
            ok(admin.post("/keys/rotate"), 201)
        site = cls(server, admin, venue, event, season)
        for name, zone, direction in [
            ("NORD-1", "NORD", "in"),
            ("NORD-2", "NORD", "in"),
            ("SUD-1", "SUD", "in"),
            ("VIP-1", "VIP", "in"),
            ("EXIT", "STADE", "out"),
        ]:
            body = {
                "venue": venue,
                "name": name,
                "zones": [zone],
                "event_codes": [event],
                "direction": direction,
            }
            ok(admin.post("/gates", json=body), 201)
            site.gates.append(name)
        return site

    def right(self, **fields: Any) -> dict[str, Any]:
        body = {"event": self.event, "zones": ["NORD"], **fields}
        right: dict[str, Any] = ok(self.admin.post("/rights", json=body), 201)
        return right

    def code(self, right: dict[str, Any]) -> str:
        code: str = ok(self.admin.get(f"/rights/{right['right_id']}/code"))["code"]
        return code

    def terminal(self, gate: str, folder: Path, **client: Any) -> Terminal:
        """An enrolled gate, its first pull done; ``client``: the SyncClient's options."""
        enrollment_code = ok(self.admin.post(f"/venues/{self.venue}/gates/{gate}/enrollment"), 201)[
            "code"
        ]
        enrolled = enroll(self.server.url, enrollment_code)
        assert (enrolled.venue, enrolled.gate) == (self.venue, gate)
        replica = Replica(folder / f"{self.venue}-{gate}-{next(_sites)}.db")
        sync = SyncClient(self.server.url, enrolled.token, replica, **client)
        terminal = Terminal(gate, replica, sync)
        terminal.sync.pull()
        replica.set_gate_name(gate)
        return terminal


@dataclass
class Terminal:
    """A gate terminal: its replica, its checkpoint and its sync client."""

    gate: str
    replica: Replica
    sync: SyncClient

    def check(self, code: str) -> CheckResult:
        return Checkpoint(self.replica, self.gate).check(code)

    def close(self) -> None:
        self.sync.close()
        self.replica.close()


def replica_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the feed writes in the replica at ``path``, in key order."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return {
            table: db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in REPLICATED_TABLES
        }
