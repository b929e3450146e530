"""The gate-server wire, besides the change feed (:mod:`shared.sync_schema`): enrollment, scan
upload, heartbeat, and their answers. Both sides build and read these same models: the limits
below are declared once, and the gate never shapes a request by hand.

Text a gate read off a scanned code, or a device's state, is cut to its limit rather than
refused: one odd code must never make the server refuse a gate's whole batch of scans.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from shared.model import Direction, ScanRecord

NUL_MESSAGE = "text must not contain NUL (\\x00) characters"
MAX_TIME_MS = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z: the last time a datetime can show (a BIGINT holds it easily)."""
UUID_PATTERN = r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$"
DETAIL_MAX = 1_000
LOOSE_MAX = 200
STATE_MAX = 40
UPLOAD_MAX = 5_000
"""Scans in one upload request."""
SEQ_MAX = 2**62
"""A device's record sequence number fits a BIGINT, with room."""

Seq = Annotated[int, Field(ge=0, le=SEQ_MAX)]


def refuse_nul(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL: refuse it, with a message, on either database."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(NUL_MESSAGE)
    elif isinstance(value, list | tuple):
        for item in value:
            refuse_nul(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_nul(key)
            refuse_nul(item)
    return value


def _cut(limit: int | None) -> BeforeValidator:
    """A NUL replaced (U+FFFD), and the text cut to ``limit`` characters if one is given."""

    def cut(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = value.replace("\x00", "\ufffd")
        return value if limit is None else value[:limit]

    return BeforeValidator(cut)


_NUL_REPLACED = _cut(None)

Loose = Annotated[str, _NUL_REPLACED, Field(max_length=LOOSE_MAX)]
"""Text a gate read off a scanned code (a gate name, a zone...)."""
Detail = Annotated[str, _cut(DETAIL_MAX), Field(max_length=DETAIL_MAX)]
"""What the gate noted about a scan: cut to the limit, never a reason to refuse a batch."""
State = Annotated[str, _cut(STATE_MAX), Field(max_length=STATE_MAX)]
"""A device's state in a heartbeat ("ok", "error: ..."), cut to the limit."""
ReasonText = Annotated[str, _NUL_REPLACED, Field(min_length=1, max_length=32)]
CodeKind = Annotated[str, _NUL_REPLACED, Field(max_length=16)]
Operator = Annotated[str, _NUL_REPLACED, Field(max_length=80)]


class WireIn(BaseModel):
    """What a client sends: unknown fields refused, NUL refused (save where cut above)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return refuse_nul(value)


class EnrollRequest(WireIn):
    code: Annotated[str, Field(min_length=4, max_length=32)]


class Enrollment(BaseModel):
    token: str
    """Shown once: the gate stores it; the server keeps only its hash."""
    venue: str
    gate: str
    server_time_ms: int


class ScanIn(WireIn):
    scan_id: Annotated[str, Field(pattern=UUID_PATTERN)]
    gate: Loose
    direction: Direction
    reason: ReasonText
    scanned_at_ms: Annotated[int, Field(ge=0, le=MAX_TIME_MS)]
    right_id: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{32}$")] | None = None
    event: Loose | None = None
    zone: Loose | None = None
    code_kind: CodeKind = "eg1"
    latency_ms: Annotated[float, Field(ge=0)] | None = None
    operator: Operator | None = None
    detail: Detail = ""
    annuls: Annotated[str, Field(pattern=UUID_PATTERN)] | None = None
    """For a ``not_passed`` record: the granted scan it cancels (nobody went through)."""
    seq: Seq | None = None
    """The device's sequence number of the record (gates of release 0.1.0 send none)."""

    @classmethod
    def from_record(cls, scan: ScanRecord) -> ScanIn:
        """The upload of one scan of the gate's log."""
        return cls(
            scan_id=scan.scan_id,
            gate=scan.gate,
            direction=scan.direction,
            reason=scan.reason,
            scanned_at_ms=scan.scanned_at_ms,
            right_id=None if scan.right_id is None else scan.right_id.hex(),
            event=scan.event,
            zone=scan.zone,
            code_kind=scan.code_kind,
            latency_ms=scan.latency_ms,
            operator=scan.operator,
            detail=scan.detail,
            annuls=scan.annuls,
            seq=scan.seq,
        )

    def to_record(self) -> ScanRecord:
        """The scan as the gate logged it (read back from its journal)."""
        return ScanRecord(
            scan_id=self.scan_id,
            gate=self.gate,
            direction=self.direction,
            reason=self.reason,
            scanned_at_ms=self.scanned_at_ms,
            right_id=None if self.right_id is None else bytes.fromhex(self.right_id),
            event=self.event,
            zone=self.zone,
            code_kind=self.code_kind,
            latency_ms=self.latency_ms,
            operator=self.operator,
            detail=self.detail,
            annuls=self.annuls,
            seq=self.seq,
        )


class ScanUpload(WireIn):
    scans: list[ScanIn] = Field(max_length=UPLOAD_MAX)


class ScanUploadResult(BaseModel):
    stored: int
    duplicates: int
    server_time_ms: int
    refused: dict[str, str] = Field(default_factory=dict)
    """Scan id: why the server did not store it (a device speaks for its own gate only); the
    gate drops it, and the supervisors are alerted."""
    held: int = 0
    """Stored but held in quarantine, not counted until an admin applies them."""


class Heartbeat(WireIn):
    version: Annotated[str, Field(max_length=40)] = ""
    cursor: Annotated[int, Field(ge=0)] = 0
    outbox: Annotated[int, Field(ge=0)] = 0
    last_sync_ms: Annotated[int, Field(ge=0, le=MAX_TIME_MS)] | None = None
    clock_ms: Annotated[int, Field(ge=0, le=MAX_TIME_MS)] | None = None
    camera: State = "unknown"
    relay: State = "unknown"
    counters: dict[str, int] = Field(default_factory=dict, max_length=50)
    seq: Seq = 0
    """The highest sequence number the gate has given a record: with ``outbox``, what it would
    lose if its replica were lost now."""
    replica: State = "ok"
    """``ok``, ``rebuilding`` (from the server, deciding nothing meanwhile) or ``damaged`` (the
    gate's last heartbeat until it is restarted: its other fields are not read from the file)."""
    replica_error: Detail = ""
    clock_verified_ms: Annotated[int, Field(ge=0, le=MAX_TIME_MS)] | None = None
    """When the gate last set its clock against the server's (before this heartbeat). Instants
    are bounded like a scan's: one beyond the years a date can hold is refused (422), not a
    server error when the alert or the tile reads it."""


class ReplicaLost(WireIn):
    """A gate found its replica missing, empty or another's: the scans it had not uploaded are
    gone, and the server must say so (it knows how many from the last heartbeat)."""

    why: Annotated[str, _cut(LOOSE_MAX), Field(min_length=1, max_length=LOOSE_MAX)]


class ReplicaLostAnswer(BaseModel):
    known_seq: int
    """The highest sequence number of the device's records the server knows of (stored, or
    stated by a heartbeat): the new replica numbers its records after it."""


class HeartbeatAnswer(BaseModel):
    server_time_ms: int
    skew_ms: int | None
    """Gate clock minus server clock, from the heartbeat's clock reading (network delay aside)."""
    head: int
    """The feed's latest change: a gate whose cursor is behind should pull."""
    epoch: str
    """The database's identity: when it changes (a restore from a backup), the gate sends every
    scan it holds again and rebuilds its replica from change 0."""
    known_seq: int = 0
    """The highest sequence number of this device's records the server knows of (stored, or
    stated by a heartbeat): a gate whose replica holds less runs on an older copy of it, and
    must resync before it decides again."""
