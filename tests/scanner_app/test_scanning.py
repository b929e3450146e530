"""The scanning worker: newest frame only, one scan per presentation, a camera that comes back.

Threads are synchronised with events and queues, never with sleeps or timed assertions; the
generous timeouts only keep a broken test from hanging.
"""

from __future__ import annotations

import queue
import threading

import numpy as np

from scanner_app.frames import (
    OK,
    Backoff,
    CameraSource,
    Frame,
    GrayImage,
    SourceState,
    SourceStatus,
)
from scanner_app.scanning import (
    Debouncer,
    LatestFrame,
    ScanPipeline,
    ScanSettings,
    ScanWorker,
)

WAIT_S = 10.0


def frame(index: int, code: str = "", at: float | None = None) -> Frame:
    """A tiny frame whose first pixel says which code the fake decoder should see in it."""
    image = np.zeros((2, 2), np.uint8)
    image[0, 0] = CODES.index(code)
    t = float(index) if at is None else at
    return Frame(image, t, index, t)


CODES = ["", "EG1:A", "EG1:B"]


class PixelDecoder:
    """Reads frame() images; optionally holds the decoding of chosen frames until released."""

    name = "pixel"

    def __init__(self, hold: set[int] | None = None) -> None:
        self.hold = hold or set()
        self.seen: list[int] = []
        self.started: queue.Queue[int] = queue.Queue()
        self.release = threading.Event()

    def decode(self, gray: GrayImage) -> list[str]:
        index = len(self.seen)
        self.seen.append(int(gray[1, 1]))
        self.started.put(index)
        if index in self.hold:
            assert self.release.wait(WAIT_S)
        code = CODES[int(gray[0, 0])]
        return [code] if code else []


class ScriptedSource:
    """Hands out the frames the test feeds it; ``None`` ends it. Records each read request."""

    name = "scripted"

    def __init__(self) -> None:
        self.feed: queue.Queue[Frame | None] = queue.Queue()
        self.reads = threading.Semaphore(0)
        self.closed = threading.Event()
        self._state: SourceState = OK

    @property
    def state(self) -> SourceState:
        return self._state

    def read(self) -> Frame | None:
        self.reads.release()
        item = self.feed.get(timeout=WAIT_S)
        if item is None:
            self._state = SourceState(SourceStatus.ENDED)
        return item

    def reopen(self) -> None:
        """Nothing to reopen."""

    def close(self) -> None:
        self.closed.set()


def numbered(index: int, code: str = "") -> Frame:
    f = frame(index, code)
    f.image[1, 1] = index
    return f


# -- debouncing -----------------------------------------------------------------------------------


def test_a_code_held_up_is_one_scan() -> None:
    debouncer = Debouncer(window_s=2.0)
    seen = [debouncer.admit(["EG1:A"], at / 10) for at in range(50)]  # 5 s in view
    assert seen[0] == ["EG1:A"]
    assert all(s == [] for s in seen[1:])


def test_a_code_shown_again_after_the_window_is_a_new_scan() -> None:
    debouncer = Debouncer(window_s=2.0)
    assert debouncer.admit(["EG1:A"], 0.0) == ["EG1:A"]
    assert debouncer.admit([], 1.0) == []
    assert debouncer.admit(["EG1:A"], 1.9) == []  # a missed frame or two: same presentation
    assert debouncer.admit(["EG1:A"], 4.0) == ["EG1:A"]


def test_two_codes_in_view_are_two_scans() -> None:
    debouncer = Debouncer()
    assert debouncer.admit(["EG1:A", "EG1:B"], 0.0) == ["EG1:A", "EG1:B"]
    assert debouncer.admit(["EG1:B"], 0.1) == []


def test_pipeline_decodes_and_debounces_on_stream_time() -> None:
    pipeline = ScanPipeline(PixelDecoder(), Debouncer(2.0), clock=lambda: 99.0)
    first = pipeline.process(frame(0, "EG1:A", at=10.0))
    assert [(s.code, s.captured_at, s.decoded_at, s.frame_index) for s in first] == [
        ("EG1:A", 10.0, 99.0, 0)
    ]
    assert pipeline.process(frame(1, "EG1:A", at=11.0)) == []
    assert [s.code for s in pipeline.process(frame(2, "EG1:A", at=13.5))] == ["EG1:A"]


def test_pipeline_from_settings() -> None:
    pipeline = ScanPipeline.from_settings(ScanSettings(decoder="pyzbar", debounce_s=0.5))
    assert pipeline.decoder.name == "pyzbar"
    assert pipeline.debouncer.window_s == 0.5


# -- the newest frame only ------------------------------------------------------------------------


def test_mailbox_keeps_only_the_newest_frame() -> None:
    slot = LatestFrame()
    assert slot.put(numbered(0)) is False
    assert slot.put(numbered(1)) is True
    assert slot.put(numbered(2)) is True
    taken = slot.take(timeout=WAIT_S)
    assert taken is not None
    assert taken.index == 2
    slot.close()
    assert slot.take() is None


def test_worker_decodes_the_newest_frame_and_drops_stale_ones() -> None:
    source = ScriptedSource()
    decoder = PixelDecoder(hold={0})
    found: list[tuple[str, float]] = []
    worker = ScanWorker(
        source,
        ScanPipeline(decoder, Debouncer()),
        on_scan=lambda code, at: found.append((code, at)),
    )
    worker.start()
    source.feed.put(numbered(0))
    assert decoder.started.get(timeout=WAIT_S) == 0  # the decoder is busy with frame 0 ...
    for i in (1, 2, 3):
        source.feed.put(numbered(i, "EG1:A"))
    for _ in range(5):  # ... while frames 1-3 are read (the 5th read is for what comes next)
        assert source.reads.acquire(timeout=WAIT_S)
    decoder.release.set()
    source.feed.put(None)
    assert worker.wait(WAIT_S)
    assert decoder.seen == [0, 3]
    assert worker.stats.dropped == 2
    assert worker.stats.captured == 4
    assert found == [("EG1:A", 3.0)]
    assert worker.state.status is SourceStatus.ENDED
    assert source.closed.is_set()


def test_worker_reports_one_scan_per_presentation() -> None:
    source = ScriptedSource()
    decoder = PixelDecoder()
    found: queue.Queue[tuple[str, float]] = queue.Queue()
    worker = ScanWorker(
        source,
        ScanPipeline(decoder, Debouncer(2.0)),
        on_scan=lambda code, at: found.put((code, at)),
    )
    worker.start()
    # The code in view for 10 frames at 10 fps, gone, then shown again 3 s later.
    timeline = [(t / 10, "EG1:A") for t in range(10)] + [(4.0, "EG1:A"), (4.1, "EG1:B")]
    for i, (at, code) in enumerate(timeline):
        source.feed.put(frame(i, code, at=at))
        assert decoder.started.get(timeout=WAIT_S) == i  # one at a time: nothing dropped
    source.feed.put(None)
    assert worker.wait(WAIT_S)
    assert [found.get_nowait() for _ in range(found.qsize())] == [
        ("EG1:A", 0.0),
        ("EG1:A", 4.0),
        ("EG1:B", 4.1),
    ]


def test_a_failing_callback_does_not_stop_the_scanning() -> None:
    source = ScriptedSource()
    decoder = PixelDecoder()
    calls: list[str] = []

    def on_scan(code: str, at: float) -> None:
        calls.append(code)
        raise RuntimeError("the UI is confused")

    worker = ScanWorker(source, ScanPipeline(decoder, Debouncer()), on_scan=on_scan)
    worker.start()
    source.feed.put(frame(0, "EG1:A"))
    assert decoder.started.get(timeout=WAIT_S) == 0
    source.feed.put(frame(1, "EG1:B"))
    source.feed.put(None)
    assert worker.wait(WAIT_S)
    assert calls == ["EG1:A", "EG1:B"]
    assert worker.stats.errors == 2
    assert "the UI is confused" in worker.stats.last_error


def test_stop_ends_a_never_ending_source() -> None:
    source = ScriptedSource()
    worker = ScanWorker(source, ScanPipeline(PixelDecoder(), Debouncer()), on_scan=print)
    worker.start()
    assert source.reads.acquire(timeout=WAIT_S)  # the reader is blocked waiting for a frame
    stopped = worker.stop(timeout=0.0)  # never waits; the reader ends with its current read
    source.feed.put(numbered(0))
    assert stopped or worker.wait(WAIT_S)
    assert not worker.running
    assert source.closed.is_set()


def test_stop_before_start_closes_the_source() -> None:
    source = ScriptedSource()
    worker = ScanWorker(source, ScanPipeline(PixelDecoder(), Debouncer()), on_scan=print)
    assert worker.stop()
    assert source.closed.is_set()


# -- a camera that fails and recovers -------------------------------------------------------------


class CameraScript:
    """A fake camera whose frames the test releases one at a time, so plugging is in step."""

    def __init__(self) -> None:
        self.plugged = True
        self.opened: list[int | str] = []
        self.released = 0
        self.allowed = threading.Semaphore(0)

    def open(self, device: int | str) -> _SteppedCapture:
        self.opened.append(device)
        return _SteppedCapture(self)


class _SteppedCapture:
    def __init__(self, script: CameraScript) -> None:
        self.script = script
        self.is_open = script.plugged

    def isOpened(self) -> bool:
        return self.is_open

    def read(self) -> tuple[bool, object]:
        assert self.script.allowed.acquire(timeout=WAIT_S)
        if not (self.is_open and self.script.plugged):
            return False, None
        return True, np.full((4, 4, 3), 200, np.uint8)

    def set(self, prop: int, value: float, /) -> bool:
        return True

    def get(self, prop: int, /) -> float:
        return 0.0

    def release(self) -> None:
        self.is_open = False
        self.script.released += 1


def test_camera_unplugged_is_reported_and_recovers() -> None:
    script = CameraScript()
    script.plugged = False
    camera = CameraSource(0, open_capture=script.open)
    states: queue.Queue[str] = queue.Queue()
    decoder = PixelDecoder()
    worker = ScanWorker(
        camera,
        ScanPipeline(decoder, Debouncer()),
        on_scan=print,
        on_state=lambda state: states.put(str(state)),
        backoff=Backoff(base_s=0.0, cap_s=0.0),
    )
    worker.start()
    assert states.get(timeout=WAIT_S).startswith("unavailable: cannot open camera 0")

    script.plugged = True
    script.allowed.release()
    assert states.get(timeout=WAIT_S) == "ok"
    assert decoder.started.get(timeout=WAIT_S) == 0

    script.plugged = False  # pulled out while streaming
    script.allowed.release()
    assert states.get(timeout=WAIT_S) == (
        "unavailable: camera 0 stopped delivering frames (unplugged?)"
    )
    assert states.get(timeout=WAIT_S).startswith("unavailable: cannot open")

    script.plugged = True
    script.allowed.release()
    assert states.get(timeout=WAIT_S) == "ok"
    assert decoder.started.get(timeout=WAIT_S) == 1
    assert worker.stats.reopen_attempts >= 2

    worker.stop(timeout=0.0)
    script.allowed.release(10)  # let a read in progress return
    assert worker.wait(WAIT_S)
    assert worker.state.ok
    assert script.released == len(script.opened)
