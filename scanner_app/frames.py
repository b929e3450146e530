"""Frame sources: a USB camera (OpenCV), a video file or a folder of images, behind one interface.

Every source hands out grayscale :class:`Frame` objects (decoders want gray, and pyzbar silently
reads only the first channel of a colour image). A camera that fails raises
:class:`CameraUnavailable` and can be reopened; :attr:`FrameSource.state` says what the kiosk's
status bar and the heartbeat should show.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn, Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from scanner_app.config import CameraSettings

log = logging.getLogger(__name__)

GrayImage = NDArray[np.uint8]
"""A 2-D ``uint8`` image: one byte of luminance per pixel."""

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm"})
DEFAULT_VIDEO_FPS = 30.0
"""Used when a video file does not say its frame rate."""

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class FrameSourceError(Exception):
    """A frame source cannot be opened or read; the message names it and says what to check."""


class CameraUnavailable(FrameSourceError, OSError):
    """The camera cannot be opened or stopped delivering frames (unplugged, busy, no permission)."""


class SourceStatus(StrEnum):
    STARTING = "starting"
    """Not opened yet: a camera opens at its first read."""
    OK = "ok"
    UNAVAILABLE = "unavailable"
    ENDED = "ended"
    """A video or image folder read to its end (never a camera)."""


@dataclass(frozen=True, slots=True)
class SourceState:
    """What a source is doing now; ``str()`` gives the status bar text ("unavailable: ...")."""

    status: SourceStatus
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.status}: {self.detail}" if self.detail else str(self.status)

    @property
    def ok(self) -> bool:
        return self.status is SourceStatus.OK


OK = SourceState(SourceStatus.OK)


@dataclass(frozen=True, slots=True)
class Frame:
    """One grayscale frame, stamped with ``time.monotonic()`` when the source handed it out."""

    image: GrayImage
    captured_at: float
    """Monotonic time of capture: frame-to-decision latency is measured from here."""
    index: int
    """Position in the source, from 0 (a looping source keeps counting)."""
    stream_time: float
    """The frame's time in its stream, in seconds: the capture clock for a camera, the media time
    for a file. Debouncing uses it, so a fast replay debounces as the live camera would."""


class FrameSource(Protocol):
    """Anything the scanning worker can pull frames from."""

    @property
    def name(self) -> str: ...

    @property
    def state(self) -> SourceState: ...

    def read(self) -> Frame | None:
        """The next frame, or ``None`` at the end of a finite source; raises FrameSourceError."""
        ...

    def reopen(self) -> None:
        """Release and open again (after a failure); raises FrameSourceError if it cannot."""
        ...

    def close(self) -> None: ...


class Capture(Protocol):
    """The part of ``cv2.VideoCapture`` the sources use (tests inject a fake)."""

    def isOpened(self) -> bool: ...  # noqa: N802 - OpenCV's name

    def read(self) -> tuple[bool, Any]: ...

    def set(self, prop: int, value: float, /) -> bool: ...

    def get(self, prop: int, /) -> float: ...

    def release(self) -> None: ...


CaptureFactory = Callable[[int | str], Capture]


def to_gray(image: NDArray[Any]) -> GrayImage:
    """The image as contiguous 2-D ``uint8`` luminance (BGR and BGRA are converted once)."""
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    elif image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim != 2:
        raise ValueError(f"not an image: array of shape {image.shape}")
    return np.ascontiguousarray(image, dtype=np.uint8)


@dataclass
class Backoff:
    """Delays between reopening attempts: ``base_s`` doubling up to ``cap_s``, reset on success."""

    base_s: float = 0.5
    cap_s: float = 5.0
    _attempt: int = 0

    def next_delay(self) -> float:
        delay = min(self.cap_s, self.base_s * 2.0**self._attempt)
        if delay < self.cap_s:
            self._attempt += 1  # past the cap, stop counting: 2.0**1024 overflows
        return delay

    def reset(self) -> None:
        self._attempt = 0


class Pacer:
    """Holds a file source to its frame rate so that it behaves like a live camera."""

    def __init__(self, fps: float, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep):
        self.interval = 1.0 / fps
        self._clock, self._sleep = clock, sleep
        self._next: float | None = None

    def wait(self) -> None:
        now = self._clock()
        if self._next is not None and now < self._next:
            self._sleep(self._next - now)
            now = self._next
        # Late by more than a frame: start afresh rather than rush to catch up.
        behind = self._next is not None and now - self._next > self.interval
        self._next = (now if self._next is None or behind else self._next) + self.interval


def open_cv_capture(device: int | str) -> Capture:
    """The real camera: ``cv2.VideoCapture``, through V4L2 on Linux."""
    backend = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
    capture: Capture = cv2.VideoCapture(device, backend)
    return capture


class CameraSource:
    """A USB camera by index or device path; opened at the first read, reopened after a failure."""

    def __init__(
        self,
        device: int | str,
        *,
        width: int = 1280,
        height: int = 720,
        fps: float = 30.0,
        fourcc: str = "MJPG",
        open_capture: CaptureFactory = open_cv_capture,
        clock: Clock = time.monotonic,
    ) -> None:
        self.device = device
        self.width, self.height, self.fps, self.fourcc = width, height, fps, fourcc
        self._open_capture = open_capture
        self._clock = clock
        self._capture: Capture | None = None
        self._state = SourceState(SourceStatus.STARTING)
        self._index = 0

    @property
    def name(self) -> str:
        return f"camera {self.device}"

    @property
    def state(self) -> SourceState:
        return self._state

    def open(self) -> None:
        """Open the device and ask for the configured mode; raises CameraUnavailable."""
        self.close()
        capture = self._open_capture(self.device)
        if not capture.isOpened():
            capture.release()
            self._fail(f"cannot open {self.name} (unplugged, busy or no permission?)")
        if self.fourcc:
            capture.set(cv2.CAP_PROP_FOURCC, float(cv2.VideoWriter.fourcc(*self.fourcc)))
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, float(self.width))
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, float(self.height))
        capture.set(cv2.CAP_PROP_FPS, float(self.fps))
        # Keep the driver's queue short: the worker wants the newest frame, not a backlog.
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1.0)
        self._capture = capture
        got = (capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if got != (self.width, self.height):
            log.warning("%s gives %gx%g, not %dx%d", self.name, *got, self.width, self.height)

    def read(self) -> Frame:
        if self._capture is None:
            self.open()
        assert self._capture is not None
        ok, image = self._capture.read()
        if not ok or image is None:
            self.close()
            self._fail(f"{self.name} stopped delivering frames (unplugged?)")
        now = self._clock()
        frame = Frame(to_gray(image), now, self._index, now)
        self._index += 1
        self._state = OK
        return frame

    def reopen(self) -> None:
        self.open()
        self._state = OK

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def _fail(self, detail: str) -> NoReturn:
        self._state = SourceState(SourceStatus.UNAVAILABLE, detail)
        raise CameraUnavailable(detail)


class VideoFileSource:
    """A video file read frame by frame, optionally looping and paced to its own frame rate."""

    def __init__(
        self,
        path: Path,
        *,
        loop: bool = False,
        realtime: bool = False,
        open_capture: Callable[[str], Capture] = cv2.VideoCapture,
        clock: Clock = time.monotonic,
    ) -> None:
        self.path, self.loop = path, loop
        self._open_capture, self._clock = open_capture, clock
        self._capture = self._open()
        self.fps = self._capture.get(cv2.CAP_PROP_FPS) or DEFAULT_VIDEO_FPS
        self._pacer = Pacer(self.fps, clock=clock) if realtime else None
        self._index = 0
        self._state = OK

    @property
    def name(self) -> str:
        return f"video {self.path}"

    @property
    def state(self) -> SourceState:
        return self._state

    def _open(self) -> Capture:
        if not self.path.is_file():
            raise FrameSourceError(f"no video file at {self.path}")
        capture = self._open_capture(str(self.path))
        if not capture.isOpened():
            capture.release()
            raise FrameSourceError(f"{self.path}: OpenCV cannot read this video (format, codec?)")
        return capture

    def read(self) -> Frame | None:
        ok, image = self._capture.read()
        if (not ok or image is None) and self.loop and self._index > 0:
            self._capture.release()
            self._capture = self._open()
            ok, image = self._capture.read()
        if not ok or image is None:
            self._state = SourceState(SourceStatus.ENDED, str(self.path))
            return None
        if self._pacer is not None:
            self._pacer.wait()
        frame = Frame(to_gray(image), self._clock(), self._index, self._index / self.fps)
        self._index += 1
        return frame

    def reopen(self) -> None:
        self._capture.release()
        self._capture = self._open()
        self._state = OK

    def close(self) -> None:
        self._capture.release()


class ImageFolderSource:
    """A folder's images in natural order (frame-2 before frame-10), ``fps`` frames a second."""

    def __init__(
        self,
        folder: Path,
        *,
        fps: float = 30.0,
        loop: bool = False,
        realtime: bool = False,
        clock: Clock = time.monotonic,
    ) -> None:
        if not folder.is_dir():
            raise FrameSourceError(f"no folder at {folder}")
        self.folder, self.fps, self.loop = folder, fps, loop
        self.files = image_files(folder)
        if not self.files:
            suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
            raise FrameSourceError(f"{folder} holds no images ({suffixes})")
        self._clock = clock
        self._pacer = Pacer(fps, clock=clock) if realtime else None
        self._index = 0
        self._state = OK

    @property
    def name(self) -> str:
        return f"images in {self.folder}"

    @property
    def state(self) -> SourceState:
        return self._state

    def read(self) -> Frame | None:
        while True:
            position = self._index % len(self.files) if self.loop else self._index
            if position >= len(self.files):
                self._state = SourceState(SourceStatus.ENDED, str(self.folder))
                return None
            path = self.files[position]
            image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if self._pacer is not None:
                self._pacer.wait()
            index = self._index
            self._index += 1
            if image is None:
                log.warning("skipping %s: not an image OpenCV can read", path)
                continue
            return Frame(to_gray(image), self._clock(), index, index / self.fps)

    def reopen(self) -> None:
        self._state = OK

    def close(self) -> None:
        """Nothing to release: each image is read and closed by OpenCV."""


def image_files(folder: Path) -> list[Path]:
    """The folder's image files, sorted naturally (numbers compared as numbers)."""
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    return sorted(files, key=lambda p: _natural_key(p.name))


def _natural_key(name: str) -> tuple[tuple[str, int], ...]:
    """("frame-", 10), (".png", -1) for "frame-10.png": text runs paired with the number after."""
    parts = re.split(r"(\d+)", name)
    numbers = [int(n) for n in parts[1::2]] + [-1]
    return tuple(zip(parts[0::2], numbers, strict=True))


def open_source(
    spec: str | CameraSettings,
    *,
    realtime: bool = True,
    open_capture: CaptureFactory = open_cv_capture,
) -> FrameSource:
    """The source a spec names: "0" or "/dev/video0" a camera, a folder of images, a video file.

    ``realtime`` paces files to their frame rate, as a camera would deliver them; a replay turns
    it off to go as fast as the decoder allows. Cameras are opened at their first read.
    """
    settings = spec if isinstance(spec, CameraSettings) else CameraSettings(source=spec)
    text = settings.source.strip()
    path = Path(text)
    if text.isdigit() or text.startswith("/dev/"):
        return CameraSource(
            int(text) if text.isdigit() else text,
            width=settings.width,
            height=settings.height,
            fps=settings.fps,
            fourcc=settings.fourcc,
            open_capture=open_capture,
        )
    if path.is_dir():
        return ImageFolderSource(path, fps=settings.fps, loop=settings.loop, realtime=realtime)
    if path.is_file():
        return VideoFileSource(path, loop=settings.loop, realtime=realtime)
    raise FrameSourceError(
        f"no camera, folder or video file at {text!r}: give a device index (0), a device path "
        "(/dev/video0), a folder of images or a video file"
    )
