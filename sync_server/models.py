"""The server's tables (SQLAlchemy 2.0). Times of rights and bans: Unix seconds, as on the wire."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from sync_server.db import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database (SQLite hands back naive ones otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: store aware UTC times only")
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # sync_server.roles.ROLES
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    """For the dashboard's sign-in (scrypt, see services/sessions.py); None: API token only."""
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Unused since 0007 (per account and address: :class:`SignInLock`); kept for a downgrade."""
    login_blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    language: Mapped[str | None] = mapped_column(String(8))
    """The pages' language this user chose (``fr``, ``ar``, ``en``); None: the browser's."""
    kiosk_pin_hash: Mapped[str | None] = mapped_column(String(200))
    """Their personal PIN for the gates' supervisor panel (``shared.kiosk_pin``: scrypt), sent
    to the gates of their venues; None: none."""


class UserVenue(Base):
    """The venues a venue admin (``sync_server.roles``) manages; a supervisor's or a
    controller's: the venues whose gates their kiosk PIN opens."""

    __tablename__ = "user_venues"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), primary_key=True)


class SignInLock(Base):
    """Failed dashboard sign-ins of one account from one address: they slow and lock that pair
    only, so that someone else's failures never lock the real supervisor out (issue 15)."""

    __tablename__ = "sign_in_locks"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    remote_addr: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ImportJob(Base):
    """A back-office import of rights, run in a worker thread: its progress and its outcome."""

    __tablename__ = "import_jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(12), default="queued")
    """queued, validating, writing, then done, refused (bad rows: nothing imported) or failed."""
    content_type: Mapped[str] = mapped_column(String(40), default="text/csv")
    rows: Mapped[int] = mapped_column(Integer, default=0)
    """Rows read so far (all of them once validated)."""
    imported: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """The first bad rows (``services.imports.ERRORS_KEPT``), each message cut short."""
    message: Mapped[str] = mapped_column(Text, default="")
    right_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    """The new rights' ids, for an import of up to ``services.imports.IDS_LISTED`` rows."""


class WebSession(Base):
    """A supervisor's browser session. In the database, so every server process knows it."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEntry(Base):
    """Every admin action and every manual override: who, what, when, from where."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(80), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")


class Venue(Base):
    """A site (stadium): the unit a gate syncs. It has one or more layouts (:class:`Layout`)."""

    __tablename__ = "venues"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    """IANA name (``Africa/Tunis``): every time about this venue is shown in it."""


class Layout(Base):
    """One set-up of a venue (football, concert, conference): its zone tree, where its gates
    lead (the venue's default layout: ``Gate.zones``; the others: :class:`AccessPoint`), and the
    events held in it. A venue's first layout is its default, for good."""

    __tablename__ = "layouts"
    __table_args__ = (UniqueConstraint("venue_id", "code", name="uq_layouts_venue_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class Zone(Base):
    """A zone of a layout. The code names a place: layouts that share one share its head count."""

    __tablename__ = "zones"
    __table_args__ = (UniqueConstraint("layout_id", "code", name="uq_zones_layout_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    layout_id: Mapped[int] = mapped_column(ForeignKey("layouts.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    parent: Mapped[str | None] = mapped_column(String(64))
    capacity: Mapped[int | None] = mapped_column(Integer)


class Season(Base):
    __tablename__ = "seasons"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"))
    season_id: Mapped[int | None] = mapped_column(ForeignKey("seasons.id"))
    starts_at: Mapped[int] = mapped_column(BigInteger)
    ends_at: Mapped[int] = mapped_column(BigInteger)
    layout_id: Mapped[int | None] = mapped_column(Integer)
    """The :class:`Layout` it is held in; always set by the services (nullable and without a
    foreign key only because SQLite cannot add a NOT NULL column or drop a keyed one: see
    migration 0012, which set every event's)."""
    rotating_required: Mapped[bool] = mapped_column(Boolean, default=False)
    """Gates take its rotating codes only (``shared.sync_schema.EventRuleRow``)."""


class Gate(Base):
    __tablename__ = "gates"
    __table_args__ = (UniqueConstraint("venue_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"))
    name: Mapped[str] = mapped_column(String(64))
    zones: Mapped[list[str]] = mapped_column(JSON)
    """Where it leads in its venue's default layout (empty: nowhere); other layouts:
    :class:`AccessPoint`."""
    event_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    direction: Mapped[str] = mapped_column(String(3), default="in")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    grace_s: Mapped[int] = mapped_column(Integer, default=0)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AccessPoint(Base):
    """Where a gate leads in a layout other than its venue's default."""

    __tablename__ = "access_points"
    layout_id: Mapped[int] = mapped_column(ForeignKey("layouts.id"), primary_key=True)
    gate_id: Mapped[int] = mapped_column(ForeignKey("gates.id"), primary_key=True)
    zones: Mapped[list[str]] = mapped_column(JSON)


class EnrollmentCode(Base):
    __tablename__ = "enrollment_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    gate_id: Mapped[int] = mapped_column(ForeignKey("gates.id"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Device(Base):
    """An enrolled gate terminal and its token (hashed). Revoking it cuts the terminal off."""

    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(primary_key=True)
    gate_id: Mapped[int] = mapped_column(ForeignKey("gates.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    acked_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """The highest sequence number of this device's records stored here."""
    heard_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """The highest sequence number this device's heartbeats stated (records made, uploaded or
    not). A heartbeat stating less than either runs on an older copy of its replica."""

    @property
    def known_seq(self) -> int:
        return max(self.acked_seq, self.heard_seq)


class SigningKey(Base):
    """An Ed25519 key. The private half is encrypted at rest and never leaves the server."""

    __tablename__ = "signing_keys"
    kid: Mapped[str] = mapped_column(String(16), primary_key=True)  # hex
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    private_pem: Mapped[bytes] = mapped_column(LargeBinary)  # PKCS#8, encrypted
    status: Mapped[str] = mapped_column(String(10), default="active")  # active|verify|retired
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    venue_id: Mapped[int | None] = mapped_column(Integer)
    """A venue's own key (its venue admins rotate it; only its gates trust it); None: the
    platform's, trusted everywhere. A plain column (see migration 0014)."""


class RotationKey(Base):
    """A venue's rotation key (``shared.rotating``): gates derive each right's one-time secret
    from it, and the server does to hand it to the holder. Shared with that venue's gates (it is
    in the feed), so not a signing secret: protect the database and its backups as a whole."""

    __tablename__ = "rotation_keys"
    rkid: Mapped[str] = mapped_column(String(8), primary_key=True)  # hex
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), index=True)
    key: Mapped[bytes] = mapped_column(LargeBinary(32))
    status: Mapped[str] = mapped_column(String(10), default="active")  # active|verify|retired
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AccessRight(Base):
    __tablename__ = "access_rights"
    id: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    zones: Mapped[list[str]] = mapped_column(JSON)
    not_before: Mapped[int] = mapped_column(BigInteger)
    expires: Mapped[int] = mapped_column(BigInteger)
    policy: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[int] = mapped_column(Integer, default=0)
    holder: Mapped[bytes | None] = mapped_column(LargeBinary, index=True)
    seat: Mapped[str | None] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(200))
    secret: Mapped[str | None] = mapped_column(String(512), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | revoked
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    revoked_reason: Mapped[str | None] = mapped_column(String(200))
    replaced_by: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    rotating: Mapped[bool] = mapped_column(Boolean, default=False)
    """Shown only as a rotating code: its credential carries the ``rotating`` claim."""


class HolderLink(Base):
    """A holder's page of a rotating right, ``/t/<token>``: the token is given once and kept as
    its SHA-256. One live link a right: a new one, a transfer or a revocation ends the last."""

    __tablename__ = "holder_links"
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    right_id: Mapped[bytes] = mapped_column(ForeignKey("access_rights.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(200))


class Subscription(Base):
    """A season ticket: one access right per event of the season."""

    __tablename__ = "subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("seasons.id"))
    holder: Mapped[bytes] = mapped_column(LargeBinary)
    zones: Mapped[list[str]] = mapped_column(JSON)
    policy: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[int] = mapped_column(Integer, default=1)
    seat: Mapped[str | None] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(200))


class Ban(Base):
    __tablename__ = "bans"
    __table_args__ = (Index("bans_by_subject", "scope", "subject"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))  # right | holder
    subject: Mapped[bytes] = mapped_column(LargeBinary)
    reason: Mapped[str] = mapped_column(String(500))
    severity: Mapped[int] = mapped_column(Integer, default=1)
    valid_from: Mapped[int | None] = mapped_column(BigInteger)
    valid_until: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    holder_ref: Mapped[str | None] = mapped_column(String(200))
    """The back office's own reference of the banned person, as typed (``C-1002``): on the
    server only, never in the feed (gates get the pseudonym, ``subject``)."""


class Scan(Base):
    """A scan uploaded by a gate, stored once whatever the retries (its UUID is the key)."""

    __tablename__ = "scans"
    __table_args__ = (Index("scans_by_time", "scanned_at_ms"),)
    scan_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    gate_id: Mapped[int] = mapped_column(ForeignKey("gates.id"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), index=True)
    scanned_at_ms: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    direction: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(32), index=True)
    right_id: Mapped[bytes | None] = mapped_column(LargeBinary(16), index=True)
    event: Mapped[str | None] = mapped_column(String(200), index=True)
    zone: Mapped[str | None] = mapped_column(String(200))
    code_kind: Mapped[str] = mapped_column(String(16))
    latency_ms: Mapped[float | None] = mapped_column(Float)
    operator: Mapped[str | None] = mapped_column(String(80))
    detail: Mapped[str] = mapped_column(Text, default="")
    annuls: Mapped[str | None] = mapped_column(String(36), index=True)
    """For a ``not_passed`` record: the granted scan it cancels."""
    future_ms: Mapped[int | None] = mapped_column(BigInteger)
    """A future-dated scan (a gate with a wrong clock, cut off): how far ahead of the server's
    clock the gate dated it. ``scanned_at_ms`` is then its arrival, and it counts as of then."""
    quarantine: Mapped[str | None] = mapped_column(String(200))
    """Why the server did not believe this record as uploaded (``services.plausibility``)."""
    quarantine_state: Mapped[str | None] = mapped_column(String(10), index=True)
    """``held`` (stored, not counted, not applied to usage), then ``applied`` or ``discarded``
    by an admin; None for a record believed at once."""


class UsageState(Base):
    __tablename__ = "usage_states"
    right_id: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"))
    entries: Mapped[int] = mapped_column(Integer, default=0)
    inside: Mapped[bool] = mapped_column(Boolean, default=False)
    zone: Mapped[str | None] = mapped_column(String(200))
    last_scan_at: Mapped[int | None] = mapped_column(BigInteger)
    first_gate_id: Mapped[int | None] = mapped_column(Integer)


class Occupancy(Base):
    __tablename__ = "occupancy"
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), primary_key=True)
    zone: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class Alert(Base):
    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    severity: Mapped[int] = mapped_column(Integer, default=2)
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id"))
    gate: Mapped[str | None] = mapped_column(String(64))
    zone: Mapped[str | None] = mapped_column(String(200))
    right_id: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    message: Mapped[str] = mapped_column(Text)
    """In English, for the API and for alerts raised before ``facts`` were kept."""
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    facts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """What the alert was raised with (counts, instants in ms, a gate's own words): each page
    says it in its language and time zone (``sync_server.words.ALERT_MESSAGES``)."""


class Change(Base):
    """The change feed, compacted: the latest change of each replicated row, by (kind, scope, key).

    ``seq`` comes from :class:`FeedCounter` while its row lock is held, so sequence order is
    commit order and a reader can never see a later change before an earlier one.
    """

    __tablename__ = "changes"
    __table_args__ = (Index("changes_by_scope", "scope", "seq"),)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    # Zone, gate and occupancy keys are codes unique within a venue only: the scope (the venue's
    # code, or "*" for rows every gate gets) is part of a row's identity.
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    op: Mapped[str] = mapped_column(String(6))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class FeedCounter(Base):
    __tablename__ = "feed_counter"
    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    epoch: Mapped[str] = mapped_column(String(32), default="")
    """The database's identity, given afresh by ``gate-server mark-restored`` after a restore from
    a backup: a gate that sees it change sends its scans again (the restore may have lost some,
    refusals included, which move no cursor) and rebuilds its replica from change 0."""
