"""API schemas, in families per resource (``XCreate`` in, ``XPublic`` out)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import IntEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
)

from shared.gate_wire import (
    Enrollment,
    EnrollRequest,
    Heartbeat,
    HeartbeatAnswer,
    ScanIn,
    ScanUpload,
    ScanUploadResult,
    WireIn,
)
from shared.model import BanScope, Direction, EntryPolicy, RightKind
from sync_server import localtime


def _by_name(enum: type[IntEnum]) -> BeforeValidator:
    """Accept an enum member by name ("single", "staff") as well as by number (CSV friendly)."""

    def parse(value: Any) -> Any:
        if isinstance(value, str) and not value.strip().isdigit():
            try:
                return enum[value.strip().upper()]
            except KeyError:
                names = ", ".join(m.name.lower() for m in enum)
                raise ValueError(f"expected one of {names}") from None
        return value

    return BeforeValidator(parse)


PolicyIn = Annotated[EntryPolicy, _by_name(EntryPolicy)]
KindIn = Annotated[RightKind, _by_name(RightKind)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
MAX_INT = 2**31 - 1
"""The largest value of an INTEGER column (PostgreSQL's is 32 bits)."""
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
"""Times are stored as Unix seconds; a few hours' defaults either side must stay within Python's."""


def _when(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give a time zone, e.g. 2026-11-22T20:00:00+01:00")
    if not EARLIEST <= value < LATEST:
        raise ValueError(f"give a time from {EARLIEST.year} to {LATEST.year}")
    return value


When = Annotated[datetime, AfterValidator(_when)]
"""An instant with its time zone, within the years the server can store and show."""


def _timezone(value: str) -> str:
    if not localtime.is_timezone(value):
        raise ValueError(f"{value!r} is not an IANA time zone, e.g. Africa/Tunis or Europe/Paris")
    return value


TimeZoneName = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_timezone)]
"""An IANA time zone name (``Africa/Tunis``)."""


_In = WireIn
"""What a client sends: unknown fields and NUL refused (:mod:`shared.gate_wire`)."""


# -- venues and zones ---------------------------------------------------------------------------


class ZoneIn(_In):
    code: Code
    name: Name
    parent: Code | None = None
    capacity: Annotated[int, Field(ge=0, le=MAX_INT)] | None = None


class VenueCreate(_In):
    code: Code
    name: Name
    timezone: TimeZoneName | None = None
    """The venue's local time; the server's ``default_timezone`` when left out."""
    zones: list[ZoneIn] = Field(default_factory=list, max_length=10_000)
    """The zones of its first layout, its default."""
    layout: Code = "MAIN"
    layout_name: Name = "Main layout"


class VenueUpdate(_In):
    name: Name | None = None
    timezone: TimeZoneName | None = None


class ZonePublic(BaseModel):
    code: str
    name: str
    parent: str | None
    capacity: int | None
    occupancy: int = 0


class LayoutCreate(_In):
    code: Code
    name: Name
    zones: list[ZoneIn] = Field(default_factory=list, max_length=2000)
    copy_from: Code | None = None
    """Another layout of the venue whose zones and access points the new one starts from."""


AccessPoints = Annotated[
    dict[Code, Annotated[list[Code], Field(max_length=100)]], Field(max_length=500)
]
"""Gate name -> the zones it leads into (an empty list: nowhere)."""


class LayoutUpdate(_In):
    name: Name


class LayoutPublic(BaseModel):
    code: str
    name: str
    default: bool
    zones: list[ZonePublic]
    access: dict[str, list[str]]
    """Gate name -> the zones it leads into in this layout."""
    events: list[str]


class VenuePublic(BaseModel):
    code: str
    name: str
    timezone: str
    zones: list[ZonePublic]
    """Its default layout's zones (also in ``layouts``)."""
    layouts: list[LayoutPublic] = []


# -- seasons and events -------------------------------------------------------------------------


class SeasonCreate(_In):
    code: Code
    name: Name


class SeasonPublic(BaseModel):
    code: str
    name: str
    events: list[str]


class EventCreate(_In):
    code: Code
    name: Name
    venue: Code
    layout: Code | None = None
    """The venue's layout it is held in; its default if not given."""
    season: Code | None = None
    starts_at: When
    ends_at: When
    rotating_required: bool = False
    """Gates take rotating codes only: its rights are issued rotating, static codes refused."""


class EventRotating(_In):
    required: bool


class EventPublic(BaseModel):
    code: str
    name: str
    venue: str
    layout: str
    season: str | None
    starts_at: datetime
    ends_at: datetime
    over: bool = False
    """It ended before now: its rights admit nobody (created so on purpose, for a record?)."""
    rotating_required: bool = False


# -- gates and devices --------------------------------------------------------------------------


class GateCreate(_In):
    venue: Code
    name: Code
    zones: list[Code] = Field(default_factory=list)
    """Where it leads in the venue's default layout."""
    access: AccessPoints = Field(default_factory=dict)
    """Layout code -> where it leads in that (other) layout."""
    event_codes: list[Code] = Field(default_factory=list)
    direction: Direction = Direction.IN
    enabled: bool = True
    grace_s: Annotated[int, Field(ge=0, le=86_400)] = 300


class GateUpdate(_In):
    zones: list[Code] | None = None
    """Where it leads in the default layout (other layouts: their access points)."""
    event_codes: list[Code] | None = None
    direction: Direction | None = None
    enabled: bool | None = None
    grace_s: Annotated[int, Field(ge=0, le=86_400)] | None = None


class GatePublic(BaseModel):
    venue: str
    name: str
    zones: list[str]
    """Where it leads in the venue's default layout."""
    access: dict[str, list[str]] = {}
    """Layout code -> where it leads in it, for every layout it leads somewhere in."""
    event_codes: list[str]
    direction: Direction
    enabled: bool
    grace_s: int
    online: bool
    last_seen_at: datetime | None
    status: dict[str, Any]


class EnrollmentCodePublic(BaseModel):
    venue: str
    gate: str
    code: str
    expires_at: datetime


# -- access rights ------------------------------------------------------------------------------


class RightCreate(_In):
    event: Code
    zones: list[Code] = Field(min_length=1, max_length=16)
    holder: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    """The back office's own reference of the person (customer number...); gates see a pseudonym."""
    policy: PolicyIn = EntryPolicy.SINGLE
    kind: KindIn = RightKind.TICKET
    seat: Annotated[str, Field(max_length=64)] | None = None
    display_name: Annotated[str, Field(max_length=200)] | None = None
    secret: Annotated[str, Field(min_length=4, max_length=512)] | None = None
    """A code from another ticketing system; without it, the right gets a signed EG1 code."""
    not_before: When | None = None
    expires: When | None = None
    rotating: bool | None = None
    """Shown only as a rotating code (a holder's link, a wallet); its static code is refused.
    Not given: as its event requires."""


class RightPublic(BaseModel):
    right_id: str
    event: str
    zones: list[str]
    holder_id: str | None
    policy: EntryPolicy
    kind: RightKind
    seat: str | None
    display_name: str | None
    plain_code: bool
    not_before: datetime
    expires: datetime
    status: str
    revoked_reason: str | None
    replaced_by: str | None
    rotating: bool = False


class RowProblem(BaseModel):
    """What is wrong with a row, for the pages to say in their language: a refusal's key
    (``sync_server.words.REFUSALS``) and its values, or ``field`` for a cell its model refused
    (values: pydantic's ``type``, the column, its ``msg`` and limits)."""

    said: str
    values: dict[str, str] = Field(default_factory=dict)


class RowError(BaseModel):
    row: int
    """The row as the user sees it: the spreadsheet's row for a CSV (the header is row 1), the
    position (from 1) in a JSON list."""
    message: str
    """In English (the API's words)."""
    problems: list[RowProblem] = Field(default_factory=list)
    """The same, to be said in a page's language (``words.row_error``)."""


class ImportReport(BaseModel):
    imported: int
    errors: list[RowError]
    """The first bad rows (at most 200), each message cut short: never the input echoed back."""
    right_ids: list[str] = Field(default_factory=list)
    """The new rights, for an import of up to 10,000 rows (``gate-admin rights list`` else)."""
    error_count: int = 0
    """Every bad row, counted (``errors`` lists the first ones)."""
    job: str = ""
    """The import job (``GET /api/v1/jobs/{job}``)."""


class ImportJobPublic(BaseModel):
    job: str
    state: str
    """queued, validating, writing, then done, refused (bad rows: nothing imported) or failed."""
    rows: int
    imported: int
    error_count: int
    errors: list[RowError]
    message: str
    created_at: datetime
    finished_at: datetime | None
    right_ids: list[str] = Field(default_factory=list)
    """The new rights, for an import of up to 10,000 rows."""


class RevokeRequest(_In):
    reason: Annotated[str, Field(min_length=1, max_length=200)]


class TransferRequest(_In):
    holder: Annotated[str, Field(min_length=1, max_length=200)]
    seat: Annotated[str, Field(max_length=64)] | None = None
    display_name: Annotated[str, Field(max_length=200)] | None = None


class TransferPublic(BaseModel):
    old: RightPublic
    new: RightPublic
    code: str | None
    """The new right's static code; None for a rotating right, which gets ``holder_link``."""
    holder_link: str | None = None
    """The new holder's link (``/t/<token>``) for a rotating right: the old one is dead."""


class HolderLinkPublic(BaseModel):
    right_id: str
    url: str
    """Give it to the holder only: whoever has it sees the ticket's codes."""


class IssuedCode(BaseModel):
    right_id: str
    code: str
    """The text to put in the QR code (EG1 or the plain secret)."""


class SubscriptionCreate(_In):
    season: Code
    holder: Annotated[str, Field(min_length=1, max_length=200)]
    zones: list[Code] = Field(min_length=1, max_length=16)
    policy: PolicyIn = EntryPolicy.REENTRY
    kind: KindIn = RightKind.SUBSCRIPTION
    seat: Annotated[str, Field(max_length=64)] | None = None
    display_name: Annotated[str, Field(max_length=200)] | None = None


class SubscriptionPublic(BaseModel):
    id: int
    season: str
    holder_id: str
    zones: list[str]
    rights: list[RightPublic]


# -- blacklist ----------------------------------------------------------------------------------


class BanCreate(_In):
    scope: BanScope
    right_id: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{32}$")] | None = None
    holder: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    severity: Annotated[int, Field(ge=1, le=3)] = 2
    valid_from: When | None = None
    valid_until: When | None = None


class BanPublic(BaseModel):
    id: str
    scope: BanScope
    subject: str
    reason: str
    severity: int
    valid_from: datetime | None
    valid_until: datetime | None
    created_by: str
    created_at: datetime
    active: bool
    holder: str | None = None
    """The office's own reference of the person, as typed (bans made since it is kept)."""


# -- accounts ------------------------------------------------------------------------------------


class UserCreate(_In):
    name: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[\w.@+-]+$")]
    role: Literal["admin", "venue_admin", "supervisor", "controller"]
    venues: list[Code] = Field(default_factory=list, max_length=100)
    """A venue admin's venues; a supervisor's or controller's: where their kiosk PIN works."""
    password: Annotated[str, Field(min_length=8, max_length=200)] | None = None
    """For the pages (dashboard, back office); the API token is made either way."""


class UserPublic(BaseModel):
    name: str
    role: str
    venues: list[str]
    disabled: bool
    has_password: bool
    kiosk_pin: bool = False
    """It has a personal kiosk PIN (sent to the gates of its venues)."""


class KioskPin(_In):
    pin: Annotated[str, Field(pattern=r"^[0-9]{4,12}$")]
    """4 to 12 digits; kept hashed (scrypt), never shown again."""


class UserCreated(UserPublic):
    token: str
    """The account's API token: shown only now (the server keeps its hash)."""


# -- keys -------------------------------------------------------------------------------------


class KeyPublic(BaseModel):
    kid: str
    public_key: str
    status: Literal["active", "verify", "retired"]
    created_at: datetime
    retired_at: datetime | None
    venue: str | None = None
    """A venue's own key; None: the platform's, trusted by every gate."""


class RotationKeyPublic(BaseModel):
    rkid: str
    venue: str
    status: Literal["active", "verify", "retired"]
    created_at: datetime


class RotatingCodePublic(BaseModel):
    """A right's rotating code material (``shared.rotating``): what a holder's page or a wallet
    needs to show codes that change every ``period_s`` seconds. ``secret`` is the right's own
    (base16, as Google Wallet's ``TotpParameters.key``): hand it to the holder only."""

    right_id: str
    rkid: str
    secret: str
    period_s: int
    digits: int
    value_pattern: str
    code: str
    """The code as of now (it changes with every period)."""


class KeyRotate(_In):
    venue: Code | None = None
    """Rotate this venue's own key (its venue admins may); none: the platform's (admins)."""


# -- scans, alerts, audit -----------------------------------------------------------------------


class ScanPublic(BaseModel):
    scan_id: str
    gate: str
    scanned_at: datetime
    received_at: datetime
    direction: str
    reason: str
    right_id: str | None
    event: str | None
    zone: str | None
    code_kind: str
    latency_ms: float | None
    operator: str | None
    detail: str
    future_ms: int | None = None
    """Set when the gate dated the scan this far ahead of the server's clock: ``scanned_at`` is
    then when it arrived."""


class AlertPublic(BaseModel):
    id: int
    at: datetime
    kind: str
    severity: int
    venue: str | None = None
    """The venue the alert is about (gate names are unique per venue only)."""
    gate: str | None
    zone: str | None
    right_id: str | None
    message: str
    """In English; ``facts`` lets a client say it in its own words and time (gate-admin does)."""
    acknowledged_at: datetime | None
    facts: dict[str, Any] | None = None
    """What the alert was raised with: counts, instants in ms (``since_ms``), a gate's words."""


class AuditPublic(BaseModel):
    at: datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
    remote_addr: str


# -- gate API: shared.gate_wire (both sides build and read the same models) --------------------

__all__ = [
    "EnrollRequest",
    "Enrollment",
    "Heartbeat",
    "HeartbeatAnswer",
    "ScanIn",
    "ScanUpload",
    "ScanUploadResult",
]


class HeldScan(BaseModel):
    """A scan held in quarantine: stored, not counted, until an admin applies or discards it."""

    scan_id: str
    venue: str
    gate: str
    scanned_at: datetime
    received_at: datetime
    direction: str
    reason: str
    right_id: str | None
    why: str


class QuarantineDecision(WireIn):
    scan_ids: list[Annotated[str, Field(max_length=36)]] = Field(min_length=1, max_length=10_000)
    decision: Literal["applied", "discarded"]


class QuarantineDecided(BaseModel):
    decided: int
    decision: str
