"""Wire schemas of the change feed: what the server sends and the gate's replica applies.

Every replicated row travels as a :class:`Change` carrying the server's change sequence. A page
(:class:`ChangeBatch`) says which cursor it continues from and which cursor it ends at, so a gate
can refuse a page that would skip changes.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from enum import IntEnum, StrEnum
from functools import cached_property, lru_cache
from operator import attrgetter
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    model_validator,
)

from shared.credential import RIGHT_ID_LENGTH, key_id
from shared.model import (
    AccessRight,
    BanScope,
    BlacklistEntry,
    Direction,
    EntryPolicy,
    GateConfig,
    Layout,
    RightKind,
    UsageState,
    Zone,
)
from shared.rotating import rotation_key_id


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
    zones: list[Code] = []
    """Where the gate leads in its venue's default layout, for protocol-2 gates (which are
    served only while their venue has one layout). Protocol 3 reads :class:`LayoutRow`."""
    event_codes: list[Code] = []
    direction: Direction = Direction.IN
    enabled: bool = True
    grace_s: Annotated[int, Field(ge=0, le=86_400)] = 0

    def to_gate(self) -> GateConfig:
        return GateConfig(
            self.name,
            frozenset(self.event_codes),
            self.direction,
            self.enabled,
            self.grace_s,
        )


class LayoutRow(_Row):
    """One layout of the venue, whole: its zone tree, where each gate leads, and its events.
    Small (tens of zones and gates): a change to any part sends the layout again."""

    code: Code
    name: str
    zones: list[ZoneRow] = []
    access: dict[Code, list[Code]] = {}
    """Gate name -> the zones it leads into in this layout."""
    events: list[Code] = []

    def to_layout(self) -> Layout:
        return Layout(
            self.code,
            self.name,
            {z.code: z.to_zone() for z in self.zones},
            {gate: tuple(zones) for gate, zones in self.access.items()},
            frozenset(self.events),
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
        """The domain's right: the same fields, by name."""
        return AccessRight(**{**dict(self), "zones": tuple(self.zones)})

    @classmethod
    def from_right(cls, right: AccessRight) -> RightRow:
        kept = (f.name for f in fields(right) if f.name in cls.model_fields)  # not `rotating`
        values = {name: getattr(right, name) for name in kept}
        return cls(**{**values, "zones": list(right.zones)})


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

    @model_validator(mode="after")
    def _kid_names_the_key(self) -> KeyRow:
        if key_id(self.public_key) != self.kid:
            raise ValueError("kid does not match the public key")
        return self


class RotationKeyRow(_Row):
    """A venue's rotation key (``shared.rotating``): its gates derive each right's one-time
    secret from it. Secret material: sent to that venue's gates only, kept in their replica."""

    rkid: HexBytes = Field(min_length=4, max_length=4)
    key: HexBytes = Field(min_length=32, max_length=32)

    @model_validator(mode="after")
    def _rkid_names_the_key(self) -> RotationKeyRow:
        if rotation_key_id(self.key) != self.rkid:
            raise ValueError("rkid does not match the rotation key")
        return self


class EventRuleRow(_Row):
    """What an event requires of the codes its gates take, beyond the right: sent to the gates
    of its venue (protocol 3). ``rotating_required``: static codes (printed, copied, imported
    plain secrets) are refused ``static_code``; only rotating codes enter."""

    event: Code
    rotating_required: bool = False


class StaffRow(_Row):
    """A person of the staff with a kiosk PIN, sent to the gates of their venues: the panel
    opens to them, and what they do there is recorded under ``name``."""

    name: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[\w.@+-]+$")]
    role: Annotated[str, Field(min_length=1, max_length=20)]
    pin_hash: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^scrypt\$")]


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
    LAYOUT = "layout"
    RIGHT = "right"
    REVOCATION = "revocation"
    BAN = "ban"
    KEY = "key"
    STAFF = "staff"
    ROTATION_KEY = "rotation_key"
    EVENT_RULE = "event_rule"
    USAGE = "usage"
    OCCUPANCY = "occupancy"


# -- each replicated kind, declared once ---------------------------------------------------------


Codec = Callable[[Any], Any]


def _stored(annotation: Any) -> tuple[Codec | None, Codec | None]:
    """How a field of this type is written to SQLite and read back (None: as it is)."""
    if get_origin(annotation) in (Union, types.UnionType):
        (annotation,) = (a for a in get_args(annotation) if a is not type(None))
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) is list and not _holds_models(annotation):
        return _json_list, json.loads
    if get_origin(annotation) in (list, dict):  # of rows, or a mapping: as JSON, via pydantic
        adapter: TypeAdapter[Any] = TypeAdapter(annotation)
        return (lambda value: adapter.dump_json(value).decode()), adapter.validate_json
    if isinstance(annotation, type) and issubclass(annotation, bool):
        return int, bool
    if isinstance(annotation, type) and issubclass(annotation, IntEnum):
        return int, annotation
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return _enum_value, annotation
    if annotation is bytes:
        return None, bytes
    return None, None


def _holds_models(annotation: Any) -> bool:
    return any(isinstance(a, type) and issubclass(a, BaseModel) for a in get_args(annotation))


@lru_cache(maxsize=4096)
def _json_tuple(values: tuple[Any, ...]) -> str:
    return json.dumps(list(values))


def _json_list(values: list[Any]) -> str:
    """A list as stored: a JSON array (a million rights share a handful of zone lists)."""
    return _json_tuple(tuple(values))


def _enum_value(member: StrEnum) -> str:
    return member.value


@dataclass(frozen=True)
class Replicated:
    """One kind of replicated record: its row model (the wire's, in the change feed), the kind
    that names it there, the field that is its key, and the gate replica's table, whose columns
    are the row's fields (plus ``seq``, the change that wrote it). How each field is stored in
    SQLite follows from its type: lists as JSON, enums and booleans as integers (a StrEnum as
    its text), bytes as BLOBs. The replica's upserts and readers, the feed's keys and the
    server's feed rows all come from here."""

    kind: ChangeKind
    row: type[_Row]
    table: str
    key: str
    in_memory: bool = False
    """A small table the replica holds in memory (reloaded when it changes)."""
    with_seq: bool = True

    @cached_property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.row.model_fields)

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """The replica table's columns, as the upsert writes them."""
        return (*self.fields, "seq") if self.with_seq else self.fields

    @cached_property
    def _codecs(self) -> tuple[tuple[Codec | None, Codec | None], ...]:
        hints = get_type_hints(self.row, include_extras=True)
        return tuple(_stored(hints[name]) for name in self.fields)

    @cached_property
    def _get(self) -> Callable[[Any], tuple[Any, ...]]:
        getter = attrgetter(*self.fields)
        return getter if len(self.fields) > 1 else lambda row: (getter(row),)

    @cached_property
    def _encoders(self) -> tuple[tuple[int, Codec], ...]:
        return tuple((i, enc) for i, (enc, _) in enumerate(self._codecs) if enc is not None)

    @cached_property
    def _decoders(self) -> tuple[tuple[int, Codec], ...]:
        return tuple((i, dec) for i, (_, dec) in enumerate(self._codecs) if dec is not None)

    @cached_property
    def byte_key(self) -> bool:
        """The key is bytes: hexadecimal in the feed, a BLOB in the replica."""
        return self._codecs[self.fields.index(self.key)][1] is bytes

    def feed_json(self, values: dict[str, Any]) -> dict[str, Any]:
        """A row's JSON for the feed from already valid values (bytes to hexadecimal), without
        building the model: the server's bulk imports make a hundred thousand at a time."""
        out = {name: values[name] for name in self.fields}
        for name in self._byte_fields:
            if out[name] is not None:
                out[name] = out[name].hex()
        return out

    @cached_property
    def _byte_fields(self) -> tuple[str, ...]:
        return tuple(
            n for n, (_, dec) in zip(self.fields, self._codecs, strict=True) if dec is bytes
        )

    def key_of(self, data: dict[str, Any]) -> str:
        """The feed's key of a row (its JSON form: hexadecimal for bytes)."""
        return str(data[self.key])

    def params(self, row: _Row, seq: int) -> tuple[Any, ...]:
        """The row as the replica stores it, in :attr:`columns` order."""
        values = list(self._get(row))
        for i, encode in self._encoders:
            if values[i] is not None:
                values[i] = encode(values[i])
        if self.with_seq:
            values.append(seq)
        return tuple(values)

    def read(self, values: Sequence[Any]) -> Any:
        """A row read back from the replica (the :attr:`fields` columns, in order). Not
        validated again: the replica holds only rows that were validated on the way in."""
        decoded = list(values)
        for i, decode in self._decoders:
            if decoded[i] is not None:
                decoded[i] = decode(decoded[i])
        return self.row.model_construct(**dict(zip(self.fields, decoded, strict=True)))


KINDS: dict[ChangeKind, Replicated] = {
    spec.kind: spec
    for spec in (
        Replicated(ChangeKind.EVENT, EventRow, "events", "code", in_memory=True),
        Replicated(ChangeKind.ZONE, ZoneRow, "zones", "code", in_memory=True),
        Replicated(ChangeKind.GATE, GateRow, "gates", "name", in_memory=True),
        Replicated(ChangeKind.LAYOUT, LayoutRow, "layouts", "code", in_memory=True),
        Replicated(ChangeKind.RIGHT, RightRow, "rights", "right_id"),
        Replicated(ChangeKind.REVOCATION, RevocationRow, "revocations", "right_id"),
        Replicated(ChangeKind.BAN, BanRow, "blacklist", "ban_id"),
        Replicated(ChangeKind.KEY, KeyRow, "keys", "kid", in_memory=True),
        Replicated(ChangeKind.STAFF, StaffRow, "staff", "name", in_memory=True),
        Replicated(
            ChangeKind.ROTATION_KEY, RotationKeyRow, "rotation_keys", "rkid", in_memory=True
        ),
        Replicated(ChangeKind.EVENT_RULE, EventRuleRow, "event_rules", "event", in_memory=True),
        Replicated(ChangeKind.USAGE, UsageRow, "usage", "right_id"),
        Replicated(ChangeKind.OCCUPANCY, OccupancyRow, "occupancy", "zone", with_seq=False),
    )
}
"""Every replicated kind, in the order a first sync meets them."""
ROW_TYPES: dict[ChangeKind, type[_Row]] = {kind: spec.row for kind, spec in KINDS.items()}
_KIND_OF_ROW: dict[type[_Row], Replicated] = {spec.row: spec for spec in KINDS.values()}


def replicated(row: _Row) -> Replicated:
    """The declaration of a row's kind."""
    return _KIND_OF_ROW[type(row)]


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
        spec = replicated(row)
        data = row.model_dump(mode="json")
        return cls(seq=seq, kind=spec.kind, key=spec.key_of(data), data=data)


class ChangeBatch(BaseModel):
    """A page of the change feed: the changes after cursor ``since``, up to ``cursor`` included."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    since: Annotated[int, Field(ge=0)]
    cursor: Annotated[int, Field(ge=0)]
    changes: list[Change] = []
    more: bool = False
