"""The scanning pipeline, Qt-free: frames in, debounced scans out, on worker threads.

:class:`ScanPipeline` is the work done on one frame (decode, then debounce), shared by the live
:class:`ScanWorker` and the headless replay. The worker reads its source on one thread and decodes
on another, always the newest frame only, so a slow decode never builds a backlog. It reports
through callbacks, from its own threads; the kiosk wraps them in Qt signals.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVarTuple

from scanner_app.config import DEFAULT_DEBOUNCE_S, ScanSettings
from scanner_app.decoders import Decoder, make_decoder
from scanner_app.frames import (
    OK,
    Backoff,
    Clock,
    Frame,
    FrameSource,
    FrameSourceError,
    SourceState,
    SourceStatus,
)

log = logging.getLogger(__name__)


OnScan = Callable[[str, float], None]
"""Called with the code and the monotonic time its frame was captured."""
OnState = Callable[[SourceState], None]
OnFrame = Callable[[Frame], None]


@dataclass(frozen=True, slots=True)
class Scan:
    """A code presented to the camera: the frame it was first seen in, and when decoding ended."""

    code: str
    captured_at: float
    decoded_at: float
    frame_index: int
    stream_time: float


class Debouncer:
    """One scan per presentation: a code seen again within ``window_s`` of its last sighting is
    the same scan, however long it is held up; after a longer absence it is a new one."""

    def __init__(self, window_s: float = DEFAULT_DEBOUNCE_S) -> None:
        self.window_s = window_s
        self._last_seen: dict[str, float] = {}

    def admit(self, codes: Iterable[str], at: float) -> list[str]:
        """The codes among ``codes`` (seen at stream time ``at``) that are new scans."""
        fresh: list[str] = []
        for code in codes:
            last = self._last_seen.get(code)
            if last is None or at - last > self.window_s:
                fresh.append(code)
            self._last_seen[code] = at
        self._forget_before(at - self.window_s)
        return fresh

    def _forget_before(self, cutoff: float) -> None:
        stale = [code for code, seen in self._last_seen.items() if seen < cutoff]
        for code in stale:
            del self._last_seen[code]


class ScanPipeline:
    """Decode one frame and debounce what it shows."""

    def __init__(
        self, decoder: Decoder, debouncer: Debouncer, *, clock: Clock = time.monotonic
    ) -> None:
        self.decoder, self.debouncer, self._clock = decoder, debouncer, clock

    @classmethod
    def from_settings(cls, settings: ScanSettings) -> ScanPipeline:
        return cls(make_decoder(settings.decoder), Debouncer(settings.debounce_s))

    def process(self, frame: Frame) -> list[Scan]:
        codes = self.decoder.decode(frame.image)
        decoded_at = self._clock()
        return [
            Scan(code, frame.captured_at, decoded_at, frame.index, frame.stream_time)
            for code in self.debouncer.admit(codes, frame.stream_time)
        ]


class LatestFrame:
    """A one-frame mailbox: a new frame replaces one not yet taken (which is dropped)."""

    def __init__(self) -> None:
        self._frame: Frame | None = None
        self._closed = False
        self._ready = threading.Condition()

    def put(self, frame: Frame) -> bool:
        """Leave ``frame``; True if it replaced a frame nobody took (a stale frame dropped)."""
        with self._ready:
            dropped = self._frame is not None
            self._frame = frame
            self._ready.notify()
            return dropped

    def take(self, timeout: float | None = None) -> Frame | None:
        """The newest frame, waiting for one; None when closed and empty, or on timeout."""
        with self._ready:
            self._ready.wait_for(lambda: self._frame is not None or self._closed, timeout)
            frame, self._frame = self._frame, None
            return frame

    def close(self) -> None:
        """No more frames: ``take`` returns what is left, then None without waiting."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed


@dataclass
class WorkerStats:
    """Counters for the status panel and the benchmarks; each has one writing thread."""

    captured: int = 0
    dropped: int = 0
    """Frames replaced by a newer one before the decoder got to them."""
    reopen_attempts: int = 0
    decoded: int = 0
    scans: int = 0
    errors: int = 0
    """Frames the decoder or a callback failed on (logged with their traceback)."""
    last_error: str = ""


class ScanWorker:
    """Pulls frames from ``source`` and reports scans; ``start`` and ``stop`` never block long.

    The worker owns the source once started and closes it when its reading thread ends. Callbacks
    run on the worker's threads: ``on_frame`` (preview) and ``on_state`` on the reading thread,
    ``on_scan`` on the decoding thread. They must be quick and must not touch widgets directly.
    """

    def __init__(
        self,
        source: FrameSource,
        pipeline: ScanPipeline,
        *,
        on_scan: OnScan,
        on_state: OnState | None = None,
        on_frame: OnFrame | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.source, self.pipeline = source, pipeline
        self._on_scan, self._on_state, self._on_frame = on_scan, on_state, on_frame
        self._backoff = backoff or Backoff()
        self._slot = LatestFrame()
        self._stopping = threading.Event()
        self._state = source.state
        self._state_lock = threading.Lock()
        self.stats = WorkerStats()
        self._reader = threading.Thread(target=self._read_loop, name="frames", daemon=True)
        self._decoder = threading.Thread(target=self._decode_loop, name="decoder", daemon=True)

    @property
    def state(self) -> SourceState:
        """The source's last reported state ("ok", "unavailable: ...", "ended")."""
        with self._state_lock:
            return self._state

    @property
    def running(self) -> bool:
        return self._reader.is_alive() or self._decoder.is_alive()

    def start(self) -> None:
        self._reader.start()
        self._decoder.start()

    def stop(self, timeout: float = 2.0) -> bool:
        """Ask both threads to end and wait up to ``timeout``; True if they have ended.

        A camera read in progress finishes first (one frame interval); the source is closed by
        the reading thread as it ends.
        """
        self._stopping.set()
        self._slot.close()
        if self._reader.ident is None:
            self.source.close()  # never started: nobody else will
        deadline = time.monotonic() + timeout
        for thread in (self._decoder, self._reader):
            if thread.ident is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        return not self.running

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a finite source to be read and decoded to its end; True if it was."""
        for thread in (self._reader, self._decoder):
            if thread.ident is not None:
                thread.join(timeout)
        return not self.running

    # -- reading thread -----------------------------------------------------------------------

    def _read_loop(self) -> None:
        try:
            failed = False
            while not self._stopping.is_set():
                try:
                    if failed:
                        self.stats.reopen_attempts += 1
                        self.source.reopen()
                    frame = self.source.read()
                except FrameSourceError as exc:
                    failed = True
                    self._source_failed(str(exc))
                    continue
                except Exception as exc:  # a bug in a source must not end the kiosk's scanning
                    log.exception("%s failed", self.source.name)
                    failed = True
                    self._source_failed(f"{type(exc).__name__}: {exc}")
                    continue
                if failed:
                    log.info("%s is back", self.source.name)
                failed = False
                self._backoff.reset()
                if frame is None:
                    self._set_state(self.source.state)
                    break
                self._set_state(OK)
                self.stats.captured += 1
                if self._on_frame is not None:
                    self._call(self._on_frame, frame)
                if self._slot.put(frame):
                    self.stats.dropped += 1
        finally:
            self._slot.close()
            self.source.close()

    def _source_failed(self, detail: str) -> None:
        """Report the failure (once per state), then wait before trying to reopen."""
        state = self.source.state
        if state.ok or state.status is SourceStatus.STARTING:
            state = SourceState(SourceStatus.UNAVAILABLE, detail)
        if state != self.state:
            log.warning("%s: %s", self.source.name, state)
        self.stats.last_error = str(state)
        self._set_state(state)
        self._stopping.wait(self._backoff.next_delay())

    def _set_state(self, state: SourceState) -> None:
        with self._state_lock:
            changed, self._state = state != self._state, state
        if changed and self._on_state is not None:
            self._call(self._on_state, state)

    # -- decoding thread ----------------------------------------------------------------------

    def _decode_loop(self) -> None:
        while not self._stopping.is_set():
            frame = self._slot.take(timeout=0.5)
            if frame is None:
                if self._slot.closed:
                    return
                continue
            try:
                scans = self.pipeline.process(frame)
            except Exception as exc:  # one bad frame must not stop the scanning
                log.exception("decoding frame %d failed", frame.index)
                self.stats.errors += 1
                self.stats.last_error = f"decoder: {exc}"
                continue
            self.stats.decoded += 1
            for scan in scans:
                self.stats.scans += 1
                self._call(self._on_scan, scan.code, scan.captured_at)

    def _call(self, callback: Callable[[*_Args], None], *args: *_Args) -> None:
        """Run a callback; one that raises is logged and counted, and the worker goes on."""
        try:
            callback(*args)
        except Exception as exc:
            log.exception("callback %r failed", callback)
            self.stats.errors += 1
            self.stats.last_error = f"callback: {exc}"


_Args = TypeVarTuple("_Args")
