"""``gate-scanner``: the gate terminal's command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from scanner_app import __version__
from scanner_app.checkpoint import Checkpoint, CheckResult
from scanner_app.config import DEFAULT_CONFIG, DEMO_EVERY_S, ConfigError, TerminalConfig
from scanner_app.demo import build_demo
from scanner_app.enrollment import enroll_terminal
from scanner_app.replica import Replica, ReplicaError
from scanner_app.salvage import open_sound
from scanner_app.sync import SyncError
from scanner_app.sync_loop import SyncLoop, SyncState
from shared.demo_site import DEFAULT_GATE, write_samples
from shared.model import Direction, EntryPolicy, RightKind
from shared.pinning import EnrollmentLink, is_pin

DEFAULT_DB = "gate.db"
EXIT_GRANTED, EXIT_REFUSED, EXIT_ERROR = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_ERROR
    try:
        result: int = args.run(args)
    except (ReplicaError, ConfigError, SyncError) as exc:
        print(f"gate-scanner: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as Unix tools do.
        sys.stderr.close()
        return EXIT_ERROR
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gate-scanner",
        description="Entrix Gate terminal: decide on scanned codes against the local replica.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    db_help = f"the gate's replica (default: $ENTRIX_GATE_DB or ./{DEFAULT_DB})"
    config_help = (
        f"the terminal's configuration (default: $ENTRIX_GATE_CONFIG or ./{DEFAULT_CONFIG})"
    )

    seed = commands.add_parser(
        "seed-demo",
        help="build a demo replica (the Radès derby) and write sample codes",
        description="Build a replica for a demo stadium with a derby event, N access rights, bans "
        "and a signing key (its public half only), then write sample codes to try with 'check'.",
    )
    seed.add_argument("--db", default=_default_db(), help=db_help)
    seed.add_argument("--rights", type=_positive, default=1000, help="access rights (default 1000)")
    seed.add_argument("--bans", type=_positive, default=10, help="blacklist entries (default 10)")
    seed.add_argument("--codes", help="sample codes file (default: codes.txt beside the replica)")
    seed.add_argument("--gate", default=DEFAULT_GATE, help=f"this terminal's gate ({DEFAULT_GATE})")
    seed.add_argument("--seed", type=int, default=2026, help="random seed, for repeatable demos")
    seed.add_argument("--force", action="store_true", help="replace an existing replica")
    seed.set_defaults(run=_seed_demo)

    check = commands.add_parser(
        "check",
        help="decide on a code, record the scan, print the decision",
        description="Decide on a code as the gate would, record the scan durably, print the "
        "decision. CODE '-' reads one code per line from standard input. Exit status: 0 granted, "
        "1 refused (for the last code), 2 error.",
    )
    check.add_argument("code", metavar="CODE", help="the scanned text (EG1:... or a plain code)")
    check.add_argument("--db", default=_default_db(), help=db_help)
    check.add_argument("--gate", help="decide as this gate (default: the terminal's gate)")
    check.add_argument(
        "--direction", choices=[d.value for d in Direction], help="entry or exit (default: gate's)"
    )
    check.add_argument(
        "--at",
        type=_timestamp,
        help="decide at this ISO 8601 time (default: now); a dry run: nothing is recorded",
    )
    check.add_argument(
        "--dry-run",
        action="store_true",
        help="decide and print, record nothing (no usage moved, nothing uploaded)",
    )
    check.add_argument("--json", action="store_true", help="one JSON object per decision")
    check.add_argument("--config", type=Path, help="take the replica from this gate.toml")
    check.set_defaults(run=_check)

    enroll_ = commands.add_parser(
        "enroll",
        help="enroll this terminal as a gate of a server, with a one-time code",
        description="Trade a one-time enrollment code (from the back office: gate-admin gate "
        "create / gate enroll-code) for this terminal's device token, write the configuration "
        "and the token (readable by its owner only), and pull the gate's data.",
    )
    enroll_.add_argument("--server", help="the sync server, e.g. https://gates.example.org")
    enroll_.add_argument("--code", help="the one-time enrollment code")
    enroll_.add_argument(
        "--pin",
        action="append",
        default=[],
        metavar="sha256/...",
        help="trust only a server whose certificate has this pin (repeatable: two during a "
        "certificate change); gate-admin gate create prints it",
    )
    enroll_.add_argument(
        "--link",
        metavar="ENTRIX-ENROLL:...",
        help="server, code and pins at once: the text of the QR code gate-admin made",
    )
    enroll_.add_argument("--config", type=Path, default=_default_config(), help=config_help)
    enroll_.add_argument(
        "--force", action="store_true", help="re-enroll even with scans not yet uploaded"
    )
    enroll_.set_defaults(run=_enroll)

    sync = commands.add_parser(
        "sync",
        help="run the sync loop headless (pull changes, push scans, heartbeat)",
        description="Keep the replica in step with the server until stopped (Ctrl-C or SIGTERM). "
        "Exit status: 0 stopped or synced, 1 server unreachable (--once), 3 device revoked, "
        "4 upgrade required (the server does not serve this gate's protocol; --once).",
    )
    sync.add_argument("--config", type=Path, default=_default_config(), help=config_help)
    sync.add_argument("--once", action="store_true", help="one full pass, then exit")
    sync.set_defaults(run=_sync)

    replay = commands.add_parser(
        "replay",
        help="run the scanning pipeline headless over a video or a folder of images",
        description="Decode every frame of SOURCE (a video file, a folder of images, or a camera "
        "until Ctrl-C) as the kiosk would, decide on each scan and record it in the replica, and "
        "print one line per scan: frame, reason, latency from frame to decision, code.",
    )
    replay.add_argument("source", metavar="SOURCE", help="a video file or a folder of images")
    replay.add_argument("--db", default=_default_db(), help=db_help)
    replay.add_argument("--gate", help="decide as this gate (default: the terminal's gate)")
    replay.add_argument("--decoder", help="zxing-cpp (the default) or pyzbar")
    replay.add_argument(
        "--debounce", type=float, default=2.0, help="seconds within which a code is one scan (2)"
    )
    replay.add_argument(
        "--fps", type=float, default=30.0, help="frames per second of an image folder (30)"
    )
    replay.add_argument("--json", action="store_true", help="one JSON object per scan")
    replay.set_defaults(run=_replay)

    hw_test = commands.add_parser(
        "hw-test",
        help="test the turnstile's relay board and passage sensor (for installers)",
        description="Switch each relay channel of the [relay] section and read the board back, "
        "then unlock the entry once and watch the [sensor] section's sensor. Exit status: 0 all "
        "good, 1 a check failed (e.g. the board stopped answering), 2 no board or bad settings.",
    )
    hw_test.add_argument("--config", type=Path, help=config_help)
    hw_test.add_argument(
        "--driver",
        choices=["lcus", "hid", "modbus", "gpio", "simulated"],
        help="use this driver instead of the file's (simulated: no hardware needed)",
    )
    hw_test.add_argument("--port", help="use this serial port instead of the file's")
    hw_test.add_argument(
        "--watch-s", type=float, default=5.0, help="seconds to watch the sensor (5)"
    )
    hw_test.set_defaults(run=_hw_test)

    run = commands.add_parser(
        "run",
        help="open the kiosk window (camera and wedge scanning, answers, supervisor panel)",
        description="Run the gate's kiosk: scan with the camera and keyboard-wedge scanners, show "
        "each answer full screen, drive the turnstile, sync in the background. --demo uses a demo "
        "camera showing the sample codes and a simulated turnstile, so it runs on any machine.",
    )
    run.add_argument("--config", type=Path, default=_default_config(), help=config_help)
    run.add_argument("--fullscreen", action="store_true", help="fill the screen (a real kiosk)")
    run.add_argument(
        "--demo",
        action="store_true",
        help="demo camera (codes.txt beside the replica) and simulated turnstile",
    )
    run.add_argument(
        "--demo-every",
        type=_demo_pace,
        default=DEMO_EVERY_S,
        metavar="SECONDS",
        help=f"the demo camera shows a new code every SECONDS (default {DEMO_EVERY_S}; 1 to 60)",
    )
    run.add_argument(
        "--db", help="the replica, when there is no configuration file (e.g. demo/gate.db)"
    )
    run.set_defaults(run=_run)
    return parser


def _say(notices: list[str]) -> None:
    for notice in notices:
        print(f"gate-scanner: {notice}", file=sys.stderr)


def _demo_pace(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 1 <= seconds <= 60:
        raise argparse.ArgumentTypeError(f"must be 1 to 60 s, not {text}")
    return seconds


def _default_config() -> Path:
    return Path(os.environ.get("ENTRIX_GATE_CONFIG", DEFAULT_CONFIG))


def _enroll(args: argparse.Namespace) -> int:
    server, code, pins = _enrollment_args(args)
    done = enroll_terminal(args.config, server, code, pins, force=args.force)
    config, counts = done.config, done.counts
    print(f"Enrolled as gate {config.gate} of {config.venue} at {config.server}.")
    print(
        f"Configuration {config.path}, token {config.token_path} (mode 0600), "
        f"replica {config.replica_path}."
    )
    print(
        f"Pulled {done.pulled} changes: {counts.rights} rights, {counts.bans} bans, "
        f"{counts.layouts} layouts, {counts.keys} keys."
    )
    return EXIT_GRANTED


def _enrollment_args(args: argparse.Namespace) -> tuple[str, str, list[str]]:
    """Server, code and pins: from ``--link``, or ``--server``, ``--code`` and ``--pin``."""
    pins = list(args.pin)
    if args.link:
        try:
            link = EnrollmentLink.parse(args.link)
        except ValueError as exc:
            raise ConfigError(f"--link: {exc}") from exc
        return link.server.rstrip("/"), link.code, [*link.pins, *pins]
    if not args.server or not args.code:
        raise ConfigError("give --server and --code (and --pin), or --link")
    bad = [p for p in pins if not is_pin(p)]
    if bad:
        raise ConfigError(f"--pin {bad[0][:60]!r}: a pin is sha256/ and 32 bytes in base64")
    if not pins and args.server.startswith("https://"):
        print("gate-scanner: no --pin: this gate will trust any certificate the system trusts",
              file=sys.stderr)  # fmt: skip
    return args.server.rstrip("/"), args.code, pins


def _sync(args: argparse.Namespace) -> int:
    config = TerminalConfig.load(args.config)
    # The loop rebuilds the replica from the server if it must (and retries until it answers).
    _say(open_sound(config, rebuild_later=True))
    loop = SyncLoop(config)
    if args.once:
        status = loop.run(once=True)
        print(
            f"sync {status.state.value}: cursor {status.cursor}, {status.pulled} changes pulled, "
            f"{status.pushed} scans pushed, {status.outbox} waiting"
            + (f" ({status.last_error})" if status.last_error else "")
        )
        if status.state is SyncState.UPGRADE:
            print(f"gate-scanner: upgrade required: {status.last_error}", file=sys.stderr)
        return {SyncState.ONLINE: 0, SyncState.REVOKED: 3, SyncState.UPGRADE: 4}.get(
            status.state, 1
        )

    def stop(_signum: int, _frame: object) -> None:
        loop.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # One line per HTTP request drowns what matters: sync problems are logged by the loop.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    print(f"syncing gate {config.gate} of {config.venue} with {config.server} (Ctrl-C stops)")
    status = loop.run()
    return 3 if status.state is SyncState.REVOKED else 0


def _default_db() -> str:
    return os.environ.get("ENTRIX_GATE_DB", DEFAULT_DB)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _timestamp(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from exc
    return value if value.tzinfo else value.astimezone()


def _seed_demo(args: argparse.Namespace) -> int:
    db = Path(args.db)
    if db.exists():
        if not args.force:
            raise ReplicaError(f"{db} exists; pass --force to replace it")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    codes_path = Path(args.codes) if args.codes else db.with_name("codes.txt")
    started = datetime.now(UTC)
    with Replica(db) as replica:
        site = build_demo(replica, rights=args.rights, bans=args.bans, now=started, seed=args.seed)
        replica.set_gate_name(args.gate)
        counts = replica.counts()
    elapsed = (datetime.now(UTC) - started).total_seconds()
    write_samples(codes_path, site.samples)
    print(
        f"Demo replica {db} built in {elapsed:.1f} s: {counts.rights} rights, {counts.bans} bans, "
        f"{counts.layouts} layouts, {counts.gates} gates, {counts.keys} public key."
    )
    print(f"This terminal is gate {args.gate}. Sample codes in {codes_path}.")
    print(
        f"Try:  gate-scanner check --db {db} \"$(grep -m1 '^home-ticket' {codes_path} | cut -f2)\""
    )
    return EXIT_GRANTED


def _check(args: argparse.Namespace) -> int:
    config = (
        TerminalConfig.load(args.config)
        if args.config
        else TerminalConfig(path=Path(args.db).parent / DEFAULT_CONFIG, replica=Path(args.db).name)
    )
    db = config.replica_path
    if not db.exists():
        raise ReplicaError(f"no replica at {db}: build one with 'gate-scanner seed-demo --db {db}'")
    _say(open_sound(config))
    direction = Direction(args.direction) if args.direction else None
    codes: Iterable[str] = _stdin_codes(sys.stdin) if args.code == "-" else [args.code]
    status = EXIT_ERROR
    # A trial at another time must not become real data: it would count in the authorities'
    # export and the head counts, and use up the right.
    record = not (args.dry_run or args.at is not None)
    failed = False
    with Replica(db) as replica:
        checkpoint = Checkpoint(replica, args.gate, direction)
        for number, code in enumerate(codes, start=1):
            try:
                result = checkpoint.check(code, args.at, record=record)
            except (sqlite3.Error, OSError, ReplicaError) as exc:
                # Not recorded, so not decided: say so, and go on with the next code.
                where = f"line {number}: " if args.code == "-" else ""
                print(f"gate-scanner: {where}cannot record the scan: {exc}", file=sys.stderr)
                failed = True
                continue
            _print_result(result, replica, as_json=args.json)
            status = EXIT_GRANTED if result.decision.granted else EXIT_REFUSED
    return EXIT_ERROR if failed else status


def _stdin_codes(stream: TextIO) -> Iterable[str]:
    for line in stream:
        code = line.rstrip("\r\n")
        if code:
            yield code


def result_fields(result: CheckResult, replica: Replica) -> dict[str, Any]:
    """The decision as plain data (the ``--json`` output)."""
    decision, record = result.decision, result.record
    right = decision.right
    layout = None if right is None else replica.layout_of(right.event)
    zone = layout.zone(decision.zone) if layout is not None and decision.zone else None
    return {
        "granted": decision.granted,
        "reason": decision.reason.value,
        "detail": decision.detail,
        "gate": record.gate,
        "direction": decision.direction.value,
        "right_id": None if right is None else right.right_id.hex(),
        "event": None if right is None else right.event,
        "kind": None if right is None else RightKind(right.kind).name.lower(),
        "policy": None if right is None else EntryPolicy(right.policy).name.lower(),
        "zone": decision.zone,
        "zone_name": None if zone is None else zone.name,
        "seat": None if right is None else right.seat,
        "ban_severity": None if decision.ban is None else decision.ban.severity,
        "scan_id": record.scan_id if result.recorded else None,
        "recorded": result.recorded,
        "scanned_at": datetime.fromtimestamp(record.scanned_at_ms / 1000, UTC).isoformat(),
        "decided_ms": round(result.decided_ms, 3),
        "total_ms": round(result.total_ms, 3),
    }


def _print_result(result: CheckResult, replica: Replica, *, as_json: bool) -> None:
    fields = result_fields(result, replica)
    if as_json:
        print(json.dumps(fields, ensure_ascii=False))
        return
    verdict = "GRANTED" if fields["granted"] else "REFUSED"
    where = []
    if fields["zone"]:
        where.append(f"zone {fields['zone_name'] or fields['zone']} ({fields['zone']})")
    if fields["seat"]:
        where.append(f"seat {fields['seat']}")
    print(f"{verdict}  {fields['reason']}" + (f"  {', '.join(where)}" if where else ""))
    if fields["detail"]:
        print(f"  why: {fields['detail']}")
    if fields["right_id"]:
        print(
            f"  right {fields['right_id']}  {fields['kind']}, {fields['policy']} entry, "
            f"event {fields['event']}"
        )
    if not fields["recorded"]:
        print(
            f"  gate {fields['gate']} ({fields['direction']}),"
            f" decided in {fields['decided_ms']:.2f} ms; dry run: nothing recorded"
        )
        return
    print(
        f"  gate {fields['gate']} ({fields['direction']}),"
        f" decided in {fields['decided_ms']:.2f} ms,"
        f" recorded in {fields['total_ms']:.2f} ms, scan {fields['scan_id']}"
    )


def _replay(args: argparse.Namespace) -> int:
    # Imported here, not at the top: OpenCV and the decoders load only for commands that scan.
    from scanner_app.config import DEFAULT_DECODER, CameraSettings, ScanSettings
    from scanner_app.decoders import DecoderError
    from scanner_app.frames import FrameSourceError, open_source
    from scanner_app.replay import ReplaySummary, replay
    from scanner_app.scanning import ScanPipeline

    db = Path(args.db)
    if not db.exists():
        raise ReplicaError(f"no replica at {db}: build one with 'gate-scanner seed-demo --db {db}'")
    summary = ReplaySummary()
    reasons: dict[str, int] = {}
    try:
        decoder = args.decoder or DEFAULT_DECODER
        settings = ScanSettings(decoder=decoder, debounce_s=args.debounce)
        pipeline = ScanPipeline.from_settings(settings)
        source = open_source(CameraSettings(source=args.source, fps=args.fps), realtime=False)
        with Replica(db) as replica:
            checkpoint = Checkpoint(replica, args.gate)
            try:
                for scanned in replay(source, pipeline, checkpoint, summary):
                    reason = scanned.result.decision.reason.value
                    reasons[reason] = reasons.get(reason, 0) + 1
                    line = json.dumps(scanned.fields()) if args.json else scanned.line()
                    print(line, flush=True)
            except KeyboardInterrupt:
                pass
            finally:
                source.close()
    except (FrameSourceError, DecoderError) as exc:
        print(f"gate-scanner: {exc}", file=sys.stderr)
        return EXIT_ERROR
    counts = ", ".join(f"{reason} {n}" for reason, n in sorted(reasons.items())) or "no code"
    print(f"{summary.frames} frames, {summary.scans} scans: {counts}", file=sys.stderr)
    return EXIT_GRANTED


def _hw_test(args: argparse.Namespace) -> int:
    # Imported here, not at the top: the hardware drivers load only for this command.
    from scanner_app.hwtest import command

    return command(
        args.config,
        default_path=_default_config(),
        driver=args.driver,
        port=args.port,
        watch_s=args.watch_s,
    )


def _run(args: argparse.Namespace) -> int:
    from scanner_app.frames import FrameSourceError

    if args.config.exists():
        config = TerminalConfig.load(args.config)
        if args.db:
            config.replica = str(Path(args.db).resolve())
    elif args.demo or args.db:
        db = Path(args.db or _default_db()).resolve()
        config = TerminalConfig(path=db.parent / DEFAULT_CONFIG, replica=db.name)
    else:
        config = TerminalConfig(path=args.config)
    enrolled = bool(config.server) and config.token_path.exists()
    if not (args.demo or args.db or enrolled or config.replica_path.exists()):
        # A terminal not enrolled yet, with no data: its first screen reads the back office's
        # enrollment QR. (A replica without a server is a local gate, the demo's: it runs.)
        return _first_start(config, fullscreen=args.fullscreen)
    # A rebuild from the server is the kiosk's sync loop's to do: meanwhile it shows the
    # controller it is out of order, and a supervisor may still open by hand.
    _say(open_sound(config, rebuild_later=True))
    if not config.replica_path.exists():
        raise ReplicaError(
            f"no replica at {config.replica_path}: build one with "
            f"'gate-scanner seed-demo --db {config.replica_path}' or enroll this gate"
        )
    try:
        # Imported here, not at the top: Qt loads only for the kiosk.
        from scanner_app.ui import run
    except ImportError as exc:
        print(f"gate-scanner: the kiosk needs PySide6 ({exc})", file=sys.stderr)
        return EXIT_ERROR
    try:
        return run(config, fullscreen=args.fullscreen, demo=args.demo, demo_every_s=args.demo_every)
    except FrameSourceError as exc:
        print(f"gate-scanner: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _first_start(config: TerminalConfig, *, fullscreen: bool) -> int:
    try:
        from scanner_app.ui import run_first_start
    except ImportError as exc:
        print(
            f"gate-scanner: the kiosk needs PySide6 ({exc}); or enroll from a command line: "
            "gate-scanner enroll --link '...'",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return run_first_start(config, fullscreen=fullscreen)


if __name__ == "__main__":
    sys.exit(main())
