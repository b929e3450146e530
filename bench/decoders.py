"""Issue 6's decoder figures: success and time per image on real photos and synthetic 720p frames,
frame-to-decision latency through the live worker, and the pipeline's CPU at 30 fps.

:func:`run_decoder_bench` measures, :func:`render_decoders` writes the ``decoders`` section of
docs/BENCHMARKS.md. Synthetic frames come from :func:`synthetic_frame` (the tests use it too).
"""

from __future__ import annotations

import io
import os
import queue
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import cv2
import numpy as np
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench import gate
from bench.machine import machine_info
from bench.report import Figure, at_most, headline_table, ms
from bench.stats import median, percentile
from scanner_app.checkpoint import Checkpoint
from scanner_app.config import DEFAULT_DECODER
from scanner_app.decoders import DECODERS, Decoder, make_decoder
from scanner_app.frames import OK, Frame, GrayImage, Pacer, SourceState, SourceStatus
from scanner_app.replica import Replica
from scanner_app.scanning import Debouncer, ScanPipeline, ScanWorker
from shared.demo_site import DEFAULT_GATE

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "qr"
FRAME_W, FRAME_H = 1280, 720
LATENCY_P99_TARGET_MS = 100.0
CPU_TARGET_CORES = 0.5
FPS = 30.0

Say = Callable[[str], None]


# -- images -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    """An image to decode and the text it should give (None: no code in it)."""

    name: str
    image: GrayImage
    expected: str | None


def load_corpus(root: Path = CORPUS) -> list[Sample]:
    """The team's real photos, each with its expected text read as bytes and decoded as UTF-8."""
    samples = []
    for text_file in sorted(root.rglob("*.txt")):
        images = [p for p in text_file.parent.glob(text_file.stem + ".*") if p.suffix != ".txt"]
        if not images:
            continue
        image = cv2.imread(str(images[0]), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise RuntimeError(f"OpenCV cannot read {images[0]}")
        expected = text_file.read_bytes().decode("utf-8")
        gray = np.ascontiguousarray(image, dtype=np.uint8)
        samples.append(Sample(str(images[0].relative_to(root)), gray, expected))
    return samples


def same_text(decoded: str, expected: str) -> bool:
    """Equal once line endings are normalised on both sides (the corpus mixes CRLF and LF)."""
    return decoded.replace("\r\n", "\n") == expected.replace("\r\n", "\n")


def qr_image(code: str, *, module_px: int = 4) -> GrayImage:
    """The code as the back office prints it (error correction M), black on white, with margin."""
    qr = segno.make_qr(code, error="m", boost_error=False)
    out = io.BytesIO()
    qr.save(out, kind="png", scale=module_px, border=4)
    image = cv2.imdecode(np.frombuffer(out.getvalue(), np.uint8), cv2.IMREAD_GRAYSCALE)
    return np.ascontiguousarray(image, dtype=np.uint8)


def synthetic_frame(
    code: str | None, rng: np.random.Generator, *, module_px: int | None = None
) -> GrayImage:
    """A 1280x720 camera-like frame: cluttered noisy background, and the code's QR (if any) at a
    plausible size (3 to 6 px a module), tilted up to 20°, with a phone or paper's contrast."""
    frame = np.full((FRAME_H, FRAME_W), rng.uniform(80, 140), np.float32)
    frame += np.linspace(-30, 30, FRAME_W, dtype=np.float32)[None, :] * rng.uniform(-1, 1)
    for _ in range(12):  # clutter: clothes, turnstile bars, signs
        x, y = int(rng.integers(0, FRAME_W - 20)), int(rng.integers(0, FRAME_H - 20))
        w, h = (int(v) for v in rng.integers(20, 320, 2))
        frame[y : y + h, x : x + w] = rng.uniform(30, 230)
    if code is not None:
        _paste_qr(frame, code, rng, module_px or int(rng.integers(3, 7)))
    blurred = cv2.GaussianBlur(frame, (0, 0), rng.uniform(0.6, 1.3))
    noisy = blurred + rng.normal(0, rng.uniform(4, 10), frame.shape)
    return np.ascontiguousarray(np.clip(noisy, 0, 255), dtype=np.uint8)


def _paste_qr(frame: np.ndarray, code: str, rng: np.random.Generator, module_px: int) -> None:
    dark, light = rng.uniform(20, 70), rng.uniform(170, 235)
    qr = (dark + qr_image(code, module_px=module_px) / 255 * (light - dark)).astype(np.float32)
    h, w = qr.shape
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-20, 20), 1.0)
    cos, sin = abs(turn[0, 0]), abs(turn[0, 1])
    out_w, out_h = int(h * sin + w * cos), int(h * cos + w * sin)
    turn[0, 2] += out_w / 2 - w / 2
    turn[1, 2] += out_h / 2 - h / 2
    turned = cv2.warpAffine(qr, turn, (out_w, out_h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(np.ones_like(qr), turn, (out_w, out_h)) > 0.5
    x = int(rng.integers(0, FRAME_W - out_w))
    y = int(rng.integers(0, FRAME_H - out_h))
    region = frame[y : y + out_h, x : x + out_w]
    region[mask] = turned[mask]


# -- decode success and time ----------------------------------------------------------------------


@dataclass(slots=True)
class SetResult:
    """One decoder over one set of images: how many it got right, and its time per image."""

    total: int = 0
    correct: int = 0
    wrong: int = 0
    """Images where it returned a text that is not the expected one (on empty frames: any text)."""
    ms: list[float] = field(default_factory=list)
    """Per image, the median of the repeats."""
    missed: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.correct / self.total if self.total else 0.0


def measure_set(decoder: Decoder, samples: Sequence[Sample], repeats: int) -> SetResult:
    """Decode each image ``repeats`` times; success is judged on the first decode."""
    result = SetResult(total=len(samples))
    for sample in samples:
        times = []
        texts: list[str] = []
        for i in range(repeats):
            started = time.perf_counter()
            found = decoder.decode(sample.image)
            times.append((time.perf_counter() - started) * 1000)
            if i == 0:
                texts = found
        result.ms.append(median(times))
        if sample.expected is None:
            result.correct += not texts
            result.wrong += bool(texts)
        elif any(same_text(t, sample.expected) for t in texts):
            result.correct += 1
        else:
            result.wrong += bool(texts)
            result.missed.append(sample.name)
    return result


# -- the live pipeline: latency and CPU -----------------------------------------------------------


class FrameList:
    """An in-memory frame source paced like a camera (no file decoding in the measurement)."""

    def __init__(self, images: Sequence[GrayImage], fps: float = FPS, *, loop: bool = False):
        self.images, self.loop = images, loop
        self._pacer = Pacer(fps)
        self._fps = fps
        self._index = 0
        self._state: SourceState = OK

    @property
    def name(self) -> str:
        return "synthetic frames"

    @property
    def state(self) -> SourceState:
        return self._state

    def read(self) -> Frame | None:
        if self._index >= len(self.images) and not self.loop:
            self._state = SourceState(SourceStatus.ENDED)
            return None
        self._pacer.wait()
        image = self.images[self._index % len(self.images)]
        now = time.monotonic()
        frame = Frame(image, now, self._index, now)
        self._index += 1
        return frame

    def reopen(self) -> None:
        """Nothing to reopen."""

    def close(self) -> None:
        """Nothing to release."""


@dataclass(slots=True)
class LiveRun:
    """The worker at 30 fps over presentations of codes, each decided by a Checkpoint."""

    latencies_ms: list[float] = field(default_factory=list)
    check_ms: list[float] = field(default_factory=list)
    presented: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    frames: int = 0
    dropped: int = 0
    cpu_cores: float = 0.0


def presentations(
    codes: Sequence[str], rng: np.random.Generator, hold: int, gap: int
) -> list[GrayImage]:
    """Each code held up for ``hold`` frames, then ``gap`` frames with no code (cycled blanks)."""
    blanks = [synthetic_frame(None, rng) for _ in range(4)]
    frames: list[GrayImage] = []
    for i, code in enumerate(codes):
        frames += [synthetic_frame(code, rng, module_px=4 + i % 3)] * hold
        frames += [blanks[(i + j) % len(blanks)] for j in range(gap)]
    return frames


def measure_live(
    decoder_name: str, replica_path: Path, frames: Sequence[GrayImage], presented: int
) -> LiveRun:
    """Run the worker over ``frames`` at 30 fps; the main thread decides each scan, as the kiosk's
    GUI thread will; latency runs from the frame's capture to the recorded decision."""
    run = LiveRun(presented=presented, frames=len(frames))
    scans: queue.Queue[tuple[str, float] | None] = queue.Queue()
    pipeline = ScanPipeline(make_decoder(decoder_name), Debouncer())
    worker = ScanWorker(FrameList(frames), pipeline, on_scan=lambda code, at: scans.put((code, at)))
    with Replica(replica_path) as replica:
        checkpoint = Checkpoint(replica, DEFAULT_GATE)
        cpu_started, wall_started = time.process_time(), time.perf_counter()
        worker.start()

        def end_when_read() -> None:
            worker.wait()
            scans.put(None)

        waiter = threading.Thread(target=end_when_read, daemon=True)
        waiter.start()
        while (item := scans.get()) is not None:
            code, captured_at = item
            result = checkpoint.check(code)
            run.latencies_ms.append((time.monotonic() - captured_at) * 1000)
            run.check_ms.append(result.total_ms)
            reason = result.decision.reason.value
            run.reasons[reason] = run.reasons.get(reason, 0) + 1
        waiter.join()
        run.cpu_cores = (time.process_time() - cpu_started) / (time.perf_counter() - wall_started)
    run.dropped = worker.stats.dropped
    return run


def measure_idle_cpu(decoder_name: str, blanks: Sequence[GrayImage], seconds: float) -> float:
    """Cores used by the worker decoding 30 empty 720p frames a second (no UI, no preview)."""
    worker = ScanWorker(
        FrameList(blanks, loop=True),
        ScanPipeline(make_decoder(decoder_name), Debouncer()),
        on_scan=lambda code, at: None,
    )
    worker.start()
    time.sleep(1.0)  # let the threads settle before counting
    cpu_started, wall_started = time.process_time(), time.perf_counter()
    time.sleep(seconds)
    cores = (time.process_time() - cpu_started) / (time.perf_counter() - wall_started)
    worker.stop()
    return cores


# -- the whole run ------------------------------------------------------------------------------


@dataclass(slots=True)
class DecoderFigures:
    name: str
    corpus: SetResult
    synthetic: SetResult
    empty: SetResult
    live: LiveRun
    idle_cpu_cores: float


@dataclass(slots=True)
class DecoderResults:
    decoders: list[DecoderFigures] = field(default_factory=list)
    repeats: int = 0
    seed: int = 0
    codes_length: list[int] = field(default_factory=list)
    machine: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    command: str = ""
    date: str = ""
    total_s: float = 0.0
    hold: int = 0
    gap: int = 0
    idle_s: float = 0.0
    load: list[float] = field(default_factory=list)
    """The 1-minute load average before and after: other work on the machine inflates times."""

    def figures(self, name: str) -> DecoderFigures:
        return next(d for d in self.decoders if d.name == name)


def run_decoder_bench(
    *,
    workdir: Path,
    say: Say = print,
    repeats: int = 5,
    synthetic: int = 24,
    presented: int = 60,
    idle_s: float = 10.0,
    seed: int = 2026,
    corpus: Path = CORPUS,
    command: Sequence[str] = (),
) -> DecoderResults:
    """Every figure of the ``decoders`` section, for each decoder; ``workdir`` holds the replica."""
    started = time.perf_counter()
    results = DecoderResults(repeats=repeats, seed=seed, hold=10, gap=10, idle_s=idle_s)
    results.command = shlex.join(["python", "-m", "bench.run", *command])
    results.date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    results.machine = machine_info(workdir)
    results.versions = decoder_versions()
    results.load.append(os.getloadavg()[0])
    rng = np.random.default_rng(seed)

    built = gate.build_replica(
        workdir / "decoders.db", rights=5_000, bans=10, seed=seed, key=Ed25519PrivateKey.generate()
    )
    with Replica(built.path) as replica:
        replica.set_gate_name(DEFAULT_GATE)
    rights = gate.pick_rights(built.path, synthetic + presented, plain=False)
    codes = gate.sign_codes(built.site, rights)
    results.codes_length = [len(c) for c in codes]
    say(
        f"decoders: {len(codes)} EG1 codes of {min(results.codes_length)} to "
        f"{max(results.codes_length)} characters; drawing frames ..."
    )
    photos = load_corpus(corpus)
    with_code = [
        Sample(f"synthetic-{i}", synthetic_frame(code, rng), code)
        for i, code in enumerate(codes[:synthetic])
    ]
    empty = [Sample(f"empty-{i}", synthetic_frame(None, rng), None) for i in range(synthetic)]
    frames = presentations(codes[synthetic:], rng, results.hold, results.gap)

    for name in DECODERS:
        decoder = make_decoder(name)
        figures = DecoderFigures(
            name,
            corpus=measure_set(decoder, photos, repeats),
            synthetic=measure_set(decoder, with_code, repeats),
            empty=measure_set(decoder, empty, repeats),
            live=measure_live(name, built.path, frames, presented),
            idle_cpu_cores=measure_idle_cpu(name, [s.image for s in empty[:4]], idle_s),
        )
        results.decoders.append(figures)
        live = figures.live
        say(
            f"{name}: corpus {figures.corpus.correct}/{figures.corpus.total} "
            f"({median(figures.corpus.ms):.2f} ms), synthetic "
            f"{figures.synthetic.correct}/{figures.synthetic.total} "
            f"({median(figures.synthetic.ms):.1f} ms), empty {median(figures.empty.ms):.1f} ms; "
            f"live p99 {percentile(live.latencies_ms, 99) if live.latencies_ms else 0:.1f} ms, "
            f"idle CPU {figures.idle_cpu_cores:.2f} core"
        )
    gate.remove_replica(built.path)
    results.load.append(os.getloadavg()[0])
    results.total_s = time.perf_counter() - started
    return results


def decoder_versions() -> dict[str, str]:
    """Versions of the decoding stack (libzbar as Debian packages it)."""
    try:
        libzbar = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "libzbar0"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        libzbar = "unknown"
    return {
        "zxing-cpp": version("zxing-cpp"),
        "pyzbar": f"{version('pyzbar')} (libzbar0 {libzbar})",
        "OpenCV": cv2.__version__,
        "numpy": np.__version__,
    }


# -- the section ----------------------------------------------------------------------------------


def _rate(r: SetResult) -> str:
    return f"{r.correct}/{r.total} ({r.rate:.0%})"


def _p(values: Sequence[float], p: float) -> float:
    return percentile(values, p) if values else float("nan")


def headline(r: DecoderResults) -> list[Figure]:
    """The issue's targets, met by the default decoder."""
    d = r.figures(DEFAULT_DECODER)
    return [
        at_most(
            f"Frame-to-decision latency at 720p, p99 ({DEFAULT_DECODER}, live worker at 30 fps)",
            LATENCY_P99_TARGET_MS,
            _p(d.live.latencies_ms, 99),
            ms,
        ),
        at_most(
            "CPU of the scanning pipeline, 30 empty 720p frames/s (no UI; the kiosk's share)",
            CPU_TARGET_CORES,
            d.idle_cpu_cores,
            lambda v: f"{v:.2f} core",
        ),
    ]


def comparison_table(r: DecoderResults) -> list[str]:
    names = [d.name + (" (default)" if d.name == DEFAULT_DECODER else "") for d in r.decoders]
    rows: list[tuple[str, Callable[[DecoderFigures], str]]] = [
        (f"Real photos ({r.decoders[0].corpus.total}), exact text", lambda d: _rate(d.corpus)),
        ("Real photos, median time per image", lambda d: ms(median(d.corpus.ms))),
        ("Real photos, wrong text returned", lambda d: str(d.corpus.wrong)),
        ("Synthetic 1280x720 with an EG1 QR, exact text", lambda d: _rate(d.synthetic)),
        ("Synthetic 1280x720 with a QR, median time", lambda d: ms(median(d.synthetic.ms))),
        ("Synthetic 1280x720, no QR, median time", lambda d: ms(median(d.empty.ms))),
        ("Synthetic 1280x720, no QR, false reads", lambda d: str(d.empty.wrong)),
        (
            "Live worker at 30 fps, codes scanned",
            lambda d: f"{len(d.live.latencies_ms)}/{d.live.presented}",
        ),
        ("Live frame-to-decision latency p50", lambda d: ms(_p(d.live.latencies_ms, 50))),
        ("Live frame-to-decision latency p99", lambda d: ms(_p(d.live.latencies_ms, 99))),
        ("Live: frames dropped as stale", lambda d: f"{d.live.dropped}/{d.live.frames}"),
        ("Live: CPU while scanning", lambda d: f"{d.live.cpu_cores:.2f} core"),
        ("Idle: CPU at 30 empty frames/s", lambda d: f"{d.idle_cpu_cores:.2f} core"),
    ]
    lines = ["| Figure | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for label, cell in rows:
        lines.append(f"| {label} | " + " | ".join(cell(d) for d in r.decoders) + " |")
    return lines


def verdict(r: DecoderResults) -> list[str]:
    """Why the default is the default, from the figures; a warning if they stop agreeing."""
    best = r.figures(DEFAULT_DECODER)
    others = [d for d in r.decoders if d.name != DEFAULT_DECODER]
    lines = []
    for other in others:
        better = (
            best.corpus.correct >= other.corpus.correct
            and best.synthetic.correct >= other.synthetic.correct
            and median(best.empty.ms) <= median(other.empty.ms)
        )
        speed = median(other.empty.ms) / median(best.empty.ms)
        if better:
            lines.append(
                f"Default decoder: **{DEFAULT_DECODER}**. It reads {best.corpus.correct} of the "
                f"{best.corpus.total} real photos against {other.corpus.correct} for {other.name}, "
                f"and costs {speed:.1f} times less on an empty 720p frame, which is most of what a "
                f"gate's camera sees. {other.name} also runs libzbar in the kiosk's process, where "
                "some payloads abort it: it stays available for comparison only."
            )
        else:
            lines.append(
                f"**Warning**: on this run {DEFAULT_DECODER} does not beat {other.name} on every "
                "figure: review `scanner_app.decoders.DEFAULT_DECODER`."
            )
    return lines


def method(r: DecoderResults) -> list[str]:
    lengths = f"{min(r.codes_length)}–{max(r.codes_length)}" if r.codes_length else "?"
    return [
        f"- Real photos: every image of `../shared/corpus/qr/` (ZXing's blackbox sets), read "
        "as grayscale by OpenCV; expected text read as bytes and decoded as UTF-8; a success is "
        "a returned text equal to it after normalising line endings on both sides. Each image "
        f"is decoded {r.repeats} times; its time is the median; the table gives the median over "
        "images. Success is judged on the first decode.",
        f"- Synthetic frames: EG1 codes of {lengths} characters signed by a demo site, rendered "
        "as the back office does (segno, error correction M: version 10), 3 to 6 px a module, "
        "tilted up to 20°, low contrast, pasted into a 1280x720 cluttered gray background, then "
        f"blurred and noised (`bench.decoders.synthetic_frame`, seed {r.seed}); as many frames "
        "with no code.",
        f"- Live: `ScanWorker` over in-memory synthetic frames paced at 30 fps, each code held "
        f"up for {r.hold} frames then {r.gap} frames with none; the worker's decoding thread "
        "reports scans to the main thread (as the kiosk's GUI thread), which calls "
        '`Checkpoint(replica, "NORD-1").check(code)` on a 5,000-right demo replica. Latency: '
        "from the frame's capture stamp (`time.monotonic()` when the source hands it out) to "
        "the durably recorded decision: waiting for the decoder, decoding, queueing, deciding, "
        "fsync. CPU: process CPU time over wall time, all threads.",
        f"- Idle CPU: the same worker over 30 empty frames a second for {r.idle_s:.0f} s, after "
        "one second to settle; no preview, no Qt: the UI's share comes on top.",
    ]


def load_note(r: DecoderResults) -> list[str]:
    """A warning when the machine was busy with other work while it measured."""
    cores = os.cpu_count() or 1
    if not r.load or max(r.load) < cores / 2:
        return []
    return [
        f"**Busy machine**: the 1-minute load average was {r.load[0]:.1f} before and "
        f"{r.load[-1]:.1f} after this run, on {cores} cores: other work competed for the CPU, so "
        "times and latencies here are pessimistic. Compare decoders within this run only."
    ]


def render_decoders(r: DecoderResults) -> str:
    """The whole ``decoders`` section of docs/BENCHMARKS.md."""
    blocks: list[list[str]] = [
        ["## QR decoders and the scanning pipeline (issue 6)"],
        [f"Measured {r.date} with `{r.command}`; the decoder runs took {r.total_s:.0f} s."],
        headline_table(headline(r)),
        verdict(r),
        load_note(r),
        ["### Decoders compared"],
        comparison_table(r),
        ["### Versions and machine"],
        [f"- {key}: {value}" for key, value in {**r.versions, **r.machine}.items()],
        ["### Method"],
        method(r),
    ]
    return "\n\n".join("\n".join(block) for block in blocks if block) + "\n"
