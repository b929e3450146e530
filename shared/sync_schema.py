"""Wire schemas of the change feed: what the server sends and the gate's replica applies.

Every replicated row travels as a :class:`Change` carrying the server's change sequence. A page
(:class:`ChangeBatch`) says which cursor it continues from and which cursor it ends at, so a gate
can refuse a page that would skip changes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from shared.credential import RIGHT_ID_LENGTH
from shared.model import (
    AccessRight,
    BanScope,
    BlacklistEntry,
    Direction,
    EntryPolicy,
    GateConfig,
    RightKind,
    UsageState,
    Zone,
)


def _from_hex(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return bytes.fromhex(value)
        except ValueError as exc:
            raise ValueError("expected hexadecimal bytes") from exc
    return value


HexBytes = Annotated[
    bytes, BeforeValidator(_from_hex), PlainSerializer(lambda b: b.hex(), return_type=str)
]
RightId = Annotated[HexBytes, Field(min_length=RIGHT_ID_LENGTH, max_length=RIGHT_ID_LENGTH)]
Code = Annotated[str, Field(min_length=1, max_length=64)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventRow(_Row):
    code: Code
    name: str
    starts_at: int | None = None
    ends_at: int | None = None
    venue: str | None = None


class ZoneRow(_Row):
    code: Code
    name: str
    parent: Code | None = None
    capacity: Annotated[int, Field(ge=0)] | None = None

    def to_zone(self) -> Zone:
        return Zone(self.code, self.name, self.parent, self.capacity)


class GateRow(_Row):
    name: Code
    zones: list[Code] = Field(min_length=1)
    event_codes: list[Code] = []
    direction: Direction = Direction.IN
    enabled: bool = True
    grace_s: Annotated[int, Field(ge=0, le=86_400)] = 0

    def to_gate(self) -> GateConfig:
        return GateConfig(
            self.name,
            tuple(self.zones),
            frozenset(self.event_codes),
            self.direction,
            self.enabled,
            self.grace_s,
        )


class RightRow(_Row):
    right_id: RightId
    event: Code
    zones: list[Code] = Field(min_length=1)
    not_before: int
    expires: int
    policy: EntryPolicy = EntryPolicy.SINGLE
    kind: RightKind = RightKind.TICKET
    holder: HexBytes | None = None
    seat: str | None = None
    display_name: str | None = None
    secret: Annotated[str, Field(min_length=1, max_length=512)] | None = None

    def to_right(self) -> AccessRight:
        return AccessRight(
            self.right_id,
            self.event,
            tuple(self.zones),
            self.not_before,
            self.expires,
            self.policy,
            self.kind,
            self.holder,
            self.seat,
            self.display_name,
            self.secret,
        )

    @classmethod
    def from_right(cls, right: AccessRight) -> RightRow:
        return cls(
            right_id=right.right_id,
            event=right.event,
            zones=list(right.zones),
            not_before=right.not_before,
            expires=right.expires,
            policy=right.policy,
            kind=right.kind,
            holder=right.holder,
            seat=right.seat,
            display_name=right.display_name,
            secret=right.secret,
        )


class RevocationRow(_Row):
    right_id: RightId
    revoked_at: int
    reason: str = ""


class BanRow(_Row):
    ban_id: Code
    scope: BanScope
    subject: HexBytes = Field(min_length=1, max_length=64)
    reason: str
    severity: Annotated[int, Field(ge=1, le=3)] = 1
    valid_from: int | None = None
    valid_until: int | None = None

    def to_entry(self) -> BlacklistEntry:
        return BlacklistEntry(
            self.scope, self.subject, self.reason, self.severity, self.valid_from, self.valid_until
        )


class KeyRow(_Row):
    kid: HexBytes = Field(min_length=8, max_length=8)
    public_key: HexBytes = Field(min_length=32, max_length=32)


class UsageRow(_Row):
    right_id: RightId
    entries: Annotated[int, Field(ge=0)]
    inside: bool
    zone: Code | None = None
    last_scan_at: int | None = None

    def to_usage(self) -> UsageState:
        return UsageState(self.right_id, self.entries, self.inside, self.zone, self.last_scan_at)


class OccupancyRow(_Row):
    zone: Code
    count: Annotated[int, Field(ge=0)]


class ChangeKind(StrEnum):
    EVENT = "event"
    ZONE = "zone"
    GATE = "gate"
    RIGHT = "right"
    REVOCATION = "revocation"
    BAN = "ban"
    KEY = "key"
    USAGE = "usage"
    OCCUPANCY = "occupancy"


ROW_TYPES: dict[ChangeKind, type[_Row]] = {
    ChangeKind.EVENT: EventRow,
    ChangeKind.ZONE: ZoneRow,
    ChangeKind.GATE: GateRow,
    ChangeKind.RIGHT: RightRow,
    ChangeKind.REVOCATION: RevocationRow,
    ChangeKind.BAN: BanRow,
    ChangeKind.KEY: KeyRow,
    ChangeKind.USAGE: UsageRow,
    ChangeKind.OCCUPANCY: OccupancyRow,
}


class Change(BaseModel):
    """One replicated row, upserted or deleted. ``key`` names the row (hex for byte ids)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: Annotated[int, Field(ge=1)]
    kind: ChangeKind
    op: Literal["upsert", "delete"] = "upsert"
    key: Annotated[str, Field(min_length=1, max_length=128)]
    data: dict[str, Any] | None = None

    def row(self) -> _Row:
        """The typed row of an upsert; raises pydantic's ValidationError on a bad payload."""
        return ROW_TYPES[self.kind].model_validate(self.data or {})

    @classmethod
    def upsert(cls, seq: int, row: _Row) -> Change:
        kind = next(k for k, t in ROW_TYPES.items() if isinstance(row, t))
        data = row.model_dump(mode="json")
        return cls(seq=seq, kind=kind, key=row_key(kind, data), data=data)


def row_key(kind: ChangeKind, data: dict[str, Any]) -> str:
    field_name = {
        ChangeKind.EVENT: "code",
        ChangeKind.ZONE: "code",
        ChangeKind.GATE: "name",
        ChangeKind.RIGHT: "right_id",
        ChangeKind.REVOCATION: "right_id",
        ChangeKind.BAN: "ban_id",
        ChangeKind.KEY: "kid",
        ChangeKind.USAGE: "right_id",
        ChangeKind.OCCUPANCY: "zone",
    }[kind]
    return str(data[field_name])


class ChangeBatch(BaseModel):
    """A page of the change feed: the changes after cursor ``since``, up to ``cursor`` included."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    since: Annotated[int, Field(ge=0)]
    cursor: Annotated[int, Field(ge=0)]
    changes: list[Change] = []
    more: bool = False
