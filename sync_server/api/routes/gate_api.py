"""The gate's API (device tokens): enrollment, change feed, scan upload, heartbeat, event stream."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import FileResponse
from sqlalchemy import select, update
from sse_starlette.sse import EventSourceResponse

from shared import protocol
from shared.gate_wire import (
    Enrollment,
    EnrollRequest,
    Heartbeat,
    HeartbeatAnswer,
    ReplicaLost,
    ReplicaLostAnswer,
    ScanUpload,
    ScanUploadResult,
)
from shared.sync_schema import ChangeBatch
from sync_server import compression, snapshots
from sync_server.api.deps import GateDep, SessionDep, SettingsDep, gate_protocol
from sync_server.core.config import Settings
from sync_server.core.limits import guesses
from sync_server.core.security import (
    DEVICE_TOKEN_PREFIX,
    hash_token,
    new_token,
    normalise_enrollment_code,
)
from sync_server.db import get_sessionmaker, passing_state
from sync_server.feed import current_seq, head_and_epoch, read_page_json
from sync_server.models import Device, EnrollmentCode, Gate, Venue
from sync_server.services import alerts, layouts, rotation, scans
from sync_server.services.writes import commit
from sync_server.streams import DEVICE, open_stream, unless_ended

router = APIRouter(prefix="/gate", tags=["gate API"], dependencies=[Depends(gate_protocol)])
STREAM_PING_S = 15.0
DAMAGED = "damaged"
"""A heartbeat's ``replica``: the gate found its file damaged and stops deciding and syncing."""
CLOCK_SKEW_ALERT_MS = 2_000


@router.post("/enroll", status_code=status.HTTP_201_CREATED)
def enroll(data: EnrollRequest, request: Request, session: SessionDep) -> Enrollment:
    """Trade a one-time enrollment code for this terminal's device token (shown once)."""
    client = request.client.host if request.client else ""
    guesses().check(client)
    code_hash = hash_token(normalise_enrollment_code(data.code))
    enrollment = session.scalar(select(EnrollmentCode).where(EnrollmentCode.code_hash == code_hash))
    now = datetime.now(UTC)
    if enrollment is None or enrollment.used_at is not None:
        guesses().failed(client)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown or already used enrollment code")
    if enrollment.expires_at < now:
        guesses().failed(client)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "this enrollment code has expired")
    gate = session.get(Gate, enrollment.gate_id)
    assert gate is not None
    venue = session.get(Venue, gate.venue_id)
    assert venue is not None
    token = new_token(DEVICE_TOKEN_PREFIX)
    enrollment.used_at = now
    session.add(Device(gate_id=gate.id, token_hash=hash_token(token), remote_addr=client))
    commit(
        session,
        actor=f"device:{venue.code}/{gate.name}",
        action="gate.enroll",
        target=f"{venue.code}/{gate.name}",
        remote_addr=client,
    )
    return Enrollment(token=token, venue=venue.code, gate=gate.name, server_time_ms=scans.now_ms())


@router.get("/changes", response_class=Response, responses={200: {"model": ChangeBatch}})
def changes(
    request: Request,
    session: SessionDep,
    me: GateDep,
    settings: SettingsDep,
    since: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 5_000,
) -> Response:
    """The changes this gate needs after cursor ``since``: its venue's and the global ones, in
    the shape its protocol reads (``shared.protocol.NOT_SENT``)."""
    stated = protocol.stated(request.headers.get(protocol.HEADER)) or protocol.PROTOCOL
    unreadable = _unreadable(session, me.venue) if stated < protocol.LAYOUTS_SINCE else None
    if unreadable is not None:
        why = (
            f"venue {me.venue.code} {unreadable}: upgrade the gate's software "
            "(docs/deploy.md, 'Upgrading'); its scans are still taken"
        )
        session.close()  # a GET's session only reads: the alert is written as a writer
        with get_sessionmaker()() as writer:
            gate = writer.get(Gate, me.gate.id)
            assert gate is not None
            alerts.protocol_refused(writer, gate=gate, stated=str(stated), why=why)
            writer.commit()
        raise HTTPException(
            protocol.UPGRADE_REQUIRED, why,
            headers={"Upgrade": f"{protocol.HEADER}/{protocol.PROTOCOL}"},
        )  # fmt: skip
    if since > current_seq(session):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "the gate's cursor is ahead of the server (was the server restored?): sync from 0",
        )
    page = read_page_json(
        session,
        scopes=me.scopes,
        since=since,
        limit=min(limit, settings.feed_page_max),
        not_sent=protocol.NOT_SENT.get(stated, frozenset()),
    )
    body, headers = compression.encoded(page, request.headers.get("accept-encoding"))
    return Response(body, media_type="application/json", headers=headers)


def _unreadable(session: SessionDep, venue: Venue) -> str | None:
    """What a venue has that a gate older than protocol 3 would decide wrongly; None: nothing."""
    if layouts.layout_count(session, venue.id) > 1:
        return (
            "has several layouts, which a protocol-2 gate cannot read (it would decide every "
            "event in the default one)"
        )
    if rotation.in_use(session, venue):
        return (
            "uses rotating codes, which a protocol-2 gate can neither read nor enforce (it "
            "would admit a copied static code)"
        )
    return None


SNAPSHOT_MEDIA = "application/zstd"


@router.get("/snapshot")
def snapshot(request: Request, session: SessionDep, me: GateDep, settings: SettingsDep) -> Response:
    """A ready replica of this gate's data at a known cursor (``sync_server.snapshots``), as a
    zstd file; its SHA-256 (uncompressed) in a header and, quoted, as its ETag, so that a gate cut
    off half-way asks for the rest only (``Range`` with ``If-Range``). A fresh gate installs it,
    then follows the feed from its cursor. 404 while none is built yet (one is then built in the
    background): pull the feed."""
    stated = protocol.stated(request.headers.get(protocol.HEADER)) or protocol.PROTOCOL
    if stated != protocol.PROTOCOL:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no snapshot for this protocol: the feed")
    not_sent = protocol.NOT_SENT.get(stated, frozenset())
    head, epoch = head_and_epoch(session)
    folder = snapshot_root(settings) / snapshots.key_of(me.scopes, not_sent, epoch)
    found = snapshots.newest(folder)
    if found is not None and found.cursor > head:
        found = None  # a snapshot from ahead of the feed: never served
    if found is None or head - found.cursor > snapshots.REFRESH_AFTER:
        snapshots.refresh_soon(folder, get_sessionmaker(), scopes=me.scopes, not_sent=not_sent)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no snapshot built yet: pull the feed")
    return FileResponse(
        found.path,
        media_type=SNAPSHOT_MEDIA,
        headers={
            "ETag": f'"{found.sha256}"',
            protocol.SNAPSHOT_CURSOR: str(found.cursor),
            protocol.SNAPSHOT_SHA256: found.sha256,
        },
    )


def snapshot_root(settings: Settings) -> Path:
    if settings.snapshot_dir:
        return Path(settings.snapshot_dir)
    where = hashlib.sha256(settings.database_url.encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"entrix-snapshots-{where}"


@router.post("/scans")
def upload_scans(data: ScanUpload, session: SessionDep, me: GateDep) -> ScanUploadResult:
    """Store a batch of scans. Idempotent: a scan already stored (same UUID) is counted once."""
    result = scans.ingest(
        session, venue=me.venue, gate=me.gate, device_id=me.device.id, scans=data.scans
    )
    numbered = [scan.seq for scan in data.scans if scan.seq is not None]
    if numbered:
        # The highest only grows, whatever order two uploads of one device commit in.
        top = max(numbered)
        session.execute(
            update(Device)
            .where(Device.id == me.device.id, Device.acked_seq < top)
            .values(acked_seq=top)
        )
    commit(session, pending=result.pending)
    return ScanUploadResult(
        stored=result.stored,
        duplicates=result.duplicates,
        server_time_ms=scans.now_ms(),
        refused=result.refused,
        held=len(result.held),
    )


@router.post("/heartbeat")
def heartbeat(
    data: Heartbeat, session: SessionDep, me: GateDep, settings: SettingsDep
) -> HeartbeatAnswer:
    """The gate's status, kept for supervisors; answered with the server's time."""
    passing_state(session)  # the next heartbeat replaces it: no fsync on SQLite
    server_ms = scans.now_ms()
    device = me.device
    me.gate.last_seen_at = datetime.now(UTC)
    skew = None if data.clock_ms is None else data.clock_ms - server_ms
    if data.replica == DAMAGED:
        # The gate's last word before it stops: nothing else in it was read from its file, so
        # the tile keeps what the gate said before, with the damage.
        me.gate.status = {**(me.gate.status or {}), "replica": DAMAGED,
                          "replica_error": data.replica_error}  # fmt: skip
        alerts.replica_damaged(session, gate=me.gate, why=data.replica_error)
    else:
        if data.seq < device.known_seq:
            # The gate's replica holds fewer records than it uploaded or stated before: an older
            # copy of the file. Raised with the status it had before (what it had waiting then
            # is what may be lost); the answer tells it to resync.
            alerts.replica_behind(session, gate=me.gate, device=device, seq=data.seq)
        else:
            device.heard_seq = data.seq
        status_: dict[str, Any] = data.model_dump(mode="json")
        status_["skew_ms"] = skew
        me.gate.status = status_
    if skew is not None and abs(skew) > CLOCK_SKEW_ALERT_MS:
        alerts.clock_skew(session, gate=me.gate, skew_ms=skew)
    verified = data.clock_verified_ms
    unchecked_after_ms = settings.gate_clock_unverified_after_s * 1000
    if verified is not None and server_ms - verified > unchecked_after_ms:
        alerts.clock_unverified(session, gate=me.gate, verified_ms=verified)
    head, epoch = head_and_epoch(session)
    session.commit()
    return HeartbeatAnswer(
        server_time_ms=server_ms,
        skew_ms=skew,
        head=head,
        epoch=epoch,
        known_seq=device.known_seq,
    )


@router.post("/replica-lost")
def replica_lost(data: ReplicaLost, session: SessionDep, me: GateDep) -> ReplicaLostAnswer:
    """The gate found its replica missing, empty or another's: raise it for the supervisors, and
    tell the gate how far its records are held here (its new replica numbers on from there)."""
    alerts.replica_lost(session, gate=me.gate, device=me.device, why=data.why)
    commit(
        session,
        actor=f"device:{me.venue.code}/{me.gate.name}",
        action="gate.replica_lost",
        target=f"{me.venue.code}/{me.gate.name}",
        detail={"why": data.why},
    )
    return ReplicaLostAnswer(known_seq=me.device.known_seq)


@router.get("/stream", response_class=EventSourceResponse)
def stream(request: Request, me: GateDep, session: SessionDep) -> EventSourceResponse:
    """Server-sent events: ``changes`` with the feed's head whenever it moves, so online gates
    pull at once; a comment every 15 s keeps proxies from closing the stream."""
    watch = request.app.state.feed_watch
    session.close()  # authenticated: hold no database connection for the stream's lifetime
    ticket = open_stream(request, DEVICE, me.device.id)
    streams = request.app.state.streams

    async def events() -> AsyncIterator[dict[str, str]]:
        sent = -1
        try:
            while not await request.is_disconnected():
                head = await unless_ended(ticket, watch.wait_beyond(sent, timeout_s=STREAM_PING_S))
                if head is None:
                    yield {"event": "revoked", "data": "{}"}  # the device was revoked
                    return
                if head != sent:
                    sent = head
                    yield {"event": "changes", "data": json.dumps({"head": head})}
        finally:
            streams.close(ticket)

    return EventSourceResponse(events(), ping=STREAM_PING_S)
