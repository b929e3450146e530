"""``gate-scanner replay`` end to end: QR images and a video of demo codes, decided and recorded."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.decoders import qr_image
from scanner_app.cli import main
from scanner_app.demo import DemoSite, build_demo
from scanner_app.replica import Replica
from tests.scanner_app.test_frames import write_video


@pytest.fixture
def demo(tmp_path: Path) -> tuple[Path, DemoSite]:
    db = tmp_path / "gate.db"
    with Replica(db) as replica:
        site = build_demo(replica, rights=60, now=datetime.now(UTC))
        replica.set_gate_name("NORD-1")
    return db, site


def sample(site: DemoSite, label: str) -> str:
    return next(s.code for s in site.samples if s.label == label)


def photo(code: str | None) -> np.ndarray:
    """A 640x480 gray photo with the code's QR in it (or none)."""
    image = np.full((480, 640), 170, np.uint8)
    if code is not None:
        qr = qr_image(code, module_px=4)
        image[60 : 60 + qr.shape[0], 180 : 180 + qr.shape[1]] = qr
    return image


def write_folder(folder: Path, codes: list[str | None]) -> Path:
    folder.mkdir()
    for i, code in enumerate(codes):
        # Colour files, as a phone would save them: the source turns them gray.
        cv2.imwrite(str(folder / f"scan-{i}.jpg"), cv2.cvtColor(photo(code), cv2.COLOR_GRAY2BGR))
    return folder


def replay_json(
    capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, list[dict[str, object]], str]:
    status = main(["replay", *args, "--json"])
    out, err = capsys.readouterr()
    return status, [json.loads(line) for line in out.splitlines()], err


def test_replay_of_an_image_folder_decides_every_presentation(
    tmp_path: Path, demo: tuple[Path, DemoSite], capsys: pytest.CaptureFixture[str]
) -> None:
    db, site = demo
    home = sample(site, "home-ticket")
    shown: list[tuple[str | None, str | None]] = [
        (home, "granted"),
        (None, None),
        (home, "already_used"),
        (sample(site, "away-ticket"), "wrong_zone"),
        (sample(site, "vip-subscription"), "wrong_zone"),
        (sample(site, "staff-badge"), "granted"),
        (sample(site, "revoked"), "revoked"),
        (sample(site, "banned-holder"), "blacklisted"),
        (sample(site, "tampered"), "invalid_signature"),
        (sample(site, "malformed"), "malformed"),
    ]
    folder = write_folder(tmp_path / "photos", [code for code, _ in shown])
    # One image every 4 s: each photo is a presentation of its own, beyond the 2 s debounce.
    status, lines, err = replay_json(capsys, str(folder), "--db", str(db), "--fps", "0.25")
    assert status == 0
    expected = [(i, code, reason) for i, (code, reason) in enumerate(shown) if code is not None]
    assert [(line["frame"], line["code"], line["reason"]) for line in lines] == expected
    assert all(isinstance(line["latency_ms"], float) and line["latency_ms"] > 0 for line in lines)
    assert "10 frames, 9 scans" in err
    with Replica(db) as replica:
        assert replica.counts().scans == 9  # every decision was recorded


def test_consecutive_frames_of_one_code_are_one_scan(
    tmp_path: Path, demo: tuple[Path, DemoSite], capsys: pytest.CaptureFixture[str]
) -> None:
    db, site = demo
    home, staff = sample(site, "home-ticket"), sample(site, "staff-badge")
    folder = write_folder(tmp_path / "burst", [home, home, home, None, home, staff])
    status, lines, _ = replay_json(capsys, str(folder), "--db", str(db))  # 30 images a second
    assert status == 0
    assert [(line["frame"], line["reason"]) for line in lines] == [(0, "granted"), (5, "granted")]


def test_replay_of_a_video(
    tmp_path: Path, demo: tuple[Path, DemoSite], capsys: pytest.CaptureFixture[str]
) -> None:
    db, site = demo
    video = tmp_path / "gate.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (640, 480), False)
    home = sample(site, "home-ticket")
    for i in range(40):  # 4 s: the code held up from 0.5 to 1.5 s, then again from 3.6 s
        writer.write(photo(home if 5 <= i < 15 or i >= 36 else None))
    writer.release()
    status, lines, _ = replay_json(capsys, str(video), "--db", str(db), "--decoder", "pyzbar")
    assert status == 0
    assert [(line["frame"], line["reason"]) for line in lines] == [
        (5, "granted"),
        (36, "already_used"),
    ]


def test_replay_prints_one_readable_line_per_scan(
    tmp_path: Path, demo: tuple[Path, DemoSite], capsys: pytest.CaptureFixture[str]
) -> None:
    db, site = demo
    video = tmp_path / "v.avi"
    write_video(video, frames=3, with_code=range(0))
    folder = write_folder(tmp_path / "one", [sample(site, "staff-badge")])
    assert main(["replay", str(folder), "--db", str(db), "--gate", "VIP-1"]) == 0
    out, err = capsys.readouterr()
    (line,) = out.splitlines()
    assert line.startswith("frame     0  GRANTED granted")
    assert " ms  EG1:" in line
    assert "1 frames, 1 scans: granted 1" in err
    assert main(["replay", str(video), "--db", str(db)]) == 0
    assert capsys.readouterr().err.strip() == "3 frames, 0 scans: no code"


def test_replay_errors_say_what_is_wrong(
    tmp_path: Path, demo: tuple[Path, DemoSite], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = demo
    assert main(["replay", str(tmp_path / "nothing"), "--db", str(db)]) == 2
    assert "no camera, folder or video file" in capsys.readouterr().err
    folder = write_folder(tmp_path / "f", [None])
    assert main(["replay", str(folder), "--db", str(db), "--decoder", "zbar"]) == 2
    assert "no decoder 'zbar'" in capsys.readouterr().err
    assert main(["replay", str(folder), "--db", str(tmp_path / "none.db")]) == 2
    assert "seed-demo" in capsys.readouterr().err
