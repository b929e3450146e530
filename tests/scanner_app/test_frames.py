"""Frame sources: image folders and video files for real, a camera through a fake OpenCV capture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from bench.decoders import qr_image
from scanner_app.decoders import make_decoder
from scanner_app.frames import (
    Backoff,
    CameraSettings,
    CameraSource,
    CameraUnavailable,
    FrameSourceError,
    ImageFolderSource,
    Pacer,
    SourceStatus,
    VideoFileSource,
    open_source,
    to_gray,
)

CODE = "EG1:" + "6BFOXN*PZ6MN3KL$TL/Q-E:ZR%5M" * 10


def write_video(path: Path, frames: int, with_code: range, fps: float = 10.0) -> None:
    """An MJPEG video of gray 640x480 frames, the QR of CODE in frames ``with_code``."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (640, 480), False)
    assert writer.isOpened()
    qr = qr_image(CODE, module_px=4)
    for i in range(frames):
        image = np.full((480, 640), 128, np.uint8)
        if i in with_code:
            image[100 : 100 + qr.shape[0], 150 : 150 + qr.shape[1]] = qr
        writer.write(image)
    writer.release()


# -- grayscale ------------------------------------------------------------------------------------


def test_colour_frames_become_gray_once() -> None:
    bgr = np.zeros((4, 6, 3), np.uint8)
    bgr[:, :, 2] = 255  # pure red: pyzbar reading only channel 0 would see black
    gray = to_gray(bgr)
    assert gray.shape == (4, 6)
    assert gray.dtype == np.uint8
    assert gray[0, 0] == 76  # ITU-R BT.601 luma of red
    assert to_gray(np.zeros((4, 6, 4), np.uint8)).shape == (4, 6)
    assert to_gray(np.zeros((4, 6, 1), np.uint8)).shape == (4, 6)
    already = np.zeros((4, 6), np.uint8)
    assert to_gray(already) is already


def test_not_an_image_is_refused() -> None:
    with pytest.raises(ValueError, match="not an image"):
        to_gray(np.zeros((2, 3, 4, 5), np.uint8))


# -- image folders --------------------------------------------------------------------------------


def test_image_folder_reads_in_natural_order(tmp_path: Path) -> None:
    for i in (10, 2, 1):
        cv2.imwrite(str(tmp_path / f"frame-{i}.png"), np.full((8, 8, 3), i, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    source = ImageFolderSource(tmp_path, fps=4.0)
    assert [p.name for p in source.files] == ["frame-1.png", "frame-2.png", "frame-10.png"]
    frames = [source.read() for _ in range(3)]
    assert [f.image[0, 0] for f in frames if f] == [1, 2, 10]
    assert [(f.index, f.stream_time) for f in frames if f] == [(0, 0.0), (1, 0.25), (2, 0.5)]
    assert all(f is not None and f.image.ndim == 2 for f in frames)
    assert source.read() is None
    assert source.state.status is SourceStatus.ENDED


def test_image_folder_loops_and_keeps_counting(tmp_path: Path) -> None:
    for i in range(2):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((8, 8), i, np.uint8))
    source = ImageFolderSource(tmp_path, loop=True)
    frames = [source.read() for _ in range(5)]
    assert [(f.index, int(f.image[0, 0])) for f in frames if f] == [
        (0, 0),
        (1, 1),
        (2, 0),
        (3, 1),
        (4, 0),
    ]


def test_unreadable_image_is_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "0.png").write_bytes(b"not a png")
    cv2.imwrite(str(tmp_path / "1.png"), np.zeros((8, 8), np.uint8))
    frame = ImageFolderSource(tmp_path).read()
    assert frame is not None
    assert frame.index == 1
    assert "0.png" in caplog.text


def test_empty_or_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FrameSourceError, match="no images"):
        ImageFolderSource(tmp_path)
    with pytest.raises(FrameSourceError, match="no folder"):
        ImageFolderSource(tmp_path / "absent")


# -- video files ----------------------------------------------------------------------------------


def test_video_file_gives_every_frame_with_its_media_time(tmp_path: Path) -> None:
    path = tmp_path / "gate.avi"
    write_video(path, frames=12, with_code=range(4, 8))
    source = VideoFileSource(path)
    decoder = make_decoder()
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    assert len(frames) == 12
    assert source.fps == 10.0
    assert [f.stream_time for f in frames[:3]] == [0.0, 0.1, 0.2]
    assert all(f.image.shape == (480, 640) for f in frames)
    assert [i for i, f in enumerate(frames) if decoder.decode(f.image) == [CODE]] == [4, 5, 6, 7]
    assert source.state.status is SourceStatus.ENDED
    source.close()


def test_video_file_loops(tmp_path: Path) -> None:
    path = tmp_path / "short.avi"
    write_video(path, frames=3, with_code=range(0))
    source = VideoFileSource(path, loop=True)
    indexes = [f.index for f in (source.read() for _ in range(7)) if f is not None]
    assert indexes == list(range(7))
    source.close()


def test_unreadable_video_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.avi"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(FrameSourceError, match="cannot read"):
        VideoFileSource(bad)
    with pytest.raises(FrameSourceError, match="no video"):
        VideoFileSource(tmp_path / "absent.avi")


# -- choosing a source ----------------------------------------------------------------------------


def test_open_source_reads_the_spec(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "0.png"), np.zeros((8, 8), np.uint8))
    video = tmp_path / "v.avi"
    write_video(video, frames=2, with_code=range(0))
    camera = open_source("2", open_capture=FakeDevice().open)
    assert isinstance(camera, CameraSource)
    assert camera.device == 2
    assert camera.state.status is SourceStatus.STARTING
    by_path = open_source(CameraSettings(source="/dev/video4", width=640, height=480))
    assert isinstance(by_path, CameraSource)
    assert (by_path.device, by_path.width, by_path.height) == ("/dev/video4", 640, 480)
    assert isinstance(open_source(str(tmp_path)), ImageFolderSource)
    assert isinstance(open_source(str(video)), VideoFileSource)
    with pytest.raises(FrameSourceError, match="no camera, folder or video"):
        open_source(str(tmp_path / "nothing"))


# -- cameras --------------------------------------------------------------------------------------


class FakeDevice:
    """A USB camera the test plugs and unplugs; ``open`` plays ``cv2.VideoCapture``."""

    def __init__(self) -> None:
        self.plugged = True
        self.opened: list[int | str] = []
        self.settings: dict[int, float] = {}
        self.released = 0

    def open(self, device: int | str) -> FakeCapture:
        self.opened.append(device)
        return FakeCapture(self)


class FakeCapture:
    def __init__(self, device: FakeDevice) -> None:
        self.device = device
        self.open = device.plugged

    def isOpened(self) -> bool:
        return self.open

    def read(self) -> tuple[bool, Any]:
        if not (self.open and self.device.plugged):
            return False, None
        return True, np.full((720, 1280, 3), 200, np.uint8)

    def set(self, prop: int, value: float, /) -> bool:
        self.device.settings[prop] = value
        return True

    def get(self, prop: int, /) -> float:
        return self.device.settings.get(prop, 0.0)

    def release(self) -> None:
        self.open = False
        self.device.released += 1


def test_camera_asks_for_the_configured_mode() -> None:
    device = FakeDevice()
    camera = CameraSource(0, width=1280, height=720, fps=30.0, open_capture=device.open)
    frame = camera.read()
    assert frame.image.shape == (720, 1280)
    assert frame.stream_time == frame.captured_at
    assert str(camera.state) == "ok"
    assert device.settings[cv2.CAP_PROP_FRAME_WIDTH] == 1280
    assert device.settings[cv2.CAP_PROP_FRAME_HEIGHT] == 720
    assert device.settings[cv2.CAP_PROP_FPS] == 30.0
    assert device.settings[cv2.CAP_PROP_BUFFERSIZE] == 1
    assert device.settings[cv2.CAP_PROP_FOURCC] == cv2.VideoWriter.fourcc(*"MJPG")


def test_camera_unplugged_then_plugged_back() -> None:
    device = FakeDevice()
    device.plugged = False
    camera = CameraSource("/dev/video0", open_capture=device.open)
    with pytest.raises(CameraUnavailable, match="cannot open camera /dev/video0"):
        camera.read()
    assert camera.state.status is SourceStatus.UNAVAILABLE
    assert str(camera.state).startswith("unavailable: cannot open")

    device.plugged = True
    camera.reopen()
    assert camera.read().index == 0
    assert camera.state.ok

    device.plugged = False  # pulled out while streaming
    with pytest.raises(CameraUnavailable, match="stopped delivering"):
        camera.read()
    assert (
        str(camera.state)
        == "unavailable: camera /dev/video0 stopped delivering frames (unplugged?)"
    )
    with pytest.raises(CameraUnavailable):
        camera.reopen()

    device.plugged = True
    camera.reopen()
    assert camera.read().index == 1
    assert camera.state.ok
    camera.close()
    assert device.released == len(device.opened)


@pytest.mark.parametrize("device", [63, "/dev/video63"])
def test_no_camera_through_real_opencv(device: int | str) -> None:
    """The production path (cv2.VideoCapture over V4L2) on a machine with no such camera."""
    camera = CameraSource(device)
    with pytest.raises(CameraUnavailable, match="cannot open"):
        camera.read()
    assert camera.state.status is SourceStatus.UNAVAILABLE
    camera.close()


def test_camera_unavailable_is_also_an_oserror() -> None:
    assert issubclass(CameraUnavailable, FrameSourceError)
    assert issubclass(CameraUnavailable, OSError)


# -- pacing and backoff ---------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_pacer_holds_a_file_to_its_frame_rate() -> None:
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock, sleep=clock.sleep)
    pacer.wait()  # the first frame goes at once
    clock.now += 0.03  # decoding took 30 ms
    pacer.wait()
    pacer.wait()
    assert clock.slept == [0.07, 0.1]
    clock.now += 5.0  # far behind: no rush to catch up
    pacer.wait()
    pacer.wait()
    assert clock.slept[-1] == 0.1


def test_backoff_doubles_up_to_its_cap_and_resets() -> None:
    backoff = Backoff(base_s=0.5, cap_s=3.0)
    assert [backoff.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5
    endless = Backoff(base_s=0.0, cap_s=0.0)
    assert {endless.next_delay() for _ in range(5000)} == {0.0}
