"""``gate-admin`` against a real server (SQLite and PostgreSQL): the back office's story end to end,
refusals with the server's words, and the errors a user meets before reaching it."""

from __future__ import annotations

import csv
import json
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx
import pytest
import zxingcpp
from PIL import Image

from shared.credential import KeyRing, verify
from sync_server.admin_cli import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, main
from tests.support.postgres import free_port
from tests.support.server import RunningServer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ENROLLMENT_CODE = re.compile(r"enrollment code for \S+: ([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}) ")
ZONES = [
    {"code": "STADE", "name": "Stade", "capacity": 1000},
    {"code": "NORD", "name": "Virage Nord", "parent": "STADE", "capacity": 400},
    {"code": "NORD-A", "name": "Nord A", "parent": "NORD", "capacity": 200},
    {"code": "SUD", "name": "Virage Sud", "parent": "STADE"},
    {"code": "VIP", "name": "Loges", "parent": "STADE", "capacity": 20},
]


@dataclass
class Ran:
    status: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.status == EXIT_OK, self.err
        return json.loads(self.out)


class Admin(Protocol):
    def __call__(self, *args: str, role: str = "admin") -> Ran: ...


@pytest.fixture
def admin(server: RunningServer, capsys: pytest.CaptureFixture[str]) -> Admin:
    """Run gate-admin in this process as the admin; what it returned and printed."""

    def run(*args: str, role: str = "admin") -> Ran:
        status = main(["--server", server.url, "--token", server.tokens[role], *args])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return Ran(status, out, err)

    return run


def unique(prefix: str) -> str:
    """A code no other test of the module uses (they share one server)."""
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


@dataclass
class Site:
    venue: str
    event: str
    season: str


def new_site(admin: Admin, tmp_path: Path) -> Site:
    """A venue with the zone tree, a season and a current event in it, made with gate-admin."""
    site = Site(unique("V"), unique("E"), unique("S"))
    zones = tmp_path / f"{site.venue}.json"
    zones.write_text(json.dumps(ZONES), encoding="utf-8")
    ran = admin("venue", "create", site.venue, "--name", "Stade", "--zones-file", str(zones))
    assert ran.status == EXIT_OK, ran.err
    assert admin("season", "create", site.season, "--name", "Saison").status == EXIT_OK
    ran = admin(
        "event", "create", site.event, "--name", "Derby", "--venue", site.venue,
        "--season", site.season, "--starts", _iso(-3600), "--ends", _iso(3 * 3600),
    )  # fmt: skip
    assert ran.status == EXIT_OK, ran.err
    return site


def _iso(offset_s: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + offset_s))


def enroll(server: RunningServer, gate_output: str) -> httpx.Client:
    """Enroll a terminal with the code gate-admin printed; a client of the gate API."""
    found = ENROLLMENT_CODE.search(gate_output)
    assert found, gate_output
    answer = httpx.post(f"{server.url}/api/v1/gate/enroll", json={"code": found.group(1)})
    assert answer.status_code == 201, answer.text
    token = answer.json()["token"]
    return httpx.Client(
        base_url=f"{server.url}/api/v1/gate", headers={"Authorization": f"Bearer {token}"}
    )


def scan(gate: str, reason: str, right_id: str, event: str, zone: str) -> dict[str, Any]:
    return {
        "scan_id": str(uuid.uuid4()),
        "gate": gate,
        "direction": "in",
        "reason": reason,
        "scanned_at_ms": int(time.time() * 1000),
        "right_id": right_id,
        "event": event,
        "zone": zone,
    }


def import_rights(admin: Admin, tmp_path: Path, event: str) -> list[str]:
    rights = tmp_path / "rights.csv"
    rights.write_text(
        "event,zones,holder,policy,kind,seat\n"
        f"{event},NORD-A,C-1001,single,ticket,A-12\n"
        f"{event},NORD|SUD,C-1002,reentry,staff,\n"
        f"{event},VIP,C-1003,unlimited,guest,L-3\n",
        encoding="utf-8",
    )
    ran = admin("rights", "import", str(rights))
    assert ran.status == EXIT_OK, ran.err
    assert ran.out.startswith("imported 3 right(s)")
    ids = ran.out.split()[3:]
    assert len(ids) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    return ids


def test_back_office_story(
    admin: Admin, server: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Venue with zones, season, event, key, gate (its code enrolls a terminal), rights, a code."""
    site = new_site(admin, tmp_path)
    shown = admin("venue", "show", site.venue)
    assert shown.out.splitlines()[0] == (
        f"venue {site.venue}: Stade, 5 zone(s) in its default layout MAIN (Main layout), "
        "local time UTC"
    )
    # The tree reads top-down: sectors indented under their stand.
    assert re.search(r"^ {2}NORD\s+Virage Nord\s+400\s+0$", shown.out, re.M)
    assert re.search(r"^ {4}NORD-A\s+Nord A\s+200\s+0$", shown.out, re.M)
    assert site.event in admin("event", "list").out

    kid = admin("--json", "keys", "rotate").json()["kid"]
    gate = admin("gate", "create", site.venue, "NORD-1", "--zones", "NORD,NORD-A")
    assert gate.status == EXIT_OK, gate.err
    assert f"gate {site.venue}/NORD-1: in, enabled, zones NORD,NORD-A" in gate.out
    terminal = enroll(server, gate.out)
    assert terminal.post("/heartbeat", json={}).status_code == 200
    assert admin("event", "open-gates", site.event).status == EXIT_OK
    listed = admin("--json", "gate", "list", "--venue", site.venue).json()
    assert [(g["name"], g["event_codes"]) for g in listed] == [("NORD-1", [site.event])]

    ids = import_rights(admin, tmp_path, site.event)
    rights = admin("--json", "rights", "list", "--event", site.event).json()
    assert sorted((r["zones"], r["policy"], r["kind"]) for r in rights) == [
        (["NORD", "SUD"], 1, 2),
        (["NORD-A"], 0, 0),
        (["VIP"], 2, 3),
    ]

    png, svg = tmp_path / "ticket.png", tmp_path / "ticket.svg"
    issued = admin("issue", ids[0], "--png", str(png), "--svg", str(svg))
    assert issued.status == EXIT_OK, issued.err
    code = issued.out.splitlines()[0]
    assert code.startswith("EG1:")
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    assert b"<svg" in svg.read_bytes()
    assert f"wrote {png}" in issued.out
    public_key = next(k for k in admin("--json", "keys", "list").json() if k["kid"] == kid)
    credential = verify(code, KeyRing([bytes.fromhex(public_key["public_key"])]))
    assert credential.right.right_id.hex() == ids[0]
    assert credential.right.event == site.event


def test_qr_images_carry_the_printed_code(admin: Admin, tmp_path: Path) -> None:
    site = new_site(admin, tmp_path)
    admin("keys", "rotate")
    right = admin("--json", "rights", "create", "--event", site.event, "--zones", "VIP").json()
    png, svg = tmp_path / "vip.png", tmp_path / "vip.svg"
    issued = admin("issue", right["right_id"], "--png", str(png), "--svg", str(svg))
    assert issued.status == EXIT_OK
    printed = issued.out.splitlines()[0]
    assert printed.startswith("EG1:")
    (found,) = zxingcpp.read_barcodes(Image.open(png))
    assert found.text == printed, "the image holds the very code that was printed"
    assert svg.read_text().lstrip().startswith("<svg")


def test_bad_rows_are_all_shown_and_nothing_is_imported(admin: Admin, tmp_path: Path) -> None:
    site = new_site(admin, tmp_path)
    rights = tmp_path / "bad.csv"
    rights.write_text(
        "event,zones,holder,policy\n"
        f"{site.event},NORD,C-1,single\n"
        f"NO-SUCH-EVENT,NORD,C-2,single\n"
        f"{site.event},MARS,C-3,single\n"
        f"{site.event},NORD,C-4,often\n",
        encoding="utf-8",
    )
    ran = admin("rights", "import", str(rights))
    assert ran.status == EXIT_REFUSED
    assert "nothing imported, 3 bad row(s)" in ran.err
    # Numbered as the spreadsheet shows them: the header is row 1.
    assert "row 3: no event 'NO-SUCH-EVENT'" in ran.err
    assert "row 4: unknown zone(s)" in ran.err and "MARS" in ran.err
    assert "row 5: policy:" in ran.err and "single, reentry, unlimited" in ran.err
    assert "row 2" not in ran.err
    assert admin("--json", "rights", "list", "--event", site.event).json() == []
    # With --json the server's report is printed as is, for scripts.
    report = json.loads(admin("rights", "import", str(rights), "--json").out)
    assert [e["row"] for e in report["errors"]] == [3, 4, 5] and report["imported"] == 0


def test_json_rights_import(admin: Admin, tmp_path: Path) -> None:
    site = new_site(admin, tmp_path)
    rights = tmp_path / "rights.json"
    rights.write_text(
        json.dumps([{"event": site.event, "zones": ["SUD"], "secret": unique("OLD-SYSTEM")}]),
        encoding="utf-8",
    )
    report = admin("--json", "rights", "import", str(rights)).json()
    assert report["imported"] == 1
    shown = admin("rights", "show", report["right_ids"][0])
    assert "plain code" in shown.out and "zones SUD" in shown.out


def test_blacklist_add_list_remove(admin: Admin, tmp_path: Path) -> None:
    site = new_site(admin, tmp_path)
    right = admin("--json", "rights", "create", "--event", site.event, "--zones", "SUD").json()
    added = admin("blacklist", "add", "--right", right["right_id"], "--reason", "fraud")
    assert added.status == EXIT_OK, added.err
    ban_id = re.match(r"ban (ban-[0-9a-f]+) on right ", added.out)
    assert ban_id, added.out
    holder = admin(
        "--json", "blacklist", "add", "--holder", unique("C"), "--reason", "pitch invasion",
        "--severity", "3", "--until", _iso(86_400),
    ).json()  # fmt: skip
    assert (holder["scope"], holder["severity"], holder["active"]) == ("holder", 3, True)
    listed = {b["id"]: b for b in admin("--json", "blacklist", "list").json()}
    assert listed[ban_id.group(1)]["subject"] == right["right_id"]
    assert holder["id"] in listed
    assert ban_id.group(1) in admin("blacklist", "list").out

    removed = admin("blacklist", "remove", ban_id.group(1))
    assert removed.status == EXIT_OK and "removed" in removed.out
    assert ban_id.group(1) not in {b["id"] for b in admin("--json", "blacklist", "list").json()}
    again = admin("blacklist", "remove", ban_id.group(1))
    assert again.status == EXIT_REFUSED and "already removed" in again.err
    # A ban names a right or a holder, not both, not neither: argparse says so.
    assert admin("blacklist", "add", "--reason", "x").status == EXIT_USAGE
    both = admin("blacklist", "add", "--right", right["right_id"], "--holder", "H", "--reason", "x")
    assert both.status == EXIT_USAGE


def test_keys_rotate_list_retire(admin: Admin) -> None:
    older = admin("--json", "keys", "rotate").json()["kid"]
    rotated = admin("keys", "rotate")
    newer = re.match(r"key ([0-9a-f]{16}) now signs new codes", rotated.out)
    assert newer, rotated.out
    statuses = {k["kid"]: k["status"] for k in admin("--json", "keys", "list").json()}
    assert statuses[older] == "verify" and statuses[newer.group(1)] == "active"

    refused = admin("keys", "retire", newer.group(1))
    assert refused.status == EXIT_REFUSED
    assert "rotate first" in refused.err and "cannot be retired" in refused.err
    retired = admin("keys", "retire", older)
    assert retired.status == EXIT_OK and "retired" in retired.out
    listing = admin("keys", "list").out
    assert re.search(rf"^{older}\s+platform\s+retired\s", listing, re.M)
    assert re.search(rf"^{newer.group(1)}\s+platform\s+active\s", listing, re.M)
    assert admin("keys", "retire", "0000000000000000").status == EXIT_REFUSED


def test_scans_alerts_occupancy_and_export(
    admin: Admin, server: RunningServer, tmp_path: Path
) -> None:
    """A terminal enrolled with the printed code uploads scans: the back office reads them."""
    site = new_site(admin, tmp_path)
    gate_name = unique("G")
    gate = admin("gate", "create", site.venue, gate_name, "--zones", "NORD", "--events", site.event)
    terminal = enroll(server, gate.out)
    ids = import_rights(admin, tmp_path, site.event)
    uploaded = terminal.post(
        "/scans",
        json={
            "scans": [
                scan(gate_name, "granted", ids[0], site.event, "NORD-A"),
                scan(gate_name, "granted", ids[1], site.event, "NORD"),
                scan(gate_name, "blacklisted", ids[2], site.event, "NORD"),
            ]
        },
    )
    assert uploaded.json()["stored"] == 3

    table = admin("scans", "--event", site.event).out.splitlines()
    assert table[0].split() == [
        "scanned",
        "gate",
        "dir",
        "reason",
        "event",
        "zone",
        "right",
        "code",
    ]
    assert len(table) == 4 and all(gate_name in line for line in table[1:])
    granted = admin("--json", "scans", "--event", site.event, "--reason", "granted").json()
    assert sorted(s["right_id"] for s in granted) == sorted(ids[:2])
    assert "NORD-A" in admin("venue", "show", site.venue).out.split("\n", 2)[2]
    inside = {
        z["code"]: z["occupancy"]
        for z in admin("--json", "venue", "show", site.venue).json()["zones"]
    }
    assert (inside["NORD-A"], inside["NORD"], inside["STADE"]) == (1, 2, 2)

    alerts = [a for a in admin("--json", "alerts", "--open").json() if a["gate"] == gate_name]
    assert [a["kind"] for a in alerts] == ["banned_tried"]
    listed = admin("--lang", "fr", "alerts").out  # the dashboard's words, from the alert's facts
    assert f"Une personne interdite de stade s'est présentée à la porte {gate_name}" in listed
    assert "critique" in listed and "Personne interdite à une porte" in listed
    english = admin("alerts", "--lang", "en").out
    assert "critical" in english and f"A person banned from the stadium tried gate {gate_name}" in (
        english
    )

    out = tmp_path / "entries.csv"
    exported = admin(
        "export", "entries", "--event", site.event, "--bucket", "3600", "--out", str(out)
    )
    assert exported.status == EXIT_OK and "row(s) of entries" in exported.out
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("bucket_start_utc,bucket_end_utc,bucket_start_local,")
    rows = list(csv.DictReader(lines))
    entered = {r["zone"]: int(r["entries"]) for r in rows if int(r["entries"])}
    # NORD-A under NORD under STADE; NORD's own entry (a right for the whole stand) on its line
    assert entered == {"STADE": 2, "NORD": 2, "NORD#": 1, "NORD-A": 1}
    printed = admin("export", "entries", "--event", site.event)
    assert printed.out.splitlines()[0] == lines[0]
    rows = admin("export", "entries", "--event", site.event, "--json").json()
    assert sum(int(r["entries"]) for r in rows if r["leaf"] == "1") == 2


def test_gate_set_and_revoke_devices(admin: Admin, server: RunningServer, tmp_path: Path) -> None:
    site = new_site(admin, tmp_path)
    gate = admin("gate", "create", site.venue, "SUD-1", "--zones", "SUD", "--direction", "out")
    assert (
        "gate " + site.venue + "/SUD-1: out, enabled, zones SUD, events -, grace 300 s" in gate.out
    )
    changed = admin("--json", "gate", "set", site.venue, "SUD-1", "--disable", "--grace", "60")
    assert (changed.json()["enabled"], changed.json()["grace_s"]) == (False, 60)
    assert "DISABLED" in admin("gate", "set", site.venue, "SUD-1", "--events", site.event).out
    nothing = admin("gate", "set", site.venue, "SUD-1")
    assert nothing.status == EXIT_USAGE and "nothing to change" in nothing.err
    unknown = admin("gate", "set", site.venue, "SUD-1", "--zones", "MARS")
    assert unknown.status == EXIT_REFUSED and "unknown zone(s)" in unknown.err

    terminal = enroll(server, gate.out)
    revoked = admin("gate", "revoke-devices", site.venue, "SUD-1")
    assert revoked.out.startswith(f"1 terminal(s) of {site.venue}/SUD-1 revoked")
    assert terminal.post("/heartbeat", json={}).status_code == 401
    again = enroll(server, admin("gate", "enroll-code", site.venue, "SUD-1").out)
    assert again.post("/heartbeat", json={}).status_code == 200


def test_rights_revoke_transfer_and_subscribe(admin: Admin, tmp_path: Path) -> None:
    site = new_site(admin, tmp_path)
    admin("keys", "rotate")
    first, second, _ = import_rights(admin, tmp_path, site.event)
    revoked = admin("rights", "revoke", first, "--reason", "lost")
    assert revoked.out.startswith(f"right {first}: revoked (lost)")
    again = admin("rights", "revoke", first, "--reason", "lost")
    assert again.status == EXIT_REFUSED and "already revoked" in again.err
    refused = admin("issue", first)
    assert refused.status == EXIT_REFUSED and "revoked" in refused.err

    moved = admin("--json", "rights", "transfer", second, "--holder", "C-2000").json()
    assert moved["old"]["status"] == "revoked" and moved["old"]["replaced_by"]
    assert moved["code"].startswith("EG1:")
    assert admin("rights", "show", second).out.count(moved["new"]["right_id"]) == 1

    subscribed = admin("subscribe", "--season", site.season, "--holder", "C-3", "--zones", "VIP")
    assert subscribed.status == EXIT_OK, subscribed.err
    assert "1 right(s), one per event" in subscribed.out


def test_server_refusals_show_its_message(admin: Admin, tmp_path: Path) -> None:
    site = new_site(admin, tmp_path)
    naive = admin(
        "event", "create", unique("E"), "--name", "x", "--venue", site.venue,
        "--starts", "2026-11-22T20:00:00", "--ends", "2026-11-22T22:00:00",
    )  # fmt: skip
    assert naive.status == EXIT_REFUSED
    assert "starts_at: Value error, give a time zone" in naive.err
    duplicate = admin("venue", "create", site.venue, "--name", "again")
    assert duplicate.status == EXIT_REFUSED and f"venue '{site.venue}' exists" in duplicate.err
    missing = admin("venue", "show", unique("NOWHERE"))
    assert missing.status == EXIT_REFUSED and "no venue" in missing.err
    zones = tmp_path / "zones.csv"
    zones.write_text("code,name,parent,capacity\nSUD-A,Sud A,SUD,\nSUD-B,Sud B,SUD,many\n")
    bad = admin("zones", "put", site.venue, str(zones))
    assert bad.status == EXIT_REFUSED and "capacity" in bad.err
    zones.write_text("code,name,parent,capacity\nSUD-A,Sud A,SUD,\nSUD-B,Sud B,SUD,50\n")
    put = admin("zones", "put", site.venue, str(zones))
    assert put.status == EXIT_OK and re.search(r"^ {4}SUD-B\s+Sud B\s+50\s+0$", put.out, re.M)


def test_json_output_parses_before_or_after_the_command(admin: Admin, tmp_path: Path) -> None:
    site = new_site(admin, tmp_path)
    for args in (
        ("--json", "venue", "show", site.venue),
        ("venue", "show", site.venue, "--json"),
        ("event", "list", "--json"),
        ("gate", "list", "--json"),
        ("keys", "list", "--json"),
        ("blacklist", "list", "--json"),
        ("audit", "--limit", "5", "--json"),
        ("scans", "--json"),
        ("alerts", "--json"),
    ):
        ran = admin(*args)
        assert isinstance(ran.json(), dict | list), args
    venue = admin("venue", "show", site.venue, "--json").json()
    assert venue["code"] == site.venue and len(venue["zones"]) == len(ZONES)
    audit = admin("--json", "audit", "--action", "venue.create", "--limit", "50").json()
    assert site.venue in {e["target"] for e in audit}


def test_global_options_from_the_environment(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENTRIX_SERVER", server.url)
    monkeypatch.setenv("ENTRIX_TOKEN", server.tokens["supervisor"])
    assert main(["--json", "event", "list"]) == EXIT_OK
    assert isinstance(json.loads(capsys.readouterr().out), list)
    # An option given after the command wins over the environment.
    assert main(["keys", "list", "--token", server.tokens["admin"]]) == EXIT_OK


def test_wrong_missing_or_weak_token(
    admin: Admin,
    server: RunningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wrong = main(["--server", server.url, "--token", "egu_not-a-real-token", "event", "list"])
    err = capsys.readouterr().err
    assert wrong == EXIT_REFUSED
    assert "refused the token" in err and "ENTRIX_TOKEN" in err
    weak = admin("keys", "rotate", role="supervisor")
    assert weak.status == EXIT_REFUSED and "admin role" in weak.err
    assert admin("gate", "list", role="supervisor").status == EXIT_OK

    monkeypatch.delenv("ENTRIX_TOKEN", raising=False)
    missing = main(["--server", server.url, "event", "list"])
    err = capsys.readouterr().err
    assert missing == EXIT_USAGE and "no API token" in err and "ENTRIX_TOKEN" in err


def test_unreachable_server_says_where_and_how(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    status = main(["--server", url, "--token", "egu_x", "event", "list"])
    err = capsys.readouterr().err
    assert status == EXIT_USAGE
    assert f"cannot reach the sync server at {url}" in err
    assert "--server" in err and "ENTRIX_SERVER" in err and "gate-server serve" in err
    assert "Traceback" not in err


def test_usage_errors_need_no_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    offline = ["--server", "http://127.0.0.1:9", "--token", "egu_x"]
    assert main([]) == EXIT_USAGE
    assert main(["gate"]) == EXIT_USAGE
    assert main(["--help"]) == EXIT_OK
    (tmp_path / "rights.txt").write_text("event,zones\n")
    assert main([*offline, "rights", "import", str(tmp_path / "rights.txt")]) == EXIT_USAGE
    assert "give rights as a .csv or a .json file" in capsys.readouterr().err
    missing = tmp_path / "nope.json"
    assert (
        main([*offline, "venue", "create", "V", "--name", "V", "--zones-file", str(missing)]) == 2
    )
    assert f"cannot read {missing}" in capsys.readouterr().err


def test_times_in_the_venues_own_zone(admin: Admin, tmp_path: Path) -> None:
    site = new_site(admin, tmp_path)
    refused = admin("venue", "update", site.venue, "--timezone", "Mars/Olympus")
    assert refused.status != EXIT_OK and "not an IANA time zone" in refused.err
    updated = admin("venue", "update", site.venue, "--timezone", "Africa/Tunis")
    assert updated.status == EXIT_OK and "local time Africa/Tunis" in updated.out
    event = admin("--json", "event", "list").json()
    starts = next(e["starts_at"] for e in event if e["code"] == site.event)
    local = datetime.fromisoformat(starts).astimezone(ZoneInfo("Africa/Tunis"))
    line = next(x for x in admin("event", "list").out.splitlines() if site.event in x)
    assert local.strftime("%Y-%m-%d %H:%M:%S +01:00") in line
    utc = next(x for x in admin("--utc", "event", "list").out.splitlines() if site.event in x)
    assert datetime.fromisoformat(starts).strftime("%Y-%m-%d %H:%M:%SZ") in utc
    audit = admin("--json", "audit", "--action", "venue.update").json()
    assert any(e["target"] == site.venue and e["detail"] == {"timezone": "Africa/Tunis"}
               for e in audit)  # fmt: skip


def test_the_cli_language_follows_the_environment() -> None:
    from sync_server.admin_cli import cli_language

    assert cli_language({}) == "fr"
    assert cli_language({"LANG": "en_GB.UTF-8"}) == "en"
    assert cli_language({"LANG": "de_DE.UTF-8"}) == "fr"
    assert cli_language({"ENTRIX_LANG": "ar", "LANG": "en_US.UTF-8"}) == "ar"


def test_a_ban_is_found_by_the_reference_the_office_typed(
    admin: Admin, server: RunningServer, tmp_path: Path
) -> None:
    """Issue 17: `blacklist add --holder C-1002` then `blacklist list` showed a pseudonym. The
    reference is kept as typed on the server, searched by, and never sent to the gates."""
    site = new_site(admin, tmp_path)
    reference = unique("C")
    created = admin("--json", "rights", "create", "--event", site.event, "--zones", "SUD",
                    "--holder", reference).json()  # fmt: skip
    added = admin("blacklist", "add", "--holder", f"  {reference} ", "--reason", "pitch invasion")
    assert added.status == EXIT_OK and f"on holder {reference}:" in added.out
    on_right = admin("--json", "blacklist", "add", "--right", created["right_id"],
                     "--reason", "resold ticket").json()  # fmt: skip
    table = admin("blacklist", "list").out
    assert any(reference in line and "pitch invasion" in line for line in table.splitlines())
    theirs = admin("--json", "blacklist", "list", "--holder", reference.lower()).json()
    assert {b["reason"] for b in theirs} == {"pitch invasion", "resold ticket"}  # both of theirs
    assert {b["holder"] for b in theirs} == {reference, None}
    found = admin("--json", "blacklist", "list", "--search", reference[2:6]).json()
    assert [b["reason"] for b in found] == ["pitch invasion"]
    assert admin("--json", "blacklist", "list", "--search", "100%_x").json() == []  # no wildcards
    # The gates' feed carries the pseudonym and the reason, never the reference.
    enrolled = enroll(server, admin("gate", "create", site.venue, "G-BAN", "--zones", "SUD").out)
    feed = enrolled.get("/changes", params={"since": 0}).text
    assert on_right["id"] in feed and "pitch invasion" in feed and reference not in feed


def test_an_event_already_over_is_created_with_a_warning(admin: Admin, tmp_path: Path) -> None:
    site = new_site(admin, tmp_path)
    code = unique("PAST")
    ran = admin(
        "event", "create", code, "--name", "Last season", "--venue", site.venue,
        "--starts", _iso(-3 * 86_400), "--ends", _iso(-3 * 86_400 + 7200),
    )  # fmt: skip
    assert ran.status == EXIT_OK and "warning: this event ended at" in ran.out
    listed = {e["code"]: e for e in admin("--json", "event", "list").json()}
    assert listed[code]["over"] is True and listed[site.event]["over"] is False
    current = admin("event", "create", unique("NEXT"), "--name", "Next", "--venue", site.venue,
                    "--starts", _iso(3600), "--ends", _iso(7200))  # fmt: skip
    assert current.status == EXIT_OK and "warning" not in current.out


def test_a_tickets_pdf_from_the_command_line(admin: Admin, tmp_path: Path) -> None:
    """The scriptable twin of the back office's ticket PDF: the same document, in --lang."""
    import io

    import pypdf

    site = new_site(admin, tmp_path)
    assert admin("keys", "rotate").status == EXIT_OK
    right = admin("--json", "rights", "create", "--event", site.event, "--zones", "NORD-A",
                  "--seat", "B-12").json()  # fmt: skip
    out = tmp_path / "ticket.pdf"
    ran = admin("--lang", "en", "rights", "ticket", right["right_id"], "--out", str(out))
    assert ran.status == EXIT_OK and "wrote" in ran.out
    text = pypdf.PdfReader(io.BytesIO(out.read_bytes())).pages[0].extract_text()
    assert "Derby" in text and "Nord A" in text and "B-12" in text and "Seat" in text
    french = admin("rights", "ticket", right["right_id"], "--out", str(out), "--lang", "fr")
    assert french.status == EXIT_OK
    assert "Place" in pypdf.PdfReader(io.BytesIO(out.read_bytes())).pages[0].extract_text()


def test_accounts_from_the_command_line(
    admin: Admin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    site = new_site(admin, tmp_path)
    name = unique("office").lower()
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    made = admin("user", "create", name, "--role", "venue_admin", "--venue", site.venue,
                 "--password-stdin")  # fmt: skip
    assert made.status == EXIT_OK and f"venues {site.venue}) created" in made.out
    assert made.out.strip().splitlines()[-1].startswith("egu_")
    listed = admin("user", "list").out
    assert any(name in line and "venue_admin" in line and site.venue in line
               for line in listed.splitlines())  # fmt: skip
    refused = admin("user", "create", name, "--role", "supervisor", role="supervisor")
    assert refused.status == EXIT_REFUSED and "admin role" in refused.err


def test_rotating_tickets_from_the_command_line(admin: Admin, tmp_path: Path) -> None:
    """An event taking rotating codes only, its venue's rotation key, a ticket issued with its
    holder's link, a transfer giving a new link, a link ended; the wallet needs an issuer id."""
    site = new_site(admin, tmp_path)
    if not admin("--json", "keys", "list").json():
        assert admin("keys", "rotate").status == EXIT_OK
    made = admin("event", "rotating", site.event, "--required")
    assert made.status == EXIT_OK and "rotating codes only" in made.out, made.err
    key = admin("rotation-key", "rotate", site.venue)
    assert key.status == EXIT_OK and "rotation key" in key.out, key.err
    assert re.search(r"^[0-9A-F]{8}\s+active", admin("rotation-key", "list", site.venue).out, re.M)
    right = admin("--json", "rights", "create", "--event", site.event, "--zones", "NORD").json()
    assert right["rotating"] is True  # as its event requires
    static = admin("issue", right["right_id"])
    assert static.status == EXIT_REFUSED and "rotating" in static.err
    issued = admin("issue", right["right_id"], "--rotating", "--png", str(tmp_path / "link.png"))
    assert issued.status == EXIT_OK, issued.err
    link = issued.out.splitlines()[0]
    assert link.startswith("http") and "/t/" in link
    assert Image.open(tmp_path / "link.png").size[0] > 0
    assert httpx.get(link).status_code == 200
    moved = admin("rights", "transfer", right["right_id"], "--holder", "someone-else")
    assert moved.status == EXIT_OK, moved.err
    new_link = re.search(r"holder's link \(the old one is dead\): (\S+)", moved.out)
    assert new_link and new_link.group(1) != link
    assert httpx.get(link).status_code == 410 and httpx.get(new_link.group(1)).status_code == 200
    new_id = admin("--json", "rights", "list", "--event", site.event).json()[-1]["right_id"]
    assert admin("rights", "unlink", new_id).status == EXIT_OK
    assert httpx.get(new_link.group(1)).status_code == 410
    wallet = admin("rights", "wallet", new_id, "--out", str(tmp_path / "w.json"))
    assert wallet.status == EXIT_REFUSED and "ENTRIX_WALLET_ISSUER_ID" in wallet.err
