"""The kiosk window, offscreen: every screen, languages, wedge, supervisor and status bar."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from scanner_app.config import KioskSettings
from scanner_app.kiosk import Answer, Kiosk
from scanner_app.replica import Replica
from scanner_app.sync_loop import SyncState, SyncStatus
from scanner_app.ui.screens import AMBER, GREEN, RED
from scanner_app.ui.window import KioskWindow
from shared import rotating
from shared.credential import verify
from shared.i18n import CAUSES, Language
from shared.kiosk_pin import hash_pin
from shared.model import NOT_PASSED, Direction
from shared.sync_schema import Change, ChangeBatch, RotationKeyRow, StaffRow
from tests.scanner_app.ui.support import (
    PIN,
    PIN_HASH,
    FakeCamera,
    Site,
    fast_turnstile,
    make_kiosk,
    offline_config,
)

WAIT_MS = 10_000


def start_window(qtbot: QtBot, kiosk: Kiosk) -> KioskWindow:
    window = KioskWindow(kiosk)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    kiosk.start()
    return window


@pytest.fixture
def other_kiosk() -> Iterator[list[Kiosk]]:
    """Kiosks a test makes itself; stopped at the end."""
    made: list[Kiosk] = []
    yield made
    for kiosk in made:
        kiosk.stop()


def type_keys(window: KioskWindow, text: str, *, gap_ms: int, start_ms: int = 1_000) -> None:
    """Key presses as the window receives them from the platform, with chosen timestamps."""
    handle = window.windowHandle()
    at = start_ms
    for char in [*text, "\r"]:
        key = Qt.Key.Key_Return if char == "\r" else Qt.Key.Key_A
        event = QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier, char)
        event.setTimestamp(at)
        QApplication.sendEvent(handle, event)
        at += gap_ms


# -- idle and answers ---------------------------------------------------------------------------


def test_idle_screen_shows_gate_direction_prompt_and_live_preview(
    qtbot: QtBot, window: KioskWindow
) -> None:
    assert window.stack.currentWidget() is window.idle
    assert window.idle.gate_label.text() == "Porte NORD-1 — Entrée"
    assert window.idle.prompt_label.text() == "Présentez votre billet"
    qtbot.waitUntil(lambda: window.idle.preview.frames_shown >= 3, timeout=WAIT_MS)
    assert window.idle.preview.image is not None
    assert not window.idle.camera_label.isVisible()


def test_granted_answer_is_green_with_zone_and_seat_then_back_to_idle(
    qtbot: QtBot, window: KioskWindow, kiosk: Kiosk, site: Site
) -> None:
    kiosk.submit(site.code("home-ticket"))
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.answer, timeout=WAIT_MS)
    answer = window.answer
    assert answer.colour == GREEN
    assert answer.verdict_label.text() == "ENTRÉE AUTORISÉE"
    assert answer.reason_label.text() == "Bienvenue — passez"
    assert answer.zone_label.text().startswith("Tribune : Virage Nord")
    assert answer.seat_label.text().startswith("Place : NORD-")
    assert answer.holder_label.isHidden()  # the site did not enable names
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.idle, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: kiosk.status().entries_hour == 1, timeout=WAIT_MS)


def test_refused_answers_are_red_with_words_to_act_on(
    qtbot: QtBot, window: KioskWindow, kiosk: Kiosk, site: Site
) -> None:
    kiosk.submit(site.code("away-ticket"))
    qtbot.waitUntil(lambda: window.answer.colour == RED, timeout=WAIT_MS)
    assert window.answer.verdict_label.text() == "REFUSÉ"
    assert window.answer.reason_label.text() == "Mauvaise tribune : allez à la porte SUD-1"

    kiosk.submit(site.code("banned-holder"))
    qtbot.waitUntil(
        lambda: window.answer.reason_label.text() == "Interdit de stade — appelez la sécurité",
        timeout=WAIT_MS,
    )
    assert window.answer.colour == RED


def test_a_stale_rotating_code_says_which_to_check(
    qtbot: QtBot, window: KioskWindow, kiosk: Kiosk, site: Site
) -> None:
    """A phone whose clock is five minutes ahead: the controller is told to fix its clock, not
    that it is a screenshot."""
    key = bytes(range(40, 72))
    with Replica(site.db) as replica:
        seq = replica.cursor + 1
        row = RotationKeyRow(rkid=rotating.rotation_key_id(key), key=key)
        replica.apply_changes(ChangeBatch(since=seq - 1, cursor=seq,
                                          changes=[Change.upsert(seq, row)]))  # fmt: skip
        signed = site.code("home-ticket")
        right_id = verify(signed, replica.keyring).right.right_id
    kiosk.submit(rotating.make(signed, key, right_id, int(time.time()) + 300))
    qtbot.waitUntil(lambda: window.answer.colour == RED, timeout=WAIT_MS)
    assert window.answer.reason_label.text() == CAUSES[("stale_code", "ahead")][Language.FR]
    kiosk.submit(rotating.make(signed, key, right_id, int(time.time()) - 300))
    qtbot.waitUntil(
        lambda: window.answer.reason_label.text() == CAUSES[("stale_code", "old")][Language.FR],
        timeout=WAIT_MS,
    )


def test_an_annulled_entry_gets_a_follow_up_notice(
    qtbot: QtBot, site: Site, other_kiosk: list[Kiosk]
) -> None:
    kiosk = make_kiosk(
        site,
        turnstile=fast_turnstile(nobody=True),
        settings=KioskSettings(answer_s=30, pin_hash=PIN_HASH),
    )
    other_kiosk.append(kiosk)
    window = start_window(qtbot, kiosk)
    kiosk.submit(site.code("home-ticket"))
    qtbot.waitUntil(lambda: window.answer.notice_label.isVisible(), timeout=WAIT_MS)
    assert window.answer.notice_label.text() == "Personne n'est passé — entrée annulée"
    assert [s.reason for s in kiosk.recent_scans()][:2] == [NOT_PASSED, "granted"]
    assert kiosk.status().entries_hour == 0
    # Shown alone (the controller already back to idle): an amber screen of its own.
    window.show_idle()
    notice = kiosk.recent_scans()[0]
    window.show_annulment(
        Answer(notice.scan_id, NOT_PASSED, False, Direction.IN, annuls=notice.annuls)
    )
    assert window.stack.currentWidget() is window.answer
    assert window.answer.colour == AMBER
    assert window.answer.verdict_label.text() == "ENTRÉE ANNULÉE"
    window.sounds.close()


# -- languages ----------------------------------------------------------------------------------


def test_arabic_lays_the_window_out_right_to_left_and_english_back(
    qtbot: QtBot, window: KioskWindow, kiosk: Kiosk, site: Site
) -> None:
    kiosk.set_language("ar")
    qtbot.waitUntil(
        lambda: QGuiApplication.layoutDirection() == Qt.LayoutDirection.RightToLeft,
        timeout=WAIT_MS,
    )
    assert window.layoutDirection() == Qt.LayoutDirection.RightToLeft
    assert window.idle.prompt_label.text() == "قدّم تذكرتك"
    kiosk.submit(site.code("revoked"))
    qtbot.waitUntil(lambda: window.answer.colour == RED, timeout=WAIT_MS)
    assert window.answer.reason_label.text() == "تذكرة ملغاة — وجّهه إلى شباك التذاكر"
    alignment = window.answer.reason_label.alignment()
    assert alignment & Qt.AlignmentFlag.AlignLeading
    assert not alignment & (Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignHCenter)
    assert window.status_panel.sync_label.text() == "بدون خادم"

    kiosk.set_language("en")
    qtbot.waitUntil(
        lambda: QGuiApplication.layoutDirection() == Qt.LayoutDirection.LeftToRight,
        timeout=WAIT_MS,
    )
    assert window.idle.prompt_label.text() == "Present your ticket"
    assert window.answer.reason_label.text() == "Ticket cancelled — send to the ticket office"
    assert kiosk.replica.get_meta("kiosk_language") == "en"  # kept across a restart


# -- keyboard wedge -----------------------------------------------------------------------------


def test_a_fast_burst_is_a_scan_and_slow_typing_is_not(
    qtbot: QtBot, window: KioskWindow, kiosk: Kiosk, site: Site
) -> None:
    code = site.code("plain-secret")
    type_keys(window, code, gap_ms=150)  # a person typing
    assert kiosk.wedge.pending == ""
    type_keys(window, code, gap_ms=2, start_ms=60_000)  # a scanner
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.answer, timeout=WAIT_MS)
    assert window.answer.colour == GREEN
    # Only the scanner's burst was decided on: the typed one never reached the gate.
    assert len(kiosk.recent_scans()) == 1


def test_wedge_scans_arrive_whatever_has_the_focus(
    qtbot: QtBot, window: KioskWindow, kiosk: Kiosk, site: Site
) -> None:
    qtbot.mouseClick(window.status_panel.supervisor_button, Qt.MouseButton.LeftButton)
    assert window.stack.currentWidget() is window.pin_page
    window.pin_page.pin_edit.setFocus()
    type_keys(window, site.code("away-ticket"), gap_ms=3)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.answer, timeout=WAIT_MS)
    assert window.answer.reason_label.text().startswith("Mauvaise tribune")


# -- supervisor ---------------------------------------------------------------------------------


def enter_pin(qtbot: QtBot, window: KioskWindow, pin: str) -> None:
    window.pin_page.pin_edit.setText(pin)
    qtbot.mouseClick(window.pin_page.ok_button, Qt.MouseButton.LeftButton)


def test_the_pin_opens_the_panel_and_five_wrong_tries_lock_it(
    qtbot: QtBot, site: Site, other_kiosk: list[Kiosk]
) -> None:
    now = [1_000_000.0]
    kiosk = make_kiosk(site, clock=lambda: now[0])
    other_kiosk.append(kiosk)
    window = start_window(qtbot, kiosk)
    qtbot.mouseClick(window.status_panel.supervisor_button, Qt.MouseButton.LeftButton)
    for tries_left in (4, 3, 2, 1):
        enter_pin(qtbot, window, "0000")
        assert (
            window.pin_page.message_label.text() == f"PIN incorrect — encore {tries_left} essai(s)"
        )
    enter_pin(qtbot, window, "0000")
    assert window.pin_page.message_label.text() == "Trop d'essais — bloqué pendant 5 min"
    enter_pin(qtbot, window, PIN)  # the right PIN, but locked
    assert window.stack.currentWidget() is window.pin_page
    window.sounds.close()

    # A restart does not reset the lock-out.
    kiosk.stop()
    other_kiosk.remove(kiosk)
    restarted = make_kiosk(site, clock=lambda: now[0])
    other_kiosk.append(restarted)
    assert restarted.pin.locked_for() == pytest.approx(300)
    window = start_window(qtbot, restarted)
    now[0] += 301
    qtbot.mouseClick(window.status_panel.supervisor_button, Qt.MouseButton.LeftButton)
    enter_pin(qtbot, window, PIN)
    assert window.stack.currentWidget() is window.panel
    window.sounds.close()


@pytest.fixture
def panel_window(qtbot: QtBot, window: KioskWindow) -> KioskWindow:
    qtbot.mouseClick(window.status_panel.supervisor_button, Qt.MouseButton.LeftButton)
    enter_pin(qtbot, window, PIN)
    assert window.stack.currentWidget() is window.panel
    return window


def test_manual_open_asks_who_and_why_and_is_audited(
    qtbot: QtBot, panel_window: KioskWindow, kiosk: Kiosk
) -> None:
    panel = panel_window.panel
    assert not panel.manual_open_button.isEnabled()
    panel.operator_edit.setText("K. Ben Salah")
    assert not panel.manual_open_button.isEnabled()  # who, but not why
    panel.why_edit.setText("wheelchair user, ticket on a dead phone")
    qtbot.mouseClick(panel.manual_open_button, Qt.MouseButton.LeftButton)
    record = kiosk.recent_scans()[0]
    assert (record.reason, record.operator, record.detail) == (
        "manual_open",
        "K. Ben Salah",
        "wheelchair user, ticket on a dead phone",
    )
    assert kiosk.replica.counts().scans_pending == 1  # uploads like any scan
    assert panel.scans_table.item(0, 2).text() == "Ouverture manuelle"
    assert panel.scans_table.item(0, 4).text() == "K. Ben Salah"
    assert panel.feedback_label.text() == "Ouverture manuelle enregistrée"


def test_emergency_free_passage_shows_a_banner_and_is_recorded(
    qtbot: QtBot, panel_window: KioskWindow, kiosk: Kiosk
) -> None:
    panel = panel_window.panel
    panel.operator_edit.setText("Chef de sécurité")
    panel.why_edit.setText("évacuation tribune nord")
    qtbot.mouseClick(panel.emergency_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel_window.banner.isVisible(), timeout=WAIT_MS)
    assert panel_window.banner.text() == "⚠ PASSAGE LIBRE D'URGENCE — tourniquet ouvert ⚠"
    assert kiosk.turnstile is not None and kiosk.turnstile.emergency
    assert panel.emergency_button.text() == "Fin du passage libre"
    assert panel_window.status_panel.relay_label.text() == "Tourniquet ouvert (urgence)"
    first = kiosk.recent_scans()[0]
    assert (first.reason, first.operator) == ("emergency_open", "Chef de sécurité")

    qtbot.mouseClick(panel.emergency_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel_window.banner.isVisible(), timeout=WAIT_MS)
    assert not kiosk.turnstile.emergency
    assert [s.reason for s in kiosk.recent_scans()[:2]] == ["emergency_release", "emergency_open"]


def test_switching_to_exit_is_shown_and_kept(
    qtbot: QtBot, panel_window: KioskWindow, kiosk: Kiosk, site: Site
) -> None:
    qtbot.mouseClick(panel_window.panel.direction_button, Qt.MouseButton.LeftButton)
    assert kiosk.direction is Direction.OUT
    qtbot.waitUntil(
        lambda: panel_window.idle.gate_label.text() == "Porte NORD-1 — Sortie", timeout=WAIT_MS
    )
    assert panel_window.panel.direction_button.text() == "Passer en Entrée"
    assert make_kiosk(site, source=None, turnstile=None).direction is Direction.OUT


def test_the_panel_lists_the_last_scans_in_words_and_the_device(
    qtbot: QtBot, panel_window: KioskWindow, kiosk: Kiosk, site: Site
) -> None:
    kiosk.submit(site.code("expired"))
    qtbot.waitUntil(
        lambda: panel_window.stack.currentWidget() is panel_window.answer, timeout=WAIT_MS
    )
    panel_window.show_supervisor()
    panel = panel_window.panel
    assert panel.scans_table.rowCount() == 1
    assert panel.scans_table.item(0, 2).text() == "Billet expiré — entrée refusée"
    assert "NORD-1" in panel.device_label.text()
    assert "version 0.1.0" in panel.device_label.text()
    qtbot.mouseClick(panel.sync_button, Qt.MouseButton.LeftButton)
    assert panel.feedback_label.text() == "Pas de serveur configuré"


def test_a_scan_while_the_panel_is_open_is_answered_then_the_panel_comes_back(
    qtbot: QtBot, panel_window: KioskWindow, kiosk: Kiosk, site: Site
) -> None:
    """The holder at the turnstile sees the answer; the supervisor gets the panel back as left."""
    panel = panel_window.panel
    panel.operator_edit.setText("K. Ben Salah")
    kiosk.submit(site.code("home-ticket"))
    qtbot.waitUntil(
        lambda: panel_window.stack.currentWidget() is panel_window.answer, timeout=WAIT_MS
    )
    assert panel_window.answer.colour == GREEN
    qtbot.waitUntil(lambda: panel_window.stack.currentWidget() is panel, timeout=WAIT_MS)
    assert panel.operator_edit.text() == "K. Ben Salah"
    assert panel.scans_table.rowCount() == 1
    # Closed by the supervisor, the next answer goes back to the idle page as usual.
    panel_window.show_idle()
    kiosk.submit(site.code("away-ticket"))
    qtbot.waitUntil(lambda: panel_window.answer.colour == RED, timeout=WAIT_MS)
    qtbot.waitUntil(
        lambda: panel_window.stack.currentWidget() is panel_window.idle, timeout=WAIT_MS
    )


def test_a_scan_while_the_pin_is_asked_comes_back_to_the_pin(
    qtbot: QtBot, window: KioskWindow, kiosk: Kiosk, site: Site
) -> None:
    qtbot.mouseClick(window.status_panel.supervisor_button, Qt.MouseButton.LeftButton)
    kiosk.submit(site.code("home-ticket"))
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.answer, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.pin_page, timeout=WAIT_MS)


# -- status bar ---------------------------------------------------------------------------------


def test_the_status_bar_follows_sync_offline_and_online_and_the_outbox(
    qtbot: QtBot, site: Site, other_kiosk: list[Kiosk]
) -> None:
    kiosk = make_kiosk(site, sync_config=offline_config(site))
    other_kiosk.append(kiosk)
    window = KioskWindow(kiosk)  # not started: the test plays the sync loop
    qtbot.addWidget(window)
    bar = window.status_panel
    assert bar.sync_label.text() == "Connexion…"
    assert bar.last_sync_label.text() == "Jamais synchronisé"

    kiosk.on_sync_status(SyncStatus(state=SyncState.OFFLINE, outbox=3, last_error="refused"))
    qtbot.waitUntil(lambda: bar.sync_label.text() == "Hors ligne", timeout=WAIT_MS)
    assert bar.sync_label.property("ok") is False
    assert bar.outbox_label.text() == "À envoyer : 3"

    synced_ms = int(time.time() * 1000)
    kiosk.on_sync_status(
        SyncStatus(state=SyncState.ONLINE, outbox=0, last_sync_ms=synced_ms - 42_000)
    )
    qtbot.waitUntil(lambda: bar.sync_label.text() == "En ligne", timeout=WAIT_MS)
    assert bar.sync_label.property("ok") is True
    assert bar.outbox_label.text() == "À envoyer : 0"
    assert bar.last_sync_label.text() == "Synchro il y a 42 s"

    # The server no longer serves this gate's software: not "offline", a job for the installer.
    kiosk.on_sync_status(SyncStatus(state=SyncState.UPGRADE, last_error="protocol 1 too old"))
    qtbot.waitUntil(lambda: bar.sync_label.text() == "Mise à jour requise", timeout=WAIT_MS)
    assert bar.sync_label.property("ok") is False
    window.sounds.close()


def test_the_status_bar_says_a_rebuild_and_a_clock_nobody_checked(
    qtbot: QtBot, site: Site, other_kiosk: list[Kiosk]
) -> None:
    kiosk = make_kiosk(site, sync_config=offline_config(site))  # [sync] defaults: 6 h
    other_kiosk.append(kiosk)
    window = KioskWindow(kiosk)
    qtbot.addWidget(window)
    bar = window.status_panel
    assert not bar.clock_label.isVisibleTo(window)
    kiosk.on_sync_status(SyncStatus(state=SyncState.OFFLINE, rebuild_pending=True))
    qtbot.waitUntil(
        lambda: bar.sync_label.text() == "Reconstruction depuis le serveur", timeout=WAIT_MS
    )
    assert bar.sync_label.property("ok") is False
    # Online again but still rebuilding: not green yet.
    kiosk.on_sync_status(SyncStatus(state=SyncState.ONLINE, rebuild_pending=True))
    qtbot.wait(50)
    assert bar.sync_label.property("ok") is False

    checked = int(time.time() * 1000) - 7 * 3600 * 1000 - 1_000
    kiosk.on_sync_status(SyncStatus(state=SyncState.OFFLINE, clock_verified_ms=checked))
    qtbot.waitUntil(lambda: bar.clock_label.text() == "Heure non vérifiée depuis 7 h",
                    timeout=WAIT_MS)  # fmt: skip
    assert bar.clock_label.isVisibleTo(window) and bar.clock_label.property("ok") is False
    kiosk.set_language("ar")
    qtbot.waitUntil(lambda: "الساعة" in bar.clock_label.text(), timeout=WAIT_MS)
    # A heartbeat set the clock: the warning goes.
    kiosk.on_sync_status(
        SyncStatus(state=SyncState.ONLINE, clock_verified_ms=int(time.time() * 1000))
    )
    qtbot.waitUntil(lambda: not bar.clock_label.isVisibleTo(window), timeout=WAIT_MS)
    window.sounds.close()


def test_an_unplugged_camera_is_shown_and_its_return_too(
    qtbot: QtBot, site: Site, other_kiosk: list[Kiosk]
) -> None:
    camera = FakeCamera(plugged=False)
    kiosk = make_kiosk(site, source=camera)
    other_kiosk.append(kiosk)
    window = start_window(qtbot, kiosk)
    bar = window.status_panel
    qtbot.waitUntil(lambda: bar.camera_label.text() == "Caméra débranchée", timeout=WAIT_MS)
    assert window.idle.camera_label.isVisible()
    assert window.idle.camera_label.text().startswith("Caméra indisponible")
    assert kiosk.device_status()["camera"].startswith("unavailable")

    camera.plugged.set()
    qtbot.waitUntil(lambda: bar.camera_label.text() == "Caméra OK", timeout=WAIT_MS)
    assert not window.idle.camera_label.isVisible()
    qtbot.waitUntil(lambda: window.idle.preview.frames_shown > 0, timeout=WAIT_MS)
    window.sounds.close()


def test_no_sound_card_shows_no_audio_and_does_not_crash(
    qtbot: QtBot, window: KioskWindow, kiosk: Kiosk, site: Site
) -> None:
    window.sounds.has_device = False
    window.retranslate()
    assert window.status_panel.audio_label.text() == "Pas de son"
    kiosk.submit(site.code("home-ticket"))
    qtbot.waitUntil(lambda: window.answer.colour == GREEN, timeout=WAIT_MS)


def test_with_the_staffs_pins_synced_the_panel_asks_who_and_records_them(
    qtbot: QtBot, site: Site, other_kiosk: list[Kiosk]
) -> None:
    with Replica(site.db) as replica:
        cursor = replica.cursor
        rows = [
            StaffRow(name="leila.t", role="supervisor", pin_hash=hash_pin("482915")),
            StaffRow(name="karim.b", role="controller", pin_hash=hash_pin("135790")),
        ]
        changes = [Change.upsert(cursor + i + 1, row) for i, row in enumerate(rows)]
        replica.apply_changes(ChangeBatch(since=cursor, cursor=cursor + 2, changes=changes))
    kiosk = make_kiosk(site)
    other_kiosk.append(kiosk)
    window = start_window(qtbot, kiosk)
    qtbot.mouseClick(window.status_panel.supervisor_button, Qt.MouseButton.LeftButton)
    page = window.pin_page
    assert page.name_combo.isVisible() and page.prompt_label.text() == "Votre code PIN personnel"
    assert [page.name_combo.itemText(i) for i in range(page.name_combo.count())] == [
        "karim.b", "leila.t"]  # fmt: skip
    enter_pin(qtbot, window, PIN)  # the gate's own PIN: no longer
    assert window.stack.currentWidget() is page
    page.name_combo.setCurrentText("leila.t")
    enter_pin(qtbot, window, "482915")
    assert window.stack.currentWidget() is window.panel
    panel = window.panel
    assert panel.operator_edit.text() == "leila.t" and panel.operator_edit.isReadOnly()
    panel.why_edit.setText("ticket on a dead phone")
    qtbot.mouseClick(panel.manual_open_button, Qt.MouseButton.LeftButton)
    record = kiosk.recent_scans()[0]
    assert (record.reason, record.operator) == ("manual_open", "leila.t")
    qtbot.mouseClick(panel.back_button, Qt.MouseButton.LeftButton)
    assert kiosk.on_duty is None
