"""``gate-scanner seed-demo`` then ``check``, as the README tells a new user to try them."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scanner_app.cli import EXIT_ERROR, EXIT_GRANTED, EXIT_REFUSED, main
from scanner_app.replica import Replica


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded demo, copied fresh for each test that scans (scans change usage)."""
    folder = tmp_path_factory.mktemp("demo")
    assert main(["seed-demo", "--db", str(folder / "gate.db"), "--rights", "500"]) == 0
    return folder


@pytest.fixture
def site(demo: Path, tmp_path: Path) -> Path:
    for name in ("gate.db", "codes.txt"):
        shutil.copy(demo / name, tmp_path / name)
    return tmp_path


def samples(site: Path) -> list[tuple[str, str, str]]:
    rows = []
    for line in (site / "codes.txt").read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            label, code, expected, _note = line.split("\t")
            rows.append((label, code, expected))
    return rows


def check_json(site: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    status = main(["check", "--db", str(site / "gate.db"), "--json", *args])
    lines = capsys.readouterr().out.strip().splitlines()
    return status, json.loads(lines[-1])


def test_seed_demo_builds_the_stadium(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Replica(demo / "gate.db") as replica:
        counts = replica.counts()
        assert counts.rights == 501  # 500 + the revoked, transferred ticket
        assert counts.bans == 10 and counts.keys == 1
        layouts = {layout.code: layout for layout in replica.layouts()}
        assert set(layouts) == {"FOOTBALL", "CONCERT"}
        assert set(layouts["FOOTBALL"].zones) >= {"NORD", "SUD", "VIP"}
        assert "FOSSE" in layouts["CONCERT"].zones
        assert replica.gate_name == "NORD-1"
        assert replica.counts().scans == 0
    # The replica holds public keys only: no private key material anywhere in the file.
    assert b"PRIVATE" not in (demo / "gate.db").read_bytes()


def test_every_sample_code_gets_its_expected_answer(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = samples(site)
    labels = {label for label, _, _ in rows}
    assert {"tampered", "forged", "expired", "banned-holder", "away-ticket", "revoked"} <= labels
    for label, code, expected in rows:
        status, result = check_json(site, capsys, code)
        assert result["reason"] == expected, label
        assert status == (EXIT_GRANTED if expected == "granted" else EXIT_REFUSED)


def test_reused_ticket_is_refused_in_words(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = next(c for label, c, _ in samples(site) if label == "home-ticket")
    assert main(["check", "--db", str(site / "gate.db"), code]) == EXIT_GRANTED
    first = capsys.readouterr().out
    assert first.startswith("GRANTED  granted")
    assert "Virage Nord" in first and "ms" in first
    assert main(["check", "--db", str(site / "gate.db"), code]) == EXIT_REFUSED
    second = capsys.readouterr().out
    assert second.startswith("REFUSED  already_used")


def test_away_ticket_is_granted_at_its_own_gate(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = next(c for label, c, _ in samples(site) if label == "away-ticket")
    status, result = check_json(site, capsys, code, "--gate", "SUD-1")
    assert status == EXIT_GRANTED and result["zone"].startswith("SUD")
    assert result["decided_ms"] > 0 and result["total_ms"] >= result["decided_ms"]


def test_vip_reentry_through_the_exit(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = next(c for label, c, _ in samples(site) if label == "vip-subscription")
    assert check_json(site, capsys, code, "--gate", "VIP-1")[1]["reason"] == "granted"
    assert check_json(site, capsys, code, "--gate", "VIP-1")[1]["reason"] == "already_inside"
    assert check_json(site, capsys, code, "--gate", "VIP-1", "--direction", "out")[1]["granted"]
    assert check_json(site, capsys, code, "--gate", "VIP-1")[1]["reason"] == "granted"


def test_disabled_gate_and_time_travel(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = next(c for label, c, _ in samples(site) if label == "staff-badge")
    assert check_json(site, capsys, code, "--gate", "SUD-2")[1]["reason"] == "gate_disabled"
    status, result = check_json(site, capsys, code, "--at", "2020-01-01T12:00:00+00:00")
    assert result["reason"] == "not_yet_valid" and status == EXIT_REFUSED


def test_codes_from_standard_input(
    site: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = samples(site)
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{c}\r\n" for _, c, _ in rows)))
    main(["check", "--db", str(site / "gate.db"), "--json", "-"])
    answers = [json.loads(line)["reason"] for line in capsys.readouterr().out.splitlines()]
    assert answers == [expected for _, _, expected in rows]


def test_clear_errors(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--db", str(site / "none.db"), "EG1:X"]) == EXIT_ERROR
    assert "seed-demo" in capsys.readouterr().err
    assert not (site / "none.db").exists(), "a check must not create an empty replica"
    assert main(["check", "--db", str(site / "gate.db"), "--gate", "NOPE", "X"]) == EXIT_ERROR
    assert "NORD-1" in capsys.readouterr().err
    assert main(["seed-demo", "--db", str(site / "gate.db")]) == EXIT_ERROR
    assert "--force" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["check", "--db", str(site / "gate.db"), "--at", "yesterday", "X"])
    assert "ISO 8601" in capsys.readouterr().err


def test_installed_commands_answer(tmp_path: Path) -> None:
    bindir = Path(sys.executable).parent
    for command in ("gate-scanner", "gate-server", "gate-admin"):
        done = subprocess.run(
            [str(bindir / command), "--help"], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        assert command in done.stdout


def scans_in(site: Path) -> int:
    with Replica(site / "gate.db") as replica:
        return replica.counts().scans


def test_a_trial_at_another_time_records_nothing(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--at`` was offered for trying validity windows, and its scans became real data."""
    code = next(c for label, c, _ in samples(site) if label == "home-ticket")
    before = scans_in(site)
    soon = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    for _ in range(2):  # not consumed: granted both times
        status, answer = check_json(site, capsys, "--at", soon, code)
        assert status == EXIT_GRANTED and answer["reason"] == "granted"
        assert answer["recorded"] is False and answer["scan_id"] is None
    assert main(["check", "--db", str(site / "gate.db"), "--dry-run", code]) == EXIT_GRANTED
    assert "dry run: nothing recorded" in capsys.readouterr().out
    assert scans_in(site) == before
    assert main(["check", "--db", str(site / "gate.db"), code]) == EXIT_GRANTED  # still unused
    assert scans_in(site) == before + 1


def test_check_from_stdin_goes_on_after_a_code_it_cannot_record(
    site: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from scanner_app.checkpoint import Checkpoint

    real = Checkpoint.check
    seen: list[str] = []

    def flaky(self: Checkpoint, code: str | bytes, *args: object, **kwargs: object) -> object:
        seen.append(str(code))
        if len(seen) == 2:
            raise sqlite3.OperationalError("database or disk is full")
        return real(self, code, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Checkpoint, "check", flaky)
    codes = [c for _, c, _ in samples(site)][:3]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(codes) + "\n"))
    status = main(["check", "--db", str(site / "gate.db"), "-"])
    out, err = capsys.readouterr()
    assert status == EXIT_ERROR
    assert len(seen) == 3  # the third code was checked after the failure
    assert "line 2: cannot record the scan: database or disk is full" in err
    assert "Traceback" not in err
    assert out.count("GRANTED") + out.count("REFUSED") == 2
