"""``make demo``'s pieces, as the demo and the soak benchmark use them: a seeded server database,
a real ``gate-server`` on it, gate NORD-1 enrolled and synced, the admin's token working."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from shared.demo_site import read_sample_codes
from sync_server.demo import (
    DEMO_ADMIN,
    DEMO_GATES,
    DEMO_PASSWORD,
    enroll_gate,
    keep_alive,
    prepare_demo,
    start_server,
)
from tests.support.postgres import free_port


def test_the_demo_server_serves_and_enrolls_its_kiosk_gate(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    (folder / "left-over").mkdir(parents=True)  # a previous demo: replaced, not merged
    demo = prepare_demo(folder, rights_count=200)
    assert not (folder / "left-over").exists()
    assert len(read_sample_codes((folder / "gate" / "codes.txt").read_text())) == 8
    assert set(demo.seeded.enrollment) == set(DEMO_GATES)
    assert (folder / "admin.token").read_text().strip() == demo.admin_token

    port = free_port()
    with (tmp_path / "server.log").open("wb") as log:
        server = start_server(demo, port=port, log=log)
        try:
            url = f"http://127.0.0.1:{port}"
            gates = httpx.get(
                f"{url}/api/v1/gates",
                headers={"Authorization": f"Bearer {demo.admin_token}"},
                timeout=10,
            )
            assert gates.status_code == 200, gates.text
            assert {g["name"] for g in gates.json()} >= set(DEMO_GATES)
            # The admin signs in to the back office's pages with the demo's password.
            with httpx.Client(base_url=url, timeout=30) as browser:
                form = {"name": DEMO_ADMIN, "password": DEMO_PASSWORD}
                signed = browser.post("/dashboard/login", data=form)
                assert signed.status_code == 303
                office = browser.get("/dashboard/office/gates")
                assert office.status_code == 200 and "NORD-1" in office.text
                assert "Africa/Tunis" in browser.get("/dashboard/office/venues").text
            phone = httpx.get(f"{url}/t/{demo.seeded.holder_token}", timeout=10)
            assert phone.status_code == 200 and "Yassine B." in phone.text  # a rotating ticket
            config = enroll_gate(demo, server_url=url)
        finally:
            server.terminate()
            server.wait(10)
    assert "NORD-1" in config.read_text()
    with sqlite3.connect(config.parent / "gate.db") as replica:
        (rights,) = replica.execute("SELECT count(*) FROM rights").fetchone()
        (rotation_keys,) = replica.execute("SELECT count(*) FROM rotation_keys").fetchone()
    assert rights == 200 + 1  # and the phone's rotating ticket
    assert rotation_keys == 1


def test_the_headless_demo_keeps_its_gate_alive_with_a_trickle_of_supporters(
    tmp_path: Path,
) -> None:
    """Issue 16: the headless demo's gate synced once and stopped: a minute later its tile was
    red and "Gate offline" was raised. Now it keeps syncing, and supporters keep coming."""
    demo = prepare_demo(tmp_path / "demo", rights_count=300)
    port = free_port()
    with (tmp_path / "server.log").open("wb") as log:
        server = start_server(demo, port=port, log=log)
        try:
            url = f"http://127.0.0.1:{port}"
            config = enroll_gate(demo, server_url=url)
            assert keep_alive(config, server_url=url, admin_token=demo.admin_token,
                              every_s=0.5, scans=4) == 4  # fmt: skip
            headers = {"Authorization": f"Bearer {demo.admin_token}"}
            scans = httpx.get(f"{url}/api/v1/scans", params={"gate": "NORD-1"},
                              headers=headers, timeout=10).json()  # fmt: skip
            gates = httpx.get(f"{url}/api/v1/gates", headers=headers, timeout=10).json()
        finally:
            server.terminate()
            server.wait(10)
    assert len([s for s in scans if s["reason"] == "granted"]) == 4
    (nord,) = [g for g in gates if g["name"] == "NORD-1"]
    assert nord["online"] and nord["status"].get("version")  # its loop heartbeated
