"""A camera for demos with no camera: the demo's sample codes as QR codes, one after another.

Each code is shown for ``show_s`` seconds on a plain background, then an empty frame for ``gap_s``
seconds, like a queue of supporters holding up their tickets. Frames are grayscale like a real
camera's (see :mod:`scanner_app.frames`) and paced to ``fps``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import segno

from scanner_app.frames import OK, Clock, Frame, FrameSourceError, GrayImage, Pacer, SourceState
from shared.demo_site import read_sample_codes

BACKGROUND = 118
"""A mid gray, like a concourse behind a ticket."""


def sample_codes(path: Path) -> list[str]:
    """The codes of a ``seed-demo`` codes file (label, code, expected, note; ``#`` comments)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FrameSourceError(
            f"no sample codes at {path}: build the demo with 'gate-scanner seed-demo'"
        ) from None
    codes = read_sample_codes(text)
    if not codes:
        raise FrameSourceError(f"{path} holds no sample codes")
    return codes


FALLBACK_CODES = ("DEMO-0001", "DEMO-0002")
"""Shown when the gate has no sample codes (an enrolled gate): the camera works, the codes are
unknown to the replica."""


def demo_codes(path: Path) -> list[str]:
    """The sample codes beside the replica, or placeholder codes when there are none."""
    if not path.is_file():
        return list(FALLBACK_CODES)
    return sample_codes(path)


def qr_frame(code: str | None, width: int, height: int) -> GrayImage:
    """A ``width`` x ``height`` frame with the code's QR in the middle (or none)."""
    frame = np.full((height, width), BACKGROUND, np.uint8)
    if code is None:
        return frame
    qr = segno.make_qr(code, error="m", boost_error=False)
    border = 4
    modules = np.array(qr.matrix, dtype=np.uint8)  # 1: dark module
    modules = np.pad(modules, border)
    scale = max(1, int(min(width, height) * 0.6) // modules.shape[0])
    image = np.where(np.kron(modules, np.ones((scale, scale), np.uint8)) > 0, 20, 235)
    image = image.astype(np.uint8)
    h, w = image.shape
    if h > height or w > width:
        raise FrameSourceError(f"a {w}x{h} QR code does not fit a {width}x{height} frame")
    top, left = (height - h) // 2, (width - w) // 2
    frame[top : top + h, left : left + w] = image
    return frame


class DemoCamera:
    """A :class:`~scanner_app.frames.FrameSource` showing ``codes`` in turn, forever."""

    def __init__(
        self,
        codes: Sequence[str],
        *,
        width: int = 1280,
        height: int = 720,
        fps: float = 30.0,
        show_s: float = 2.0,
        gap_s: float = 2.5,
        realtime: bool = True,
        clock: Clock = time.monotonic,
    ) -> None:
        if not codes:
            raise FrameSourceError("the demo camera needs at least one code to show")
        self.codes = list(codes)
        self.fps = fps
        self._show_frames = max(1, round(show_s * fps))
        self._cycle = self._show_frames + max(1, round(gap_s * fps))
        self._blank = qr_frame(None, width, height)
        self._blank.setflags(write=False)
        self._images: dict[int, GrayImage] = {}
        self._width, self._height = width, height
        self._pacer = Pacer(fps, clock=clock) if realtime else None
        self._clock = clock
        self._index = 0

    @property
    def name(self) -> str:
        return f"demo camera ({len(self.codes)} codes)"

    @property
    def state(self) -> SourceState:
        return OK

    def code_at(self, index: int) -> str | None:
        """The code frame ``index`` shows, or None for an empty frame."""
        position = index % self._cycle
        if position >= self._show_frames:
            return None
        return self.codes[(index // self._cycle) % len(self.codes)]

    def read(self) -> Frame:
        if self._pacer is not None:
            self._pacer.wait()
        index = self._index
        self._index += 1
        code_number = (index // self._cycle) % len(self.codes)
        image = self._blank if self.code_at(index) is None else self._image(code_number)
        return Frame(image, self._clock(), index, index / self.fps)

    def _image(self, code_number: int) -> GrayImage:
        image = self._images.get(code_number)
        if image is None:
            image = qr_frame(self.codes[code_number], self._width, self._height)
            image.setflags(write=False)
            self._images[code_number] = image
        return image

    def reopen(self) -> None:
        """Nothing to reopen: the demo camera never fails."""

    def close(self) -> None:
        self._images.clear()
