"""The gate's side of sync: enroll, pull the change feed into the replica, push the scan log.

One pass at a time here (``pull``, ``push``, ``heartbeat``); the loop that runs them with backoff,
the event stream and clock-skew handling build on these.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import zstandard
from pydantic import BaseModel, ValidationError

from scanner_app import __version__
from scanner_app.config import TerminalConfig
from scanner_app.replica import Replica, ReplicaError
from scanner_app.tls import verify_for
from shared import protocol
from shared.gate_wire import (
    Enrollment,
    EnrollRequest,
    Heartbeat,
    HeartbeatAnswer,
    ReplicaLost,
    ReplicaLostAnswer,
    ScanIn,
    ScanUpload,
    ScanUploadResult,
)
from shared.sync_schema import ChangeBatch

log = logging.getLogger("entrix.gate.sync")
API = "/api/v1/gate"
PAGE_SIZE = 10_000
"""Changes asked per page, the server's default ceiling (``feed_page_max``). Each page is one
replica transaction: on a first sync of a million rights, pages of 10,000 rewrite the replica's
random-keyed indexes half as often as pages of 5,000 (32 s of applying against 38 s here)."""
UPLOAD_BATCH = 500


class SyncError(Exception):
    """The server could not be used: unreachable, refused us, or answered nonsense."""


class DeviceRevoked(SyncError):
    """The server no longer accepts this gate's token: it must be enrolled again."""


class UpgradeRequired(SyncError):
    """The server does not serve this gate's protocol (HTTP 426): one of the two needs upgrading,
    the message says which."""


class ServerBehind(SyncError):
    """The server's feed is behind this gate's cursor: it was restored from a backup."""


@dataclass(frozen=True, slots=True)
class Enrolled:
    """What enrolling gave this terminal: the server's answer and the server it came from."""

    server: str
    token: str
    venue: str
    gate: str
    server_time_ms: int


ACCEPT_ENCODING = "zstd, gzip"
"""The codings this gate decodes (httpx; zstd through zstandard): the server compresses the
change feed in the best of them it has (``sync_server.compression``)."""
HEADERS = {
    protocol.HEADER: str(protocol.PROTOCOL),
    "User-Agent": f"entrix-gate/{__version__}",
    "Accept-Encoding": ACCEPT_ENCODING,
}
"""On every call to the server: the protocol this gate speaks, its release, what it decodes."""


def enroll(
    server: str, code: str, *, timeout_s: float = 10.0, pins: Sequence[str] = ()
) -> Enrolled:
    """Trade a one-time enrollment code for this terminal's device token; ``pins``: the only
    certificates the server may present (:mod:`scanner_app.tls`)."""
    try:
        request = EnrollRequest(code=code)
    except ValidationError:
        raise SyncError(f"{code!r} is not an enrollment code (XXXX-XXXX-XXXX)") from None
    try:
        answer = httpx.post(
            f"{server}{API}/enroll",
            json=request.model_dump(),
            headers=HEADERS,
            timeout=timeout_s,
            verify=verify_for(pins),
        )
    except httpx.HTTPError as exc:
        raise SyncError(f"cannot reach {server}: {exc}") from exc
    if answer.status_code == protocol.UPGRADE_REQUIRED:
        raise UpgradeRequired(_detail(answer))
    if answer.status_code != 201:
        raise SyncError(f"enrollment refused ({answer.status_code}): {_detail(answer)}")
    enrolled = _answer(Enrollment, answer)
    return Enrolled(server, enrolled.token, enrolled.venue, enrolled.gate, enrolled.server_time_ms)


class SyncClient:
    """Talks to the server for one enrolled gate and one replica."""

    def __init__(
        self,
        server: str,
        token: str,
        replica: Replica,
        *,
        timeout_s: float = 10.0,
        pins: Sequence[str] = (),
        accept_encoding: str = ACCEPT_ENCODING,
        use_snapshot: bool = True,
    ) -> None:
        self.replica = replica
        self.token = token
        self._server = server
        self.use_snapshot = use_snapshot
        """A fresh replica starts from the server's snapshot (else from the feed alone)."""
        self.feed_bytes = 0
        """Bytes of change feed received, as they came over the network (compressed)."""
        self._http = httpx.Client(
            base_url=f"{server}{API}",
            headers={
                "Authorization": f"Bearer {token}",
                **HEADERS,
                "Accept-Encoding": accept_encoding,
            },
            timeout=timeout_s,
            verify=verify_for(pins),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            answer = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise SyncError(f"server unreachable: {exc}") from exc
        if answer.status_code == 401:
            raise DeviceRevoked(_detail(answer))
        if answer.status_code == protocol.UPGRADE_REQUIRED:
            raise UpgradeRequired(_detail(answer))
        if answer.status_code == 409 and path == "/changes":
            raise ServerBehind(_detail(answer))
        if answer.status_code >= 400:
            raise SyncError(f"{method} {path} → {answer.status_code}: {_detail(answer)}")
        return answer

    def pull(self, *, page_size: int = PAGE_SIZE) -> int:
        """Apply every page of changes after the replica's cursor; returns the changes applied.

        The next page is fetched while the current one is applied: on a first sync the network
        and the disk then work at the same time.
        """
        applied = 0
        if self.use_snapshot and self.replica.is_fresh:
            self.start_from_snapshot()
        else:
            self.forget_snapshot()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-fetch") as fetcher:
            upcoming = fetcher.submit(self._page, self.replica.cursor, page_size)
            while True:
                batch = upcoming.result()
                if batch.more:
                    upcoming = fetcher.submit(self._page, batch.cursor, page_size)
                applied += self.replica.apply_changes(batch)
                if not batch.more:
                    return applied

    def start_from_snapshot(self) -> bool:
        """Install the server's ready replica of this gate's data (``GET /snapshot``) into the
        fresh replica, checked against its SHA-256; the feed then goes on from its cursor. A
        download cut off half-way is kept and finished at the next try (``Range``, ``If-Range``:
        the rest of the same snapshot, or a newer one whole). On anything else wrong (none built
        yet, a damaged or foreign file) the replica is left as it was and the feed alone fills
        it. True when installed."""
        packed = self.replica.path.with_name(self.replica.path.name + ".snapshot.zst")
        tag_file = packed.with_name(packed.name + ".etag")
        have = packed.stat().st_size if packed.exists() and tag_file.exists() else 0
        headers = {"Accept-Encoding": "identity"}
        if have:
            headers |= {"Range": f"bytes={have}-", "If-Range": tag_file.read_text()}
        try:
            with self._http.stream("GET", "/snapshot", headers=headers) as answer:
                if answer.status_code == 401:
                    answer.read()
                    raise DeviceRevoked(_detail(answer))
                if answer.status_code not in (200, 206):
                    log.info("no snapshot (%s): the feed alone", answer.status_code)
                    return False
                expected = answer.headers.get(protocol.SNAPSHOT_SHA256, "")
                tag_file.write_text(answer.headers.get("etag", ""))
                with packed.open("ab" if answer.status_code == 206 else "wb") as out:
                    try:
                        for chunk in answer.iter_raw():
                            out.write(chunk)
                    finally:
                        self.feed_bytes += answer.num_bytes_downloaded
            return self._install(packed, expected)
        except (httpx.HTTPError, zstandard.ZstdError) as exc:
            log.warning("snapshot not finished (%s): kept to finish later; the feed meanwhile", exc)
            return False
        except OSError as exc:  # the gate's disk (full?): nothing half-kept, the feed alone
            log.warning("snapshot not written (%s): the feed alone", exc)
            self.forget_snapshot()
            return False

    def _install(self, packed: Path, expected: str) -> bool:
        raw = packed.with_suffix("")  # gate.db.snapshot
        digest = hashlib.sha256()
        try:
            with packed.open("rb") as source, raw.open("wb") as out:
                reader = zstandard.ZstdDecompressor().stream_reader(source)
                while chunk := reader.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != expected:
                log.warning("snapshot refused: its SHA-256 is not the one announced")
                return False
            cursor = self.replica.install_snapshot(raw)
            log.info("started from the server's snapshot at change %d", cursor)
            return True
        except (OSError, zstandard.ZstdError, sqlite3.DatabaseError, ReplicaError) as exc:
            log.warning("snapshot refused (%s): the feed alone", exc)
            return False
        finally:
            self.forget_snapshot()

    def forget_snapshot(self) -> None:
        """Remove what a snapshot download left beside the replica."""
        for leftover in self.replica.path.parent.glob(self.replica.path.name + ".snapshot*"):
            leftover.unlink(missing_ok=True)

    def _page(self, since: int, page_size: int) -> ChangeBatch:
        answer = self._call("GET", "/changes", params={"since": since, "limit": page_size})
        self.feed_bytes += answer.num_bytes_downloaded
        try:
            return ChangeBatch.model_validate_json(answer.content)
        except ValueError as exc:
            raise SyncError(f"the server sent a page that is not a change batch: {exc}") from exc

    def resync(self, *, page_size: int = PAGE_SIZE) -> int:
        """Start again from the server's feed after a restore, losing no scan.

        Every scan this gate holds is sent again (the server keeps each UUID once, so those it
        still has cost nothing and those the restore lost come back), then the replicated data
        are rebuilt from the whole feed.
        """
        self.replica.reset_for_resync()
        self.push()
        return self.pull(page_size=page_size)

    def push(self, *, batch_size: int = UPLOAD_BATCH) -> int:
        """Upload the scan log until nothing is pending; returns the scans acknowledged."""
        sent = 0
        while True:
            pending = self.replica.scans(limit=batch_size, pending_only=True)
            if not pending:
                return sent
            upload = ScanUpload(scans=[ScanIn.from_record(s) for s in pending])
            answer = self._call("POST", "/scans", json=upload.model_dump(mode="json"))
            stored = _answer(ScanUploadResult, answer)
            for scan_id, why in stored.refused.items():
                # Retrying changes nothing: dropped from the outbox, and said (the server
                # raised it for the supervisors).
                log.error("the server refused scan %s: %s", scan_id, why)
            self.replica.mark_uploaded(s.scan_id for s in pending)
            sent += len(pending)

    def reachable(self, *, timeout_s: float = 1.0) -> bool:
        """Does the server answer its ``/health``? (No token, no database work: a probe.)"""
        try:
            answer = self._http.get(f"{self._server}/health", timeout=timeout_s)
        except httpx.HTTPError:
            return False
        return answer.status_code == 200

    def report_replica_lost(self, why: str) -> int:
        """Tell the server this gate's replica was missing, empty or another's; returns the
        highest sequence number of this device's records the server knows of."""
        answer = self._call("POST", "/replica-lost", json=ReplicaLost(why=why).model_dump())
        return _answer(ReplicaLostAnswer, answer).known_seq

    def notify_damaged(self, why: str) -> None:
        """A heartbeat saying the replica is damaged (and nothing read from it): the gate's tile
        shows it, and the supervisors are alerted, before the gate stops syncing."""
        beat = Heartbeat(version=__version__, replica="damaged", replica_error=why)
        self._call("POST", "/heartbeat", json=beat.model_dump(mode="json"))

    def heartbeat(
        self,
        *,
        last_sync_ms: int | None = None,
        counters: dict[str, int] | None = None,
        camera: str = "unknown",
        relay: str = "unknown",
        clock_ms: int | None = None,
        replica: str = "ok",
        clock_verified_ms: int | None = None,
    ) -> HeartbeatAnswer:
        """The gate's status; ``clock_ms``: this gate's clock (now, unless a test says)."""
        beat = Heartbeat(
            version=__version__,
            cursor=self.replica.cursor,
            outbox=self.replica.pending_count(),
            last_sync_ms=last_sync_ms,
            clock_ms=int(time.time() * 1000) if clock_ms is None else clock_ms,
            camera=camera,
            relay=relay,
            counters=counters or {},
            seq=self.replica.scan_seq,
            replica=replica,
            clock_verified_ms=clock_verified_ms,
        )
        answer = self._call("POST", "/heartbeat", json=beat.model_dump(mode="json"))
        return _answer(HeartbeatAnswer, answer)


_Answer = TypeVar("_Answer", bound=BaseModel)


def _answer(model: type[_Answer], answer: httpx.Response) -> _Answer:
    try:
        return model.model_validate_json(answer.content)
    except ValueError as exc:
        raise SyncError(f"the server's answer is not a {model.__name__}: {exc}") from exc


def _detail(answer: httpx.Response) -> str:
    try:
        detail = answer.json().get("detail")
    except ValueError:
        return answer.text[:200]
    return str(detail)[:500]


def client_for(config: TerminalConfig, replica: Replica) -> SyncClient:
    """The enrolled gate's client: its server, token, time limit and pins."""
    return SyncClient(
        config.server, config.token(), replica, timeout_s=config.sync.timeout_s,
        pins=config.server_pins,
    )  # fmt: skip
