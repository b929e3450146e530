"""Back-office imports off the event loop, in short transactions, with bounded answers
(issue 15). The landed release parsed and wrote a 200,000-row import inside the event loop and
one transaction (gates' uploads waited 17.6 s), and a refusal repeated the whole input back."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from sync_server.services import imports
from tests.support.server import RunningServer
from tests.support.site import Site, ok


@pytest.fixture
def site(server: RunningServer) -> Site:
    return Site.create(server)


def csv_rows(event: str, n: int, prefix: str) -> str:
    return "\n".join(["event,zones,secret"] + [f"{event},NORD,{prefix}-{i:07d}" for i in range(n)])


def test_a_background_import_reports_its_progress_while_gates_are_served(
    site: Site, tmp_path: Path
) -> None:
    gate = site.terminal("NORD-1", tmp_path)
    body = csv_rows(site.event, 30_000, f"BG{site.venue}")
    started = site.admin.post("/rights/import", params={"background": "true"}, content=body,
                              headers={"content-type": "text/csv"})  # fmt: skip
    assert started.status_code == 202, started.text
    job = started.json()["job"]
    assert started.headers["Location"] == f"/api/v1/jobs/{job}"
    states, beats = [], 0
    while True:
        seen = ok(site.admin.get(f"/jobs/{job}"))
        states.append(seen["state"])
        if seen["state"] not in imports.RUNNING:
            break
        gate.sync.heartbeat()  # the gates are answered while it runs
        beats += 1
        time.sleep(0.05)
    assert seen["state"] == "done" and seen["imported"] == 30_000 and seen["rows"] == 30_000
    assert {"writing"} & set(states) and beats > 0
    gate.sync.pull()
    assert gate.replica.counts().rights >= 30_000  # published chunk by chunk, all of it
    audit = ok(site.admin.get("/audit", params={"action": "rights.import"}))
    assert any(e["detail"].get("job") == job for e in audit)


def test_a_refused_import_answers_briefly_whatever_its_size(site: Site) -> None:
    junk = "x" * 400
    body = "\n".join(["event,zones,seat,policy"] + [f"{site.event},NORD,S,{junk}{i}"
                                                    for i in range(20_000)])  # fmt: skip
    assert len(body) > 8_000_000
    answer = site.admin.post("/rights/import", content=body, headers={"content-type": "text/csv"})
    assert answer.status_code == 422
    assert len(answer.content) < 100_000  # the landed release echoed the 8 MB back
    report = answer.json()
    assert report["imported"] == 0 and report["error_count"] == 20_000
    assert len(report["errors"]) == imports.ERRORS_KEPT
    assert all(len(e["message"]) <= 121 for e in report["errors"])
    assert ok(site.admin.get("/rights", params={"event": site.event})) == []


def test_an_import_past_the_size_limit_is_refused_without_being_kept(site: Site) -> None:
    from sync_server.api.routes.rights import MAX_IMPORT_BYTES

    chunk = b"x" * (1024 * 1024)
    sent = [0]

    def body() -> object:
        while sent[0] <= MAX_IMPORT_BYTES + len(chunk):
            sent[0] += len(chunk)
            yield chunk

    answer = site.admin.post("/rights/import", content=body(),
                             headers={"content-type": "text/csv"})  # fmt: skip
    assert answer.status_code == 413 and "larger than" in answer.text


def test_a_job_the_server_stopped_is_marked_failed_at_the_next_start(
    server: RunningServer, site: Site
) -> None:
    body = csv_rows(site.event, 50_000, f"STOP{site.venue}")
    done = threading.Event()

    def send() -> None:
        site.server.client().post("/api/v1/rights/import", params={"background": "true"},
                                  content=body, headers={"content-type": "text/csv"})  # fmt: skip
        done.set()

    threading.Thread(target=send, daemon=True).start()
    assert done.wait(30)
    server.stop(kill=True)  # in the middle of the import
    server.start()
    # Whatever it had reached, the job does not say "running" for ever.
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from sync_server.db import make_engine
    from sync_server.models import ImportJob

    engine = make_engine(server.database_url)
    try:
        with Session(engine) as session:
            states = set(session.scalars(select(ImportJob.state)))
    finally:
        engine.dispose()
    assert not states & set(imports.RUNNING)
