"""Headless replay: the kiosk's pipeline over a video or a folder of images, against a replica.

Every frame is decoded (no frame is dropped, the source is not paced), debounced on the frames'
own stream times as the live camera would be, and each scan is decided and recorded by
:class:`~scanner_app.checkpoint.Checkpoint`, the kiosk's one path to a decision.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scanner_app.checkpoint import Checkpoint, CheckResult
from scanner_app.frames import Frame, FrameSource
from scanner_app.scanning import Scan, ScanPipeline


@dataclass(frozen=True, slots=True)
class ReplayedScan:
    """One scan of the replay: the decision and what it cost from frame to decision."""

    scan: Scan
    result: CheckResult
    latency_ms: float
    """Frame captured (read from the source) to decision recorded durably."""

    @property
    def decode_ms(self) -> float:
        return (self.scan.decoded_at - self.scan.captured_at) * 1000

    def fields(self) -> dict[str, Any]:
        """The scan as plain data (one ``--json`` line)."""
        decision = self.result.decision
        return {
            "frame": self.scan.frame_index,
            "stream_time_s": round(self.scan.stream_time, 3),
            "code": self.scan.code,
            "granted": decision.granted,
            "reason": decision.reason.value,
            "detail": decision.detail,
            "zone": decision.zone,
            "scan_id": self.result.record.scan_id,
            "latency_ms": round(self.latency_ms, 3),
            "decode_ms": round(self.decode_ms, 3),
            "check_ms": round(self.result.total_ms, 3),
        }

    def line(self) -> str:
        """The scan as one line of text: frame, reason, latency, then the (long) code."""
        verdict = "GRANTED" if self.result.decision.granted else "REFUSED"
        return (
            f"frame {self.scan.frame_index:>5}  {verdict} {self.result.decision.reason.value:<18}"
            f"{self.latency_ms:7.1f} ms  {self.scan.code}"
        )


@dataclass
class ReplaySummary:
    frames: int = 0
    scans: int = 0


def frames_of(source: FrameSource) -> Iterator[Frame]:
    """Every frame of a finite source, in order."""
    while (frame := source.read()) is not None:
        yield frame


def replay(
    source: FrameSource,
    pipeline: ScanPipeline,
    checkpoint: Checkpoint,
    summary: ReplaySummary | None = None,
) -> Iterator[ReplayedScan]:
    """Decide on every scan the source shows, in order; ``summary`` counts frames and scans."""
    summary = summary if summary is not None else ReplaySummary()
    for frame in frames_of(source):
        summary.frames += 1
        for scan in pipeline.process(frame):
            result = checkpoint.check(scan.code)
            latency_ms = (time.monotonic() - scan.captured_at) * 1000
            summary.scans += 1
            yield ReplayedScan(scan, result, latency_ms)
