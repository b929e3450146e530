"""A terminal's first start (issue 17): before it is enrolled it reads codes from its camera and
code reader; the back office's enrollment QR makes it a gate (configuration, token 0600, the
gate's data pulled) with no command typed. Anything else is said not to be one, a spent code is
refused with the server's words, and an enrolled gate never listens for links."""

from __future__ import annotations

import stat
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from scanner_app.config import TerminalConfig
from scanner_app.first_start import FirstStart, FirstStartState, Step
from scanner_app.frames import ImageFolderSource
from sync_server import enrollment_link, qr
from tests.support.server import RunningServer
from tests.support.site import Site, ok


def _link(site: Site, gate: str = "NORD-1") -> str:
    code = ok(site.admin.post(f"/venues/{site.venue}/gates/{gate}/enrollment"), 201)["code"]
    return enrollment_link.link(site.server.url, code, [])


def _wait(
    model: FirstStart, done: Callable[[FirstStartState], bool], timeout_s: float = 20.0
) -> FirstStartState:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = model.state
        if done(state):
            return state
        time.sleep(0.05)
    raise AssertionError(f"still {model.state}")


def test_the_back_offices_link_makes_the_terminal_a_gate(
    server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    config_path = tmp_path / "gate.toml"
    model = FirstStart(config_path)
    seen: list[Step] = []
    model.state_changed.connect(lambda s: seen.append(s.step))
    model.submit("EG1:not-an-enrollment-code")
    assert model.state.step is Step.NOT_A_LINK
    model.submit("ENTRIX-ENROLL:ftp://nowhere#X")
    assert model.state.step is Step.FAILED and "server's URL" in model.state.detail
    model.submit(_link(site))
    state = _wait(model, lambda s: s.step in (Step.ENROLLED, Step.FAILED))
    assert state.step is Step.ENROLLED, state
    assert seen[-2:] == [Step.ENROLLING, Step.ENROLLED]
    config = TerminalConfig.load(config_path)
    assert (config.server, config.venue, config.gate) == (server.url, site.venue, "NORD-1")
    assert stat.S_IMODE(config.token_path.stat().st_mode) == 0o600
    assert state.enrolled is not None and state.enrolled.counts.layouts == 1
    model.submit(_link(site, "SUD-1"))  # enrolled: nothing more is read as a link
    assert model.state.step is Step.ENROLLED and TerminalConfig.load(config_path).gate == "NORD-1"


def test_a_spent_code_is_refused_with_the_servers_words_and_another_is_taken(
    server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    link = _link(site)
    first = FirstStart(tmp_path / "a" / "gate.toml")
    first.submit(link)
    assert _wait(first, lambda s: s.step is not Step.ENROLLING).step is Step.ENROLLED
    second = FirstStart(tmp_path / "b" / "gate.toml")
    second.submit(link)
    refused = _wait(second, lambda s: s.step is not Step.ENROLLING)
    assert refused.step is Step.FAILED and refused.detail
    assert not (tmp_path / "b" / "gate.toml").exists()
    second.submit(_link(site))  # a fresh one from the back office
    assert _wait(second, lambda s: s.step is not Step.ENROLLING).step is Step.ENROLLED


def test_the_camera_reads_the_qr_the_back_office_shows(
    server: RunningServer, tmp_path: Path
) -> None:
    """The QR as the page draws it (segno's SVG there, its PNG here), on a grey screen, through
    the camera's pipeline (frames, decoder, debouncer): the terminal enrolls."""
    site = Site.create(server)
    png = qr.render(_link(site, "VIP-1"), "png", scale=8)
    code = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    screen = np.full((720, 1280), 200, np.uint8)
    h, w = code.shape
    screen[100 : 100 + h, 400 : 400 + w] = code
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(5):
        cv2.imwrite(str(frames / f"frame-{i}.png"), screen)
    model = FirstStart(tmp_path / "gate.toml", source=ImageFolderSource(frames, fps=10, loop=True))
    model.start()
    try:
        state = _wait(model, lambda s: s.step in (Step.ENROLLED, Step.FAILED))
    finally:
        model.stop()
    assert state.step is Step.ENROLLED, state
    assert TerminalConfig.load(tmp_path / "gate.toml").gate == "VIP-1"


@pytest.mark.parametrize("typed", ["\r", "\n"])
def test_a_code_reader_can_type_the_link(server: RunningServer, tmp_path: Path, typed: str) -> None:
    site = Site.create(server)
    model = FirstStart(tmp_path / "gate.toml")
    at = 100.0
    for char in _link(site) + typed:
        model.key(char, at)
        at += 0.005  # a scanner types fast
    assert _wait(model, lambda s: s.step is not Step.ENROLLING).step is Step.ENROLLED
