"""packaging/: the units parse, the templates load with the project's own loaders, the scripts are
valid shell, the installer refuses to run without root, and backup and restore round-trip a
server database. The slow part (PyInstaller, the wheel in a fresh virtualenv) is `make
package-smoke`, not here."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from hardware.config import SensorConfig, TurnstileConfig
from scanner_app.config import (
    CameraSettings,
    GateSection,
    KioskSettings,
    ScanSettings,
    SyncSettings,
    TerminalConfig,
)
from scanner_app.wedge import WedgeSettings
from sync_server.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
UNITS = PACKAGING / "systemd"
SHELL_SCRIPTS = [
    PACKAGING / "install.sh",
    PACKAGING / "build.sh",
    PACKAGING / "smoke.sh",
    PACKAGING / "deb" / "build-deb.sh",
    PACKAGING / "bin" / "entrix-backup",
    PACKAGING / "bin" / "entrix-restore",
    PACKAGING / "bin" / "entrix-healthcheck",
    PACKAGING / "bin" / "entrix-db-common.sh",
    PACKAGING / "kiosk" / "kiosk-xsession",
    PACKAGING / "kiosk" / "setup-session",
    PACKAGING / "kiosk" / "bash_profile",
]


# -- systemd units -------------------------------------------------------------------------------


def unit_settings(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values in order]}} (keys may repeat, as ExecStart= does)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        assert current is not None, f"{path.name}: {line!r} before any section"
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def all_units() -> list[Path]:
    return sorted([*UNITS.glob("*.service"), *UNITS.glob("*.timer"), *UNITS.glob("user/*")])


def test_server_unit_runs_gate_server_as_its_user_hardened() -> None:
    service = unit_settings(UNITS / "entrix-server.service")["Service"]
    assert service["ExecStart"][-1].startswith("/opt/entrix/bin/gate-server serve ")
    assert service["User"] == ["entrix"]
    assert service["EnvironmentFile"] == ["/etc/entrix/server.env"]
    assert service["Restart"] == ["on-failure"]
    for key in ("NoNewPrivileges", "PrivateTmp", "ProtectHome", "PrivateDevices"):
        assert service[key] == ["yes"], key
    assert service["ProtectSystem"] == ["strict"]
    assert service["StateDirectory"] == ["entrix"]  # writable under ProtectSystem=strict


def test_gate_units_run_the_gate_commands() -> None:
    sync = unit_settings(UNITS / "entrix-sync.service")["Service"]
    assert sync["ExecStart"] == ["/opt/entrix/bin/gate-scanner sync --config /etc/entrix/gate.toml"]
    assert sync["ReadWritePaths"] == ["/var/lib/entrix"]
    assert sync["RestartPreventExitStatus"] == ["3"]  # revoked: restarting cannot help
    kiosk = unit_settings(UNITS / "user" / "entrix-kiosk.service")
    assert kiosk["Service"]["ExecStart"] == [
        "/opt/entrix/bin/gate-scanner run --config /etc/entrix/gate.toml --fullscreen"
    ]
    assert kiosk["Service"]["Restart"] == ["always"]
    assert kiosk["Unit"]["StartLimitIntervalSec"] == ["0"]
    assert kiosk["Unit"]["ConditionUser"] == ["entrix-kiosk"]


@pytest.mark.parametrize("timer", sorted(UNITS.glob("*.timer")), ids=lambda p: p.name)
def test_every_timer_has_its_service(timer: Path) -> None:
    settings = unit_settings(timer)
    assert "Timer" in settings
    assert settings["Install"]["WantedBy"] == ["timers.target"]
    assert (UNITS / timer.name.replace(".timer", ".service")).exists()


def test_the_command_line_flags_in_the_units_exist() -> None:
    """The units call the real CLIs: every subcommand and flag they use must parse."""
    from scanner_app.cli import _parser as scanner_parser

    scanner_parser().parse_args(["sync", "--config", "/etc/entrix/gate.toml"])
    scanner_parser().parse_args(["run", "--config", "/etc/entrix/gate.toml", "--fullscreen"])
    serve = unit_settings(UNITS / "entrix-server.service")["Service"]["ExecStart"][-1].split()
    completed = subprocess.run(
        [sys.executable, "-m", "sync_server.cli", *serve[1:2], "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    for flag in serve[2::2]:
        assert flag in completed.stdout, flag


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    # verify also wants every ExecStart= program to exist: point them at stand-ins. The kiosk's
    # user unit is checked by the system manager too (a user manager needs a login session).
    stand_ins = tmp_path / "bin"
    stand_ins.mkdir()
    for name in ("gate-server", "gate-scanner", "entrix-backup", "entrix-healthcheck"):
        program = stand_ins / name
        program.write_text("#!/bin/sh\n", encoding="utf-8")
        program.chmod(0o755)
    copies = []
    for unit in all_units():
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace("/opt/entrix/bin/", f"{stand_ins}/"))
        copies.append(str(copy))
    completed = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *copies],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    ours = [line for line in completed.stderr.splitlines() if str(tmp_path) in line]
    assert completed.returncode == 0 and not ours, completed.stderr


# -- configuration templates ---------------------------------------------------------------------

GATE_TEMPLATE = PACKAGING / "templates" / "gate.toml"
SETTING = re.compile(r"^#\s?([a-z_]+) = (.+)$")
SECTION = re.compile(r"^#?\s?\[([a-z]+)\]$")


def every_setting(template: Path) -> dict[str, dict[str, Any]]:
    """Each section's settings, active or commented out (the first value of each key)."""
    sections: dict[str, dict[str, Any]] = {}
    current = ""
    for line in template.read_text(encoding="utf-8").splitlines():
        if heading := SECTION.match(line):
            current = heading.group(1)
            sections.setdefault(current, {})
            continue
        setting = SETTING.match(line) or re.match(r"^([a-z_]+) = (.+)$", line)
        if setting and current:
            key, value = setting.groups()
            value = tomllib.loads(f"v = {value}")["v"]
            sections[current].setdefault(key, value)
    return sections


def test_gate_template_loads_with_the_terminals_loaders() -> None:
    config = TerminalConfig.load(GATE_TEMPLATE)
    assert config.replica_path == Path("/var/lib/entrix/gate.db")
    assert config.token_path == Path("/var/lib/entrix/gate.token")
    assert config.sync == SyncSettings()
    assert config.kiosk.fullscreen
    assert config.camera_settings() == CameraSettings()
    assert config.scan_settings() == ScanSettings()
    assert config.wedge == WedgeSettings()
    turnstile = TurnstileConfig.load(GATE_TEMPLATE)
    assert config.turnstile == turnstile  # read once, with the rest of the file
    assert turnstile.relay.driver == "lcus"
    assert turnstile.relay.port == "/dev/entrix-relay"  # the udev rules' name
    assert turnstile.sensor is None  # commented out: a wrong sensor would annul every entry


def test_gate_template_shows_every_setting_the_code_knows() -> None:
    shown = every_setting(GATE_TEMPLATE)
    expected = {
        "sync": SyncSettings,
        "kiosk": KioskSettings,
        "camera": CameraSettings,
        "scanning": ScanSettings,
        "wedge": WedgeSettings,
    }
    for section, settings in expected.items():
        assert set(shown[section]) == {f.name for f in fields(settings)}, section
        settings(**shown[section])  # and every value has a type the code takes
    assert set(shown["gate"]) == {f.name for f in fields(GateSection)}
    # Commented-out keys too: uncommented all at once, [relay] and [sensor] still load.
    turnstile = TurnstileConfig.from_document({"relay": shown["relay"], "sensor": shown["sensor"]})
    assert turnstile.sensor is not None
    relay_keys = {f.name for f in fields(type(turnstile.relay))}
    assert set(shown["relay"]) == relay_keys
    assert set(shown["sensor"]) == {f.name for f in fields(SensorConfig)}


SERVER_ENV = PACKAGING / "templates" / "server.env"


def env_lines(text: str) -> dict[str, str]:
    """KEY=value lines, commented out or not."""
    found = {}
    for line in text.splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            found.setdefault(match.group(1), match.group(2))
    return found


def test_server_env_template_names_real_settings() -> None:
    values = env_lines(SERVER_ENV.read_text(encoding="utf-8"))
    known = set(Settings.model_fields)
    ours = {"ENTRIX_BACKUP_DIR", "ENTRIX_BACKUP_KEEP_DAYS"}  # entrix-backup's own
    for key in values:
        if key.startswith("ENTRIX_") and key not in ours:
            assert key.removeprefix("ENTRIX_").lower() in known, key
    active = {
        key.removeprefix("ENTRIX_").lower(): value
        for key, value in env_lines(
            "\n".join(
                line for line in SERVER_ENV.read_text().splitlines() if not line.startswith("#")
            )
        ).items()
        if key.startswith("ENTRIX_") and key not in ours
    }
    settings = Settings(**active)
    assert settings.environment == "production"
    assert settings.database_url == "sqlite:////var/lib/entrix/entrix-server.db"
    assert values["FORWARDED_ALLOW_IPS"] == "127.0.0.1"


def test_udev_rules_are_the_ones_in_the_hardware_doc() -> None:
    doc = (ROOT / "docs" / "hardware.md").read_text(encoding="utf-8")
    block = doc.split("```udev\n", 1)[1].split("```", 1)[0]

    def rules(text: str) -> list[str]:
        return [line for line in text.splitlines() if line and not line.startswith("#")]

    shipped = (PACKAGING / "udev" / "70-entrix-gate.rules").read_text(encoding="utf-8")
    assert rules(shipped) == rules(block)


# -- shell scripts -------------------------------------------------------------------------------


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda p: p.name)
def test_shell_script_is_valid_bash(script: Path) -> None:
    subprocess.run(["bash", "-n", str(script)], check=True)
    if script.suffix != ".sh" and script.name != "bash_profile":
        assert os.access(script, os.X_OK), f"{script} is not executable"
        assert "set -euo pipefail" in script.read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="no shellcheck")
def test_shell_scripts_pass_shellcheck() -> None:
    subprocess.run(
        ["shellcheck", "-x", "-s", "bash", *map(str, SHELL_SCRIPTS)], check=True, cwd=PACKAGING
    )


def as_nobody() -> list[str]:
    """A prefix that runs a command without root (we may be root in CI)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("root, and no setpriv to drop it")
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture
def wheel() -> Iterator[Path]:
    # In a folder anyone may read: the installer may run as nobody here.
    folder = Path(tempfile.mkdtemp(prefix="entrix-wheel-"))
    folder.chmod(0o755)
    path = folder / "entrix_gate-0.1.0-py3-none-any.whl"
    path.write_bytes(b"not read in a dry run")
    path.chmod(0o644)
    yield path
    shutil.rmtree(folder)


def install(*args: str, prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(prefix or []), "bash", str(PACKAGING / "install.sh"), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_installer_refuses_to_run_without_root(wheel: Path) -> None:
    completed = install("--role", "gate", "--wheel", str(wheel), prefix=as_nobody())
    assert completed.returncode == 2
    assert "run me as root" in completed.stderr


def test_installer_refuses_an_unknown_role(wheel: Path) -> None:
    completed = install("--role", "desktop", "--wheel", str(wheel), "--dry-run")
    assert completed.returncode == 2
    assert "--role must be server, gate or kiosk" in completed.stderr


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("server", ["entrix-server.service", "/etc/entrix/server.env", "postgresql-client"]),
        ("gate", ["entrix-sync.service", "70-entrix-gate.rules", "--no-deps --force-reinstall"]),
        ("kiosk", ["getty@tty1.service.d", "entrix-kiosk.service", "matchbox-window-manager"]),
    ],
)
def test_installer_dry_run_prints_the_plan_without_root(
    wheel: Path, role: str, expected: list[str]
) -> None:
    completed = install("--role", role, "--wheel", str(wheel), "--dry-run", prefix=as_nobody())
    assert completed.returncode == 0, completed.stderr
    plan = completed.stdout
    assert "dry run: nothing changes" in plan
    for text in expected:
        assert text in plan, text
    # every role installs its dependencies from the lock, hashes checked, before the wheel
    lock = f"--require-hashes -r {ROOT / 'requirements' / 'site.txt'}"
    assert lock in plan
    assert plan.index(lock) < plan.index(f"--no-deps --force-reinstall {wheel}")


def test_the_installer_refuses_to_run_without_a_lock(tmp_path: Path, wheel: Path) -> None:
    """An installer folder someone assembled by hand, with no requirements.txt beside it."""
    alone = tmp_path / "installer"
    shutil.copytree(PACKAGING, alone)
    completed = subprocess.run(
        ["bash", str(alone / "install.sh"), "--role", "gate", "--wheel", str(wheel), "--dry-run"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert "no lock file" in completed.stderr


# -- backup and restore --------------------------------------------------------------------------


def server_users(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        return [row[0] for row in connection.execute("SELECT name FROM users ORDER BY name")]


def epoch_of(db: Path) -> str:
    with sqlite3.connect(db) as connection:
        return str(connection.execute("SELECT epoch FROM feed_counter").fetchone()[0])


def create_user(env: dict[str, str], name: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "sync_server.cli", "create-user", name, "--role", "admin"],
        env=env,
        check=True,
        capture_output=True,
    )


def test_backup_and_restore_round_trip_a_sqlite_server_database(tmp_path: Path) -> None:
    db = tmp_path / "state" / "entrix-server.db"
    db.parent.mkdir()
    env = {
        **os.environ,
        "ENTRIX_DATABASE_URL": f"sqlite:///{db}",
        "ENTRIX_BACKUP_DIR": str(tmp_path / "backups"),
        "ENTRIX_PYTHON": sys.executable,
    }
    create_user(env, "alice")  # migrates the real schema, then writes a row
    backup_bin = [str(PACKAGING / "bin" / "entrix-backup"), "--env-file", "/nonexistent"]

    made = subprocess.run(backup_bin, env=env, check=True, capture_output=True, text=True)
    backup = Path(made.stdout.strip())
    assert backup.parent == tmp_path / "backups"
    assert backup.name.startswith("entrix-") and backup.suffix == ".sqlite3"
    assert server_users(backup) == ["alice"]

    create_user(env, "mallory")  # after the backup: gone once restored
    restore = [str(PACKAGING / "bin" / "entrix-restore"), "--env-file", "/nonexistent"]
    subprocess.run([*restore, "--yes", str(backup)], env=env, check=True, capture_output=True)
    assert server_users(db) == ["alice"]
    # marked as restored: a new epoch, which tells the gates to send their scans again
    assert epoch_of(db) != epoch_of(backup) and len(epoch_of(db)) == 32
    (aside,) = db.parent.glob("entrix-server.db.before-restore-*[0-9]Z")
    assert server_users(aside) == ["alice", "mallory"]

    # the server's own migration check accepts the restored file
    completed = subprocess.run(
        [sys.executable, "-m", "sync_server.cli", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr


def test_backup_while_a_writer_holds_a_transaction_is_consistent(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    with sqlite3.connect(db) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE scans (id INTEGER PRIMARY KEY)")
        setup.executemany("INSERT INTO scans VALUES (?)", [(i,) for i in range(1000)])
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN")
    writer.execute("INSERT INTO scans VALUES (5000)")  # not committed: not in the backup
    env = {
        **os.environ,
        "ENTRIX_DATABASE_URL": f"sqlite:///{db}",
        "ENTRIX_PYTHON": sys.executable,
    }
    made = subprocess.run(
        [str(PACKAGING / "bin" / "entrix-backup"), "--dir", str(tmp_path / "b"), "--env-file", "-"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    writer.execute("ROLLBACK")
    writer.close()
    with sqlite3.connect(made.stdout.strip()) as copy:
        assert copy.execute("SELECT count(*) FROM scans").fetchone() == (1000,)


def test_backup_removes_old_copies_but_keeps_the_newest(tmp_path: Path) -> None:
    db = tmp_path / "entrix-server.db"
    sqlite3.connect(db).close()
    backups = tmp_path / "backups"
    backups.mkdir()
    old = backups / "entrix-20200101T000000Z.sqlite3"
    recent = backups / "entrix-20990101T000000Z.sqlite3"
    unrelated = backups / "notes.txt"
    for path in (old, recent, unrelated):
        path.write_text("x")
    month_ago = time.time() - 30 * 86400
    os.utime(old, (month_ago, month_ago))
    os.utime(unrelated, (month_ago, month_ago))
    env = {**os.environ, "ENTRIX_DATABASE_URL": f"sqlite:///{db}", "ENTRIX_PYTHON": sys.executable}
    made = subprocess.run(
        [str(PACKAGING / "bin" / "entrix-backup"), "--dir", str(backups), "--keep-days", "14"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert "removed old backup" in made.stderr
    assert not old.exists()
    assert recent.exists() and unrelated.exists() and Path(made.stdout.strip()).exists()


def test_restore_refuses_a_backup_of_the_other_kind(tmp_path: Path) -> None:
    dump = tmp_path / "entrix-20260101T000000Z.pgdump"
    dump.write_bytes(b"PGDMP")
    env = {**os.environ, "ENTRIX_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    completed = subprocess.run(
        [str(PACKAGING / "bin" / "entrix-restore"), "--yes", "--env-file", "-", str(dump)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert "is not a sqlite backup" in completed.stderr


def test_enrolling_over_the_template_keeps_its_other_sections(tmp_path: Path) -> None:
    config_path = tmp_path / "gate.toml"
    shutil.copy(GATE_TEMPLATE, config_path)
    config = TerminalConfig.load(config_path)
    config.server, config.venue, config.gate = "https://gates.example.org", "RADES", "NORD-1"
    config.save()  # what gate-scanner enroll does

    again = TerminalConfig.load(config_path)
    assert (again.server, again.venue, again.gate) == (
        "https://gates.example.org",
        "RADES",
        "NORD-1",
    )
    assert again.replica_path == Path("/var/lib/entrix/gate.db")
    assert TurnstileConfig.load(config_path).relay.port == "/dev/entrix-relay"
    assert every_setting(config_path) == {
        **every_setting(GATE_TEMPLATE),
        "gate": {
            **every_setting(GATE_TEMPLATE)["gate"],
            "server": "https://gates.example.org",
            "venue": "RADES",
            "name": "NORD-1",
        },
    }
