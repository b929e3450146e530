"""Making a terminal a gate: trade a one-time enrollment code for its device token, write its
configuration and token, pull the gate's data. ``gate-scanner enroll`` does it from a command
line; a terminal's first start (:mod:`scanner_app.first_start`) does it from the QR code the back
office shows, read by its camera or its code reader."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scanner_app.config import TerminalConfig
from scanner_app.replica import Replica, ReplicaCounts, ReplicaError, move_replica
from scanner_app.salvage import VENUE
from scanner_app.sync import client_for, enroll


@dataclass(frozen=True, slots=True)
class Enrolled:
    config: TerminalConfig
    pulled: int
    counts: ReplicaCounts


def enroll_terminal(
    config_path: Path, server: str, code: str, pins: list[str], *, force: bool = False
) -> Enrolled:
    """Enroll this terminal with ``server``; refuses while the replica has scans not uploaded
    (unless ``force``). Another gate's replica is moved aside, its scans kept in it."""
    config = TerminalConfig.load(config_path) if config_path.exists() else None
    if config is not None and config.replica_path.exists() and not force:
        with Replica(config.replica_path) as old:
            pending = old.counts().scans_pending
        if pending:
            raise ReplicaError(
                f"{pending} scans of this terminal are not uploaded yet: run 'gate-scanner sync "
                "--once' first, or pass --force (they stay in the old replica file)"
            )
    enrollment = enroll(server, code, pins=pins)
    config = config or TerminalConfig(path=config_path)
    if config.replica_path.exists() and (config.venue, config.gate) != (
        enrollment.venue,
        enrollment.gate,
    ):
        # Another gate's data (and maybe its unsent scans): keep the file aside, start afresh.
        aside = config.replica_path.with_suffix(f".{config.venue}-{config.gate}.old")
        move_replica(config.replica_path, aside, journal=True)
    config.server, config.venue, config.gate = enrollment.server, enrollment.venue, enrollment.gate
    config.server_pins = list(pins)
    config.save()
    config.save_token(enrollment.token)
    with Replica(config.replica_path) as replica, client_for(config, replica) as client:
        applied = client.pull()
        replica.set_gate_name(enrollment.gate)
        replica.set_meta(VENUE, enrollment.venue)
        counts = replica.counts()
    return Enrolled(config, applied, counts)
