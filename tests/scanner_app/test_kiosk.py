"""The kiosk's model without Qt: scans through the gate thread, counters, supervisor actions."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from uuid import uuid4

import pytest

from scanner_app.decoders import make_decoder
from scanner_app.demo_camera import FALLBACK_CODES, DemoCamera, demo_codes, sample_codes
from scanner_app.frames import FrameSourceError
from scanner_app.kiosk import LOCAL, Answer, Kiosk
from scanner_app.replica import ReplicaError
from shared.model import NOT_PASSED, Direction
from tests.scanner_app.ui.support import Site, demo_site, fast_turnstile, make_kiosk

TIMEOUT_S = 10


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return demo_site(tmp_path)


@pytest.fixture
def kiosk(site: Site) -> Iterator[Kiosk]:
    kiosk = make_kiosk(site, source=None)
    kiosk.start()
    yield kiosk
    kiosk.stop()


def answers(kiosk: Kiosk) -> queue.Queue[Answer]:
    box: queue.Queue[Answer] = queue.Queue()
    kiosk.answered.connect(box.put)
    kiosk.annulled.connect(box.put)
    return box


def test_a_scan_is_decided_recorded_and_counted(kiosk: Kiosk, site: Site) -> None:
    box = answers(kiosk)
    kiosk.submit(site.code("home-ticket"))
    answer = box.get(timeout=TIMEOUT_S)
    assert answer.granted and answer.zone_name is not None and answer.zone_name.startswith("Virage")
    assert answer.holder_name is None
    assert kiosk.recent_scans()[0].scan_id == answer.scan_id
    assert kiosk.status().entries_hour == 1
    kiosk.submit(site.code("home-ticket"))
    assert box.get(timeout=TIMEOUT_S).reason == "already_used"
    assert kiosk.status().entries_hour == 1


def test_wrong_zone_names_the_gates_to_go_to(kiosk: Kiosk, site: Site) -> None:
    box = answers(kiosk)
    kiosk.submit(site.code("away-ticket"))
    answer = box.get(timeout=TIMEOUT_S)
    assert (answer.reason, answer.gates) == ("wrong_zone", "SUD-1")
    kiosk.submit(site.code("vip-subscription"))
    assert box.get(timeout=TIMEOUT_S).gates == "VIP-1"


def test_nobody_passing_annuls_the_entry_and_the_count(site: Site) -> None:
    kiosk = make_kiosk(site, source=None, turnstile=fast_turnstile(nobody=True))
    box = answers(kiosk)
    kiosk.start()
    try:
        kiosk.submit(site.code("home-ticket"))
        granted, annulled = box.get(timeout=TIMEOUT_S), box.get(timeout=TIMEOUT_S)
        assert granted.granted
        assert (annulled.reason, annulled.annuls) == (NOT_PASSED, granted.scan_id)
        assert kiosk.status().entries_hour == 0
        # The right was not consumed: the holder may try again.
        kiosk.submit(site.code("home-ticket"))
        assert box.get(timeout=TIMEOUT_S).granted
    finally:
        kiosk.stop()


def test_an_exit_on_a_one_way_turnstile_is_annulled_as_a_relay_failure(site: Site) -> None:
    from hardware import TurnstileConfig, open_turnstile

    one_way = open_turnstile(TurnstileConfig.from_document({"relay": {"driver": "simulated"}}))
    kiosk = make_kiosk(site, source=None, turnstile=one_way)
    box = answers(kiosk)
    kiosk.set_direction(Direction.OUT)
    kiosk.start()
    try:
        kiosk.submit(site.code("staff-badge"))
        assert box.get(timeout=TIMEOUT_S).granted
        assert box.get(timeout=TIMEOUT_S).reason == "relay_failed"
    finally:
        kiosk.stop()


def test_manual_open_needs_who_and_why_and_is_logged_for_upload(kiosk: Kiosk) -> None:
    with pytest.raises(ValueError, match="who"):
        kiosk.manual_open("  ", "lost ticket")
    record = kiosk.manual_open("A. Trabelsi", "steward without badge")
    stored = kiosk.recent_scans()[0]
    assert stored == record
    assert (stored.reason, stored.operator, stored.code_kind) == (
        "manual_open",
        "A. Trabelsi",
        "manual",
    )
    assert kiosk.status().outbox == 1


def test_a_decision_cannot_be_logged_as_an_event(kiosk: Kiosk) -> None:
    record = kiosk.manual_open("A", "B")
    with pytest.raises(ReplicaError):
        kiosk.replica.record_event(replace(record, scan_id=str(uuid4()), reason="granted"))


def test_emergency_without_a_turnstile_is_still_recorded(site: Site) -> None:
    kiosk = make_kiosk(site, source=None, turnstile=None)
    seen: list[bool] = []
    kiosk.emergency_changed.connect(seen.append)
    try:
        kiosk.set_emergency(True, "chef")
        assert kiosk.emergency and kiosk.status().relay == "none"
        kiosk.set_emergency(False, "chef")
        assert seen == [True, False]
        assert [s.reason for s in kiosk.recent_scans()] == ["emergency_release", "emergency_open"]
    finally:
        kiosk.stop()


def test_direction_and_language_survive_a_restart(site: Site) -> None:
    kiosk = make_kiosk(site, source=None)
    kiosk.set_direction(Direction.OUT)
    kiosk.set_language("ar")
    kiosk.stop()
    again = make_kiosk(site, source=None)
    try:
        status = again.status()
        assert (status.direction, status.language, status.sync) == (Direction.OUT, "ar", LOCAL)
    finally:
        again.stop()


def test_the_demo_camera_shows_each_code_then_an_empty_frame(site: Site, tmp_path: Path) -> None:
    codes = [site.code("home-ticket"), site.code("plain-secret")]
    camera = DemoCamera(codes, fps=10, show_s=0.2, gap_s=0.2, realtime=False)
    decoder = make_decoder()
    seen = [decoder.decode(camera.read().image) for _ in range(8)]
    assert seen == [[codes[0]], [codes[0]], [], [], [codes[1]], [codes[1]], [], []]


def test_demo_codes_come_from_seed_demo_or_placeholders(tmp_path: Path) -> None:
    codes_file = tmp_path / "codes.txt"
    assert demo_codes(codes_file) == list(FALLBACK_CODES)
    codes_file.write_text("# label\tcode\n\nhome\tEG1:ABC\tgranted\tnote\n", encoding="utf-8")
    assert sample_codes(codes_file) == ["EG1:ABC"]
    codes_file.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(FrameSourceError):
        sample_codes(codes_file)


@pytest.mark.parametrize(
    ("every_s", "shown", "cycle"), [(4.5, 60, 135), (2.0, 30, 60), (10.0, 60, 300)]
)
def test_the_demo_camera_keeps_the_pace_it_is_given(
    site: Site, every_s: float, shown: int, cycle: int
) -> None:
    """At 30 fps: a code for half the period (2 s at most), then empty frames."""
    from scanner_app.config import TerminalConfig

    config = TerminalConfig(path=site.db.parent / "gate.toml", replica=site.db.name)
    kiosk = Kiosk.from_config(config, demo=True, demo_every_s=every_s)
    try:
        camera = kiosk.source
        assert isinstance(camera, DemoCamera)
        first = camera.code_at(0)
        assert first is not None
        assert camera.code_at(shown - 1) == first
        assert camera.code_at(shown) is None
        assert camera.code_at(cycle - 1) is None
        assert camera.code_at(cycle) not in (None, first)
    finally:
        kiosk.stop()


def test_a_demo_kiosk_needs_no_camera_no_relay_and_no_config_file(site: Site) -> None:
    from scanner_app.config import TerminalConfig
    from scanner_app.demo_camera import DemoCamera

    config = TerminalConfig(path=site.db.parent / "gate.toml", replica=site.db.name)
    kiosk = Kiosk.from_config(config, demo=True)
    try:
        assert isinstance(kiosk.source, DemoCamera)
        assert kiosk.turnstile is not None and kiosk.turnstile.relay.driver == "simulated"
        assert kiosk.sync_loop is None and kiosk.status().sync == LOCAL
    finally:
        kiosk.stop()


def test_run_without_configuration_opens_the_enrollment_screen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh terminal (no configuration, no data) starts on its first screen, which reads the
    back office's enrollment QR (tests/scanner_app/ui/test_first_start_window.py); the demo
    without its data says how to make it."""
    from scanner_app import cli

    opened: list[Path] = []
    monkeypatch.setattr(cli, "_first_start", lambda config, fullscreen: opened.append(config.path)
                        or 0)  # fmt: skip
    assert cli.main(["run", "--config", str(tmp_path / "gate.toml")]) == 0
    assert opened == [tmp_path / "gate.toml"]
    assert cli.main(["run", "--demo", "--db", str(tmp_path / "none.db")]) == 2
    assert "seed-demo" in capsys.readouterr().err


def test_a_scan_that_cannot_be_recorded_is_answered_out_of_order_and_never_unlocks(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: with the disk full, the controller saw no answer at all."""
    import sqlite3

    from scanner_app.i18n import CANNOT_RECORD
    from scanner_app.replica import Replica

    turnstile = fast_turnstile()
    kiosk = make_kiosk(site, source=None, turnstile=turnstile)
    box = answers(kiosk)
    real = Replica.record_scan
    failures = iter([True])

    def full_disk(self: Replica, *args: object, **kwargs: object) -> object:
        if next(failures, False):
            raise sqlite3.OperationalError("database or disk is full")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Replica, "record_scan", full_disk)
    kiosk.start()
    try:
        kiosk.submit(site.code("home-ticket"))
        refused = box.get(timeout=TIMEOUT_S)
        assert (refused.reason, refused.granted) == (CANNOT_RECORD, False)
        assert turnstile.relay.history == []  # type: ignore[attr-defined]
        assert kiosk.recent_scans() == []  # nothing was recorded, so nothing was admitted
        kiosk.submit(site.code("home-ticket"))  # space again: the same ticket is let in
        assert box.get(timeout=TIMEOUT_S).granted
    finally:
        kiosk.stop()
