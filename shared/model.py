"""The domain as the decision sees it: access rights, layouts and their zones, gates, bans, usage.

Times are whole seconds since the Unix epoch (UTC), as in CWT claims; identifiers of rights and
holders are opaque bytes, as on the credential.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class EntryPolicy(IntEnum):
    """How often a right may be used to enter."""

    SINGLE = 0
    """One entry, ever: once admitted, the right is used even after leaving."""
    REENTRY = 1
    """Leave and come back, with anti-passback: it must exit before it can enter again."""
    UNLIMITED = 2
    """Any number of entries (staff)."""


class RightKind(IntEnum):
    TICKET = 0
    SUBSCRIPTION = 1
    STAFF = 2
    GUEST = 3


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class BanScope(StrEnum):
    """What a blacklist entry targets: one access right, or a person with all their rights."""

    RIGHT = "right"
    HOLDER = "holder"


@dataclass(frozen=True, slots=True)
class AccessRight:
    """What its holder may do: enter these zones of this event, in this window, under this policy.

    Rights carried by an EG1 code are self-contained (the claims); rights imported from another
    ticketing system are known only through the replica and carry their plain ``secret``.
    """

    right_id: bytes
    event: str
    zones: tuple[str, ...]
    not_before: int
    expires: int
    policy: EntryPolicy = EntryPolicy.SINGLE
    kind: RightKind = RightKind.TICKET
    holder: bytes | None = None
    seat: str | None = None
    display_name: str | None = None
    secret: str | None = None
    rotating: bool = False
    """Shown only as a rotating code (``shared.rotating``): its static code is refused
    (``static_code``). Carried in the signed credential, never in the feed."""


@dataclass(frozen=True, slots=True)
class Zone:
    """A node of a layout's zone tree (venue, stand, sector). A code names a place: two layouts
    of a venue that both have ``NORD`` mean the same stand, and share its head count."""

    code: str
    name: str
    parent: str | None = None
    capacity: int | None = None


@dataclass(frozen=True, slots=True)
class Layout:
    """One set-up of a venue (football, concert, conference): its zone tree with capacities,
    where each gate leads (its access points), and the events held in it."""

    code: str
    name: str
    zones: Mapping[str, Zone] = field(default_factory=dict)
    access: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Gate name -> the zones it leads into in this layout (absent: it leads nowhere)."""
    events: frozenset[str] = frozenset()

    def zone(self, code: str) -> Zone | None:
        return self.zones.get(code)

    def entrances(self, gate: str) -> tuple[str, ...]:
        return self.access.get(gate, ())


@dataclass(frozen=True, slots=True)
class GateConfig:
    """A gate: the events it controls and its state. Where it leads depends on the event's
    layout (:attr:`Layout.access`)."""

    name: str
    event_codes: frozenset[str]
    direction: Direction = Direction.IN
    enabled: bool = True
    grace_s: int = 0
    """Tolerance applied to both ends of a right's validity window (clock drift, late openings)."""


@dataclass(frozen=True, slots=True)
class BlacklistEntry:
    scope: BanScope
    subject: bytes
    reason: str
    severity: int = 1
    valid_from: int | None = None
    valid_until: int | None = None

    def active_at(self, now_s: float) -> bool:
        if self.valid_from is not None and now_s < self.valid_from:
            return False
        return self.valid_until is None or now_s < self.valid_until


@dataclass(frozen=True, slots=True)
class UsageState:
    """What a right has done so far, as far as this replica knows."""

    right_id: bytes
    entries: int = 0
    inside: bool = False
    zone: str | None = None
    last_scan_at: int | None = None


@dataclass(frozen=True, slots=True)
class ScanRecord:
    """One scan as logged by a gate before the turnstile moves.

    ``scan_id`` is made by the gate, so that uploading it again is a no-op.
    """

    scan_id: str
    gate: str
    direction: Direction
    reason: str
    scanned_at_ms: int
    right_id: bytes | None = None
    event: str | None = None
    zone: str | None = None
    code_kind: str = "eg1"
    latency_ms: float | None = None
    operator: str | None = None
    detail: str = ""
    annuls: str | None = None
    """For a ``not_passed`` record: the granted scan it cancels (the turnstile was not used)."""
    seq: int | None = None
    """The device's sequence number of this record, given when the gate logs it (1, 2, 3...):
    the server keeps the highest it has stored per device, so that a gate whose replica holds
    less (an older copy put back) knows it cannot trust it."""


class Logged(StrEnum):
    """Records of the scan log that are not decisions (:class:`~shared.reasons.Reason` holds
    those): written by the gate, uploaded and audited like scans, counted as no entry and no
    refusal."""

    NOT_PASSED = "not_passed"
    """The turnstile unlocked for a granted scan and nobody went through: that entry is
    annulled and the right is not consumed."""
    RELAY_FAILED = "relay_failed"
    """The relay did not obey for a granted scan: the entry is annulled too."""
    MANUAL_OPEN = "manual_open"
    """A supervisor let someone through by hand (who and why in the record)."""
    EMERGENCY_OPEN = "emergency_open"
    """A supervisor set the gate to free passage."""
    EMERGENCY_RELEASE = "emergency_release"

    @property
    def annuls_entry(self) -> bool:
        """It cancels the granted scan it names (``annuls``): that scan is no entry."""
        return self in (Logged.NOT_PASSED, Logged.RELAY_FAILED)

    @property
    def is_override(self) -> bool:
        """A supervisor's action at the gate, which the server audits."""
        return self in (Logged.MANUAL_OPEN, Logged.EMERGENCY_OPEN, Logged.EMERGENCY_RELEASE)


NOT_PASSED = Logged.NOT_PASSED
RELAY_FAILED = Logged.RELAY_FAILED
MANUAL_OPEN = Logged.MANUAL_OPEN
EMERGENCY_OPEN = Logged.EMERGENCY_OPEN
EMERGENCY_RELEASE = Logged.EMERGENCY_RELEASE
OVERRIDES = frozenset(r for r in Logged if r.is_override)
"""Log-only reasons of a supervisor's action at a gate: the server audits each of them."""
ANNULMENTS = frozenset(r for r in Logged if r.annuls_entry)
