"""Access rights: create, bulk import (all or nothing), transfer, revoke, season subscriptions,
and issuing their codes. Every change is published to the gates of the right's venue."""

from __future__ import annotations

import codecs
import csv
import io
import json
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, BinaryIO

from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from shared import model as domain
from shared.credential import Credential, issue
from shared.sync_schema import KINDS, ChangeKind, RevocationRow, RightRow
from sync_server.db import IN_CHUNK
from sync_server.errors import Conflict, Invalid, NotFound
from sync_server.feed import Pending
from sync_server.field_words import FIELD
from sync_server.models import (
    AccessRight,
    Ban,
    Event,
    Season,
    Subscription,
    UsageState,
    Venue,
    Zone,
)
from sync_server.schemas import (
    ImportReport,
    RightCreate,
    RightPublic,
    RowError,
    RowProblem,
    SubscriptionCreate,
    TransferRequest,
)
from sync_server.services import holder_links
from sync_server.services.bans import ban_row
from sync_server.services.holders import holder_id
from sync_server.services.keys import active_private_key
from sync_server.services.site import get_season

RIGHT_ID_BYTES = 16
DOORS_OPEN_S = 4 * 3600
"""Default validity: from four hours before the event starts..."""
AFTER_END_S = 3600
"""...until an hour after it ends."""
TRANSFERRED = "transferred"
"""The revocation reason of a right given to someone else."""
CSV_LIST_SEPARATOR = "|"
MAX_IMPORT_ROWS = 200_000


def to_domain(right: AccessRight, event_code: str) -> domain.AccessRight:
    values = {column: getattr(right, column) for column in _FEED_COLUMNS}
    held = RightRow.model_validate(_feed_row(values, event_code)).to_right()
    return replace(held, rotating=bool(right.rotating))


def to_public(right: AccessRight, event_code: str) -> RightPublic:
    return RightPublic(
        right_id=right.id.hex(),
        event=event_code,
        zones=list(right.zones),
        holder_id=None if right.holder is None else right.holder.hex(),
        policy=domain.EntryPolicy(right.policy),
        kind=domain.RightKind(right.kind),
        seat=right.seat,
        display_name=right.display_name,
        plain_code=right.secret is not None,
        not_before=datetime.fromtimestamp(right.not_before, UTC),
        expires=datetime.fromtimestamp(right.expires, UTC),
        status=right.status,
        revoked_reason=right.revoked_reason,
        replaced_by=None if right.replaced_by is None else right.replaced_by.hex(),
        rotating=bool(right.rotating),
    )


def get_right(session: Session, right_id: str) -> tuple[AccessRight, Event]:
    try:
        raw = bytes.fromhex(right_id)
    except ValueError:
        raw = b""
    if len(raw) != RIGHT_ID_BYTES:
        raise Invalid("a right id is 32 hexadecimal characters")
    right = session.get(AccessRight, raw)
    if right is None:
        raise NotFound(f"no access right {right_id}")
    event = session.get(Event, right.event_id)
    assert event is not None
    return right, event


def venue_code(session: Session, event: Event) -> str:
    venue = session.get(Venue, event.venue_id)
    assert venue is not None
    return venue.code


def _publish_right(right: AccessRight, event: Event, scope: str) -> Pending:
    values = {column: getattr(right, column) for column in _FEED_COLUMNS}
    return Pending(ChangeKind.RIGHT, right.id.hex(), scope, _feed_row(values, event.code))


class _Catalogue:
    """Events and their layouts' zones, loaded once per import rather than once per row."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.events: dict[str, Event | None] = {}
        self.zones: dict[int | None, set[str]] = {}
        self.venues: dict[int, str] = {}

    def event(self, code: str) -> Event | None:
        if code not in self.events:
            self.events[code] = self.session.scalar(select(Event).where(Event.code == code))
        return self.events[code]

    def layout_zones(self, event: Event) -> set[str]:
        """The zone codes of the layout the event is held in."""
        if event.layout_id not in self.zones:
            self.zones[event.layout_id] = set(
                self.session.scalars(select(Zone.code).where(Zone.layout_id == event.layout_id))
            )
        return self.zones[event.layout_id]

    def venue_code(self, event: Event) -> str:
        if event.venue_id not in self.venues:
            self.venues[event.venue_id] = venue_code(self.session, event)
        return self.venues[event.venue_id]


def _new_right(data: RightCreate, event: Event) -> dict[str, Any]:
    """The access_rights row of a validated right, as plain values (bulk inserts want no ORM)."""
    return {
        "id": secrets.token_bytes(16),
        "event_id": event.id,
        "zones": list(data.zones),
        "not_before": int(data.not_before.timestamp())
        if data.not_before
        else event.starts_at - DOORS_OPEN_S,
        "expires": int(data.expires.timestamp()) if data.expires else event.ends_at + AFTER_END_S,
        "policy": int(data.policy),
        "kind": int(data.kind),
        "holder": None if data.holder is None else holder_id(data.holder),
        "seat": data.seat,
        "display_name": data.display_name,
        "secret": data.secret,
        "status": "active",
        "rotating": event.rotating_required if data.rotating is None else data.rotating,
    }


_FEED_COLUMNS = tuple(
    "id" if name == "right_id" else name
    for name in KINDS[ChangeKind.RIGHT].fields
    if name != "event"
)
"""The table's columns a right's feed row is made of: RightRow's fields (the id is ``id``)."""


def _feed_row(row: dict[str, Any], event_code: str) -> dict[str, Any]:
    """The right as the feed carries it (the JSON of ``RightRow``), from its already valid row:
    the only place a right's feed row is made (bulk imports, transfers, subscriptions)."""
    return KINDS[ChangeKind.RIGHT].feed_json({**row, "right_id": row["id"], "event": event_code})


def _problem(number: int, message: str, said: str, **values: object) -> RowError:
    """Row ``number``'s problem: its English message, and its key and values for the pages."""
    problem = RowProblem(said=said, values={k: str(v) for k, v in values.items()})
    return RowError(row=number, message=message, problems=[problem])


def _row_problems(
    row: int, data: RightCreate, catalogue: _Catalogue
) -> tuple[Event | None, list[RowError]]:
    event = catalogue.event(data.event)
    if event is None:
        return None, [_problem(row, f"no event {data.event!r}", "no_event", event=data.event)]
    problems = []
    unknown = sorted(set(data.zones) - catalogue.layout_zones(event))
    if unknown:
        at, zones = catalogue.venue_code(event), ", ".join(unknown)
        problems.append(_problem(row, f"unknown zone(s) at {at}: {zones}", "zones_unknown",
                                 venue=at, zones=zones))  # fmt: skip
    if data.not_before and data.expires and data.expires <= data.not_before:
        problems.append(_problem(row, "expires must be after not_before", "expires_before"))
    if data.secret is not None and (data.rotating or event.rotating_required):
        problems.append(_problem(row, "a plain code (from another ticketing system) does not "
                                 "rotate", "plain_does_not_rotate"))  # fmt: skip
    return event, problems


def create_right(
    session: Session, *, data: RightCreate
) -> tuple[AccessRight, Event, list[Pending]]:
    report, pending = import_rights(session, rows=[data])
    if report.errors:
        raise Invalid(report.errors[0].message)
    right, event = get_right(session, report.right_ids[0])
    return right, event, pending


@dataclass
class Validated:
    """An import's rows checked against the database: the rows to insert (plain column values
    with their event), or the errors that refuse the whole import."""

    catalogue: _Catalogue
    prepared: list[tuple[dict[str, Any], Event]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0


def validate_import(
    session: Session,
    rows: Iterable[Numbered],
    *,
    progress: Callable[[int], None] | None = None,
    venues: frozenset[str] | None = None,
) -> Validated:
    """Check every row (parse errors included), reading only; ``progress(rows so far)`` is
    called every 10,000 rows. Errors name the rows by their numbers (``Numbered``)."""
    checked = Validated(_Catalogue(session))
    secrets_seen: dict[str, int] = {}
    for number, data in rows:
        checked.rows += 1
        if progress is not None and checked.rows % 10_000 == 0:
            progress(checked.rows)
        if isinstance(data, RowError):
            checked.errors.append(data)
            continue
        event, problems = _row_problems(number, data, checked.catalogue)
        if event is not None and venues is not None:
            at = checked.catalogue.venue_code(event)
            if at not in venues:
                message = (f"event {data.event!r} is at venue {at!r}, which this account does "
                           "not manage")  # fmt: skip
                event = None
                problems = [_problem(number, message, "row_not_your_venue", event=data.event,
                                     venue=at)]  # fmt: skip
        if data.secret is not None:
            if data.secret in secrets_seen:
                first = secrets_seen[data.secret]
                problems.append(
                    _problem(number, f"secret repeats row {first}", "secret_repeats", row=first)
                )
            secrets_seen[data.secret] = number
        if problems or event is None:
            checked.errors.extend(problems)
            continue
        checked.prepared.append((_new_right(data, event), event))
    if secrets_seen:
        taken = _existing_secrets(session, list(secrets_seen))
        for secret in sorted(taken, key=secrets_seen.__getitem__):
            checked.errors.append(
                _problem(secrets_seen[secret], "secret already sold", "secret_sold")
            )
    checked.errors.sort(key=lambda e: e.row)
    return checked


def insert_rights(
    session: Session, prepared: Sequence[tuple[dict[str, Any], Event]], catalogue: _Catalogue
) -> list[Pending]:
    """Insert validated rows (in the caller's transaction); the feed changes to publish."""
    now = datetime.now(UTC)
    table = AccessRight.metadata.tables[AccessRight.__tablename__]
    for start in range(0, len(prepared), 5_000):
        chunk = prepared[start : start + 5_000]
        session.execute(insert(table), [{**row, "created_at": now} for row, _ in chunk])
    return [
        Pending(ChangeKind.RIGHT, row["id"].hex(), catalogue.venue_code(e), _feed_row(row, e.code))
        for row, e in prepared
    ]


def import_rights(
    session: Session, *, rows: Sequence[RightCreate | RowError], first_row: int = 1
) -> tuple[ImportReport, list[Pending]]:
    """Validate every row, then import all of them or none, in the caller's transaction; the
    changes to publish on success. The report names every bad row, not only the first. (A large
    import from the back office goes through ``services.imports``, in short transactions.)"""
    checked = validate_import(session, enumerate(rows, start=first_row))
    if checked.errors:
        return ImportReport(imported=0, errors=checked.errors), []
    pending = insert_rights(session, checked.prepared, checked.catalogue)
    report = ImportReport(
        imported=len(checked.prepared),
        errors=[],
        right_ids=[row["id"].hex() for row, _ in checked.prepared],
    )
    return report, pending


def _existing_secrets(session: Session, candidates: list[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(candidates), IN_CHUNK):
        chunk = candidates[start : start + IN_CHUNK]
        taken.update(
            s
            for s in session.scalars(
                select(AccessRight.secret).where(AccessRight.secret.in_(chunk))
            )
            if s is not None
        )
    return taken


Numbered = tuple[int, RightCreate | RowError]
"""A row of an import with its number as the user sees it: the spreadsheet's row for a CSV (the
header is row 1), the position (from 1) in a JSON list."""
CSV_DELIMITERS = ",;\t"
"""What spreadsheets write between fields: a comma, a semicolon (Excel in France), a tab."""
SNIFFED_BYTES = 64 * 1024
NOT_UTF8 = (
    'this file is not UTF-8 text ({why}): a spreadsheet\'s plain "CSV" is often Windows-1252. '
    'Save it as "CSV UTF-8" (Excel: File > Save As > CSV UTF-8) and import it again'
)


def parse_rows(payload: bytes, content_type: str) -> list[Numbered]:
    """Rows of a CSV (header line, ``|`` between zones) or JSON (a list of objects) import."""
    if len(payload) == 0:
        raise Invalid("empty import")
    return list(read_rows(io.BytesIO(payload), content_type))


def _not_utf8(exc: UnicodeDecodeError, line: int | None = None) -> Invalid:
    byte = exc.object[exc.start : exc.start + 1].hex().upper()
    where = f"line {line}" if line is not None else f"position {exc.start}"
    return Invalid(NOT_UTF8.format(why=f"byte 0x{byte} at {where}"))


def _first_bad_line(source: BinaryIO) -> int:
    """The line (from 1) holding the file's first byte that is not UTF-8: read again from the
    start, only when decoding failed (the text layer decodes ahead of the CSV reader)."""
    source.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    line = 1
    while chunk := source.read(SNIFFED_BYTES):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            good = chunk[: exc.start]
            return line + good.count(b"\n") + good.replace(b"\r\n", b"").count(b"\r")
        line += chunk.count(b"\n") + chunk.replace(b"\r\n", b"").count(b"\r")
    return line


def _csv_dialect(source: BinaryIO) -> str:
    """The field separator, from the header line; the file must be UTF-8 (a BOM is fine). The
    source is read from its start again afterwards."""
    head = source.read(SNIFFED_BYTES)
    source.seek(0)
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise _not_utf8(exc) from exc
    header = text.splitlines()[0] if text else ""
    try:
        return csv.Sniffer().sniff(header, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        return ","  # one column, or nothing to tell: the usual comma


def read_rows(source: BinaryIO, content_type: str) -> Iterator[Numbered]:
    """The rows of an import file, one at a time (a CSV is never read whole into memory).

    A CSV may be what a spreadsheet writes: comma, semicolon or tab between fields (told from
    the header), a byte-order mark, CRLF line ends; it must be UTF-8."""
    if "json" in content_type:
        try:
            items = json.load(source)
        except UnicodeDecodeError as exc:
            raise _not_utf8(exc) from exc
        except (json.JSONDecodeError, RecursionError) as exc:
            raise Invalid(f"not valid JSON: {_excerpt(str(exc))}") from exc
        if isinstance(items, dict) and isinstance(items.get("rights"), list):
            items = items["rights"]
        if not isinstance(items, list):
            raise Invalid('a JSON import is a list of rights (or {"rights": [...]})')
        if len(items) > MAX_IMPORT_ROWS:
            raise Invalid(f"at most {MAX_IMPORT_ROWS} rows per import")
        for i, entry in enumerate(items, 1):
            yield i, _validate(i, entry)
        return
    delimiter = _csv_dialect(source)
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    # newline="": the csv module reads the line ends itself (\r\n, \n or a bare \r).
    reader = csv.DictReader(text, delimiter=delimiter)
    try:
        named = [name.strip() for name in reader.fieldnames or []]
        reader.fieldnames = named
        if "event" not in named or "zones" not in named:
            shown = ", ".join(repr(n) for n in named[:12]) or "nothing"
            raise Invalid(
                f"the CSV header must name the columns 'event' and 'zones' at least; its first "
                f"line names {_excerpt(shown)} (fields separated by {delimiter!r})"
            )
        for count, record in enumerate(reader, start=1):
            if count > MAX_IMPORT_ROWS:
                raise Invalid(f"at most {MAX_IMPORT_ROWS} rows per import")
            number = reader.line_num  # the spreadsheet's row (the header is row 1)
            item: dict[str, Any] = {k: v for k, v in record.items() if k and v not in (None, "")}
            if None in record:
                yield number, _problem(number, "more fields than the header names", "more_fields")
                continue
            if "zones" in item:
                item["zones"] = [
                    z.strip() for z in item["zones"].split(CSV_LIST_SEPARATOR) if z.strip()
                ]
            yield number, _validate(number, item)
    except csv.Error as exc:
        raise Invalid(f"not valid CSV (line {reader.line_num}): {_excerpt(str(exc))}") from exc
    except UnicodeDecodeError as exc:
        raise _not_utf8(exc, _first_bad_line(source)) from exc


EXCERPT = 120
"""An error message quotes at most this much of the input: a refusal never echoes it back."""


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[:EXCERPT] + "…"


def _validate(number: int, item: Any) -> RightCreate | RowError:
    try:
        return RightCreate.model_validate(item)
    except ValidationError as exc:
        errors = exc.errors()[:5]
        message = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])[:40] or 'row'}: {_excerpt(e['msg'])}"
            for e in errors
        )
        problems = [
            RowProblem(said=FIELD, values={
                "type": e["type"], "field": ".".join(str(p) for p in e["loc"])[:40],
                "msg": _excerpt(e["msg"]),
                **{k: _excerpt(str(v)) for k, v in (e.get("ctx") or {}).items()}})
            for e in errors
        ]  # fmt: skip
        return RowError(row=number, message=_excerpt(message), problems=problems)


def revoke_right(
    session: Session, *, right: AccessRight, event: Event, reason: str
) -> list[Pending]:
    if right.status == "revoked":
        raise Conflict(f"right {right.id.hex()} is already revoked ({right.revoked_reason})")
    right.status = "revoked"
    right.revoked_at = int(datetime.now(UTC).timestamp())
    right.revoked_reason = reason
    holder_links.end(session, right=right, reason=reason)
    session.flush()
    row = RevocationRow(right_id=right.id, revoked_at=right.revoked_at, reason=reason)
    return [Pending.upsert(row, venue_code(session, event))]


def transfer_right(
    session: Session, *, right: AccessRight, event: Event, data: TransferRequest
) -> tuple[AccessRight, list[Pending]]:
    """A new right and code for the new holder; the old one is revoked and points to it."""
    if right.status == "revoked":
        raise Conflict("a revoked right cannot be transferred")
    now_s = int(datetime.now(UTC).timestamp())
    for ban in session.scalars(
        select(Ban).where(Ban.scope == "right", Ban.subject == right.id, Ban.removed_at.is_(None))
    ):
        if ban_row(ban).to_entry().active_at(now_s):
            raise Conflict(f"this right is banned ({ban.reason}): it cannot be transferred")
    usage = session.get(UsageState, right.id)
    if usage is not None and usage.entries > 0 and right.policy == domain.EntryPolicy.SINGLE:
        raise Conflict("this single-entry right has been used: it cannot be transferred")
    new = AccessRight(
        id=secrets.token_bytes(16),
        event_id=right.event_id,
        zones=list(right.zones),
        not_before=right.not_before,
        expires=right.expires,
        policy=right.policy,
        kind=right.kind,
        holder=holder_id(data.holder),
        seat=data.seat if data.seat is not None else right.seat,
        display_name=data.display_name,
        secret=None,
        status="active",
        subscription_id=None,
        rotating=right.rotating,
    )
    session.add(new)
    session.flush()
    pending = revoke_right(session, right=right, event=event, reason=TRANSFERRED)
    right.replaced_by = new.id
    scope = venue_code(session, event)
    return new, [_publish_right(new, event, scope), *pending]


def subscribe(
    session: Session, *, data: SubscriptionCreate
) -> tuple[Subscription, list[tuple[AccessRight, Event]], list[Pending]]:
    season = get_season(session, data.season)
    subscription = Subscription(
        season_id=season.id,
        holder=holder_id(data.holder),
        zones=list(data.zones),
        policy=int(data.policy),
        kind=int(data.kind),
        seat=data.seat,
        display_name=data.display_name,
    )
    session.add(subscription)
    session.flush()
    events = list(session.scalars(select(Event).where(Event.season_id == season.id)))
    made, pending = _season_rights(session, [subscription], events)
    return subscription, made, pending


def rights_for_new_event(session: Session, *, event: Event) -> list[Pending]:
    """An event added to a season gives every subscriber of that season a right for it."""
    if event.season_id is None:
        return []
    subscriptions = list(
        session.scalars(select(Subscription).where(Subscription.season_id == event.season_id))
    )
    return _season_rights(session, subscriptions, [event])[1]


def _season_rights(
    session: Session, subscriptions: Iterable[Subscription], events: Sequence[Event]
) -> tuple[list[tuple[AccessRight, Event]], list[Pending]]:
    made: list[tuple[AccessRight, Event]] = []
    pending: list[Pending] = []
    catalogue = _Catalogue(session)
    for subscription in subscriptions:
        for event in events:
            unknown = sorted(set(subscription.zones) - catalogue.layout_zones(event))
            if unknown:
                raise Invalid(
                    f"event {event.code}: unknown zone(s) {', '.join(unknown)} in its layout"
                )
            right = AccessRight(
                id=secrets.token_bytes(16),
                event_id=event.id,
                zones=list(subscription.zones),
                not_before=event.starts_at - DOORS_OPEN_S,
                expires=event.ends_at + AFTER_END_S,
                policy=subscription.policy,
                kind=subscription.kind,
                holder=subscription.holder,
                seat=subscription.seat,
                display_name=subscription.display_name,
                status="active",
                subscription_id=subscription.id,
                rotating=event.rotating_required,
            )
            session.add(right)
            made.append((right, event))
            pending.append(_publish_right(right, event, catalogue.venue_code(event)))
    session.flush()
    return made, pending


def issue_code(session: Session, *, right: AccessRight, event: Event, passphrase: str) -> str:
    """The text of the right's QR code: a freshly signed EG1 credential, or its plain secret."""
    if right.status == "revoked":
        raise Conflict(f"right {right.id.hex()} is revoked ({right.revoked_reason})")
    if right.secret is not None:
        return right.secret
    credential = Credential(
        issuer=venue_code(session, event),
        issued_at=int(datetime.now(UTC).timestamp()),
        right=to_domain(right, event.code),
    )
    signer = active_private_key(session, passphrase=passphrase, venue_id=event.venue_id)
    return issue(credential, signer)


def season_of(session: Session, event: Event) -> Season | None:
    return None if event.season_id is None else session.get(Season, event.season_id)
