"""The gate's sync loop: pull changes, push scans, heartbeat, listen for the server's notices.

A gate decides locally, always; this loop only makes it better informed. It runs in its own thread
(the kiosk's worker, or ``gate-scanner sync``) with its own replica connection, retries with capped
exponential backoff and full jitter when the server is away, and stops only when told to or when
the server revokes the gate's token.
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import httpx

from scanner_app.config import TerminalConfig
from scanner_app.replica import Replica, ReplicaDamaged, is_damage
from scanner_app.salvage import DEVICE, REBUILD_PENDING, device_of, rebuild_from, stamp
from scanner_app.sync import (
    API,
    HEADERS,
    DeviceRevoked,
    ServerBehind,
    SyncClient,
    SyncError,
    UpgradeRequired,
    client_for,
)
from scanner_app.tls import verify_for

SERVER_EPOCH = "server_epoch"
"""Replica meta: the server database's epoch at the last heartbeat (see _check_epoch)."""
log = logging.getLogger("entrix.gate.sync")
OUTBOX_CHECK_S = 0.25
PROBE_S = 0.75
"""While cut off with scans waiting, the gate asks the server's ``/health`` about this often
(jittered ±50 %): one small request, so that it is back within a second or two of the link,
whatever its backoff says, and without weighing on a server that is down."""
CLOCK_JUMP_MS = 1_000
"""A change of the wall clock against the boot clock beyond this, between two passes, is a jump
(someone set the clock, NTP stepped it), not drift."""
INTEGRITY_CHECK_S = 600.0
"""How often a running gate checks its replica (SQLite's quick_check: 0.2 s for 1M rights)."""
STATUS_KEPT_S = 3600.0
"""The sync status is written to the replica when it changes in substance, and this often while
it does not (for the next start: when the clock was last checked). Each write is a commit of a
page or two and a checkpoint later, some 16 KB: once a minute came to 22 MB a day on an idle
gate, over the 10 MB target (``bench.replica_health``); once an hour, 0.4 MB."""
STREAM_READ_TIMEOUT_S = 40.0  # the server pings every 15 s


class SyncState(StrEnum):
    STARTING = "starting"
    ONLINE = "online"
    OFFLINE = "offline"
    REVOKED = "revoked"
    UPGRADE = "upgrade"
    """The server refuses this gate's protocol: the software must be upgraded (or the server)."""
    DAMAGED = "damaged"
    """The replica failed its integrity check while running: the gate must decide nothing more
    on it, and stops syncing; its next start salvages the scans and rebuilds from the server."""
    STOPPED = "stopped"


@dataclass
class SyncStatus:
    """What the kiosk's status bar and the heartbeat show about sync."""

    state: SyncState = SyncState.STARTING
    cursor: int = 0
    outbox: int = 0
    last_sync_ms: int | None = None
    clock_offset_ms: int = 0
    last_error: str = ""
    pulled: int = 0
    pushed: int = 0
    failures: int = 0
    rebuild_pending: bool = False
    """The replica is being rebuilt from the server (salvaged, lost, or an older copy): the gate
    decides nothing until it is done, save a supervisor's audited manual open."""
    clock_verified_ms: int | None = None
    """When a heartbeat last set the gate's clock against the server's (None: never here)."""

    def clock_unverified_s(self, now_ms: int, after_s: float) -> float | None:
        """How long the clock has gone unchecked, once that is beyond ``after_s``; else None."""
        if self.clock_verified_ms is None:
            return None
        unchecked = (now_ms - self.clock_verified_ms) / 1000
        return unchecked if unchecked > after_s else None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        return data


def backoff_delay(failures: int, base_s: float, cap_s: float, rng: Callable[[], float]) -> float:
    """Capped exponential backoff with full jitter: uniform in [0, min(cap, base * 2^n)]."""
    return float(rng() * min(cap_s, base_s * 2.0 ** min(failures, 30)))


@dataclass
class _Schedule:
    next_pull: float = 0.0
    next_heartbeat: float = 0.0
    retry_at: float = 0.0
    next_probe: float = 0.0
    next_integrity_check: float = 0.0
    pull_requested: bool = True


class SyncLoop:
    def __init__(
        self,
        config: TerminalConfig,
        *,
        device_status: Callable[[], dict[str, Any]] | None = None,
        on_status: Callable[[SyncStatus], None] | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.status = SyncStatus()
        self._device_status = device_status or (lambda: {})
        self._on_status = on_status or (lambda _status: None)
        self._rng = rng
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._stream_wake = threading.Event()
        self._schedule = _Schedule()
        self._lock = threading.Lock()
        self._kept: tuple[object, ...] = ()
        self._clock_delta: float | None = None
        self._kept_at = 0.0

    # -- control, from any thread ----------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._stream_wake.set()

    def request_pull(self) -> None:
        """Pull at once (the server said there are changes, or a supervisor forced a sync)."""
        with self._lock:
            self._schedule.pull_requested = True
            self._schedule.retry_at = 0.0
        self._wake.set()

    def scan_recorded(self) -> None:
        """Push now rather than at the next outbox check (the kiosk calls it after each scan)."""
        self._wake.set()

    # -- the loop, in its own thread -------------------------------------------------------------

    def run(self, *, once: bool = False) -> SyncStatus:
        """Run until stopped (or one full pass with ``once``); returns the last status."""
        replica = Replica(self.config.replica_path)
        client = client_for(self.config, replica)
        self._resume(replica)
        listener = None
        if not once:
            listener = threading.Thread(target=self._listen, name="sync-stream", daemon=True)
            listener.start()
        try:
            if once:
                self._pass(client, replica, force=True)
            else:
                while not self._stop.is_set():
                    self._pass(client, replica, force=False)
                    if self.status.state in (SyncState.REVOKED, SyncState.DAMAGED):
                        break
                    self._wake.wait(self._sleep_for())
                    self._wake.clear()
        finally:
            self._stop.set()
            client.close()
            if self.status.state not in (SyncState.REVOKED, SyncState.DAMAGED):
                self._set(SyncState.STOPPED if not once else self.status.state)
            replica.close()
        return self.status

    def _resume(self, replica: Replica) -> None:
        """What the replica says of the last run: a rebuild under way, the clock's last check."""
        self.status.rebuild_pending = replica.get_meta(REBUILD_PENDING) is not None
        try:
            kept = json.loads(replica.get_meta("sync_status") or "{}")
        except ValueError:
            kept = {}
        verified = kept.get("clock_verified_ms") if isinstance(kept, dict) else None
        if isinstance(verified, int):
            self.status.clock_verified_ms = verified
        self._on_status(self.status)

    def _sleep_for(self) -> float:
        now = time.monotonic()
        s = self._schedule
        due = min(s.next_pull, s.next_heartbeat)
        if s.retry_at > now:
            due = min(due, s.retry_at)
            if self._probing():
                due = min(due, s.next_probe)
            return max(0.0, min(due - now, self.config.sync.backoff_cap_s))
        return max(0.0, min(due - now, OUTBOX_CHECK_S))

    def _pass(self, client: SyncClient, replica: Replica, *, force: bool) -> None:
        now = time.monotonic()
        s = self._schedule
        if self.status.state is SyncState.DAMAGED:
            return
        self._watch_clock(replica)
        if now >= s.next_integrity_check:
            s.next_integrity_check = now + INTEGRITY_CHECK_S
            try:
                replica.verify_integrity()
            except ReplicaDamaged as exc:
                self._damaged(str(exc), client)
                return
            except sqlite3.Error as exc:
                log.warning("the replica's integrity check could not run: %s", exc)
        if not force and now < s.retry_at:
            if not self._probe_says_back(client, replica, now):
                return
            # The server answers again: a whole pass now (what changed while apart is unknown),
            # not at the end of the backoff, and the event stream reconnects at once.
            s.retry_at = 0.0
            force = True
            self._stream_wake.set()
        settings = self.config.sync
        try:
            with self._lock:
                pull = force or s.pull_requested or now >= s.next_pull
                s.pull_requested = False
            if self.status.rebuild_pending:
                self.status.pulled += rebuild_from(self.config, replica, client)
                self.status.rebuild_pending = False
                pull = True
            elif pull:
                try:
                    self.status.pulled += client.pull()
                except ServerBehind as exc:
                    log.warning("the server is behind this gate (%s): resyncing from 0", exc)
                    self.status.pulled += client.resync()
                    replica.set_meta(SERVER_EPOCH, "")  # done: take the next epoch as it comes
                s.next_pull = now + settings.poll_interval_s
            pending = replica.pending_count()
            if pending:
                self.status.pushed += client.push(batch_size=settings.upload_batch)
            if pull or pending:
                # Before the heartbeat, which reports it: a first pass no longer says "never".
                self.status.last_sync_ms = int(time.time() * 1000)
            beat = force or now >= s.next_heartbeat
            if beat:
                self._heartbeat(client, replica)
                s.next_heartbeat = now + settings.heartbeat_interval_s
        except (sqlite3.Error, OSError) as exc:
            if isinstance(exc, sqlite3.Error) and is_damage(exc):
                self._damaged(f"{replica.path} is damaged: {exc}", client)
                return
            # The gate's own disk (full, failing): not the server's fault, but the loop must live
            # on and retry, and say so; the scans stay where they are (issue 14).
            self._failed(f"local replica: {exc}", pull)
            return
        except DeviceRevoked as exc:
            self.status.last_error = f"device revoked: {exc}"
            log.error("the server revoked this gate's token: %s", exc)
            self._set(SyncState.REVOKED, replica)
            return
        except UpgradeRequired as exc:
            # Not a network fault: retrying soon changes nothing, until someone upgrades one side.
            with self._lock:
                s.pull_requested = s.pull_requested or pull
            self.status.last_error = str(exc)
            s.retry_at = time.monotonic() + settings.backoff_cap_s
            log.error("the server cannot serve this gate: %s", exc)
            self._set(SyncState.UPGRADE, replica)
            return
        except SyncError as exc:
            self._failed(str(exc), pull, replica)
            return
        self.status.failures = 0
        self.status.last_error = ""
        if pull or pending or beat:
            # A pass that had nothing to do talked to nobody: it is no sync.
            self.status.last_sync_ms = int(time.time() * 1000)
        self._set(SyncState.ONLINE, replica)

    def _probing(self) -> bool:
        """Probe while there is something to catch up on: scans waiting, or a pull owed."""
        return self.status.outbox > 0 or self._schedule.pull_requested

    def _probe_says_back(self, client: SyncClient, replica: Replica, now: float) -> bool:
        s = self._schedule
        if now < s.next_probe:
            return False
        self.status.outbox = replica.pending_count()  # scans made since the last pass count too
        if not self._probing():
            return False
        s.next_probe = now + PROBE_S * (0.5 + self._rng())
        return client.reachable(timeout_s=min(1.0, self.config.sync.timeout_s))

    def _watch_clock(self, replica: Replica) -> None:
        """A jump of the wall clock shows at once against the boot clock (which counts on through
        a suspend): the stored correction moves by the jump, so that decisions keep the server's
        time even offline, and the next heartbeat measures it again (issue 14)."""
        delta = time.time() - _boot_clock()
        known, self._clock_delta = self._clock_delta, delta
        if known is None:
            return
        jump_ms = round((delta - known) * 1000)
        if abs(jump_ms) <= CLOCK_JUMP_MS:
            return
        stored = int(replica.get_meta("clock_offset_ms") or 0)
        corrected = stored + jump_ms
        applied = corrected if abs(corrected) > self.config.sync.max_clock_skew_s * 1000 else 0
        replica.set_clock_offset_ms(applied)
        self.status.clock_offset_ms = applied
        self._schedule.next_heartbeat = 0.0
        log.warning("the gate's clock jumped %+d ms: correction %+d -> %+d ms until the server "
                    "confirms it", jump_ms, stored, applied)  # fmt: skip

    def _damaged(self, error: str, client: SyncClient) -> None:
        self.status.last_error = error
        log.critical("%s: this gate decides nothing more until restarted and rebuilt", error)
        self.status.state = SyncState.DAMAGED
        self._on_status(self.status)  # not written to the replica: it is not to be trusted
        try:
            # A last word for the gate's tile and the supervisors, from what is in memory.
            client.notify_damaged(error)
        except (SyncError, sqlite3.Error, OSError) as exc:
            log.warning("could not tell the server the replica is damaged: %s", exc)

    def _failed(self, error: str, pull: bool, replica: Replica | None = None) -> None:
        s, settings = self._schedule, self.config.sync
        with self._lock:
            s.pull_requested = s.pull_requested or pull
        self.status.failures += 1
        self.status.last_error = error
        delay = backoff_delay(
            self.status.failures, settings.backoff_base_s, settings.backoff_cap_s, self._rng
        )
        s.retry_at = time.monotonic() + delay
        log.warning("sync failed (%s); retrying in %.1f s", error, delay)
        self._set(SyncState.OFFLINE, replica)

    def _heartbeat(self, client: SyncClient, replica: Replica) -> None:
        sent = time.time()
        answer = client.heartbeat(
            last_sync_ms=self.status.last_sync_ms,
            counters={"pulled": self.status.pulled, "pushed": self.status.pushed},
            replica="rebuilding" if self.status.rebuild_pending else "ok",
            clock_verified_ms=self.status.clock_verified_ms,
            **{k: v for k, v in self._device_status().items() if k in ("camera", "relay")},
        )
        received = time.time()
        if answer.known_seq > replica.scan_seq:
            self._behind(replica, answer.known_seq)
        if answer.head > replica.cursor:
            self.request_pull()  # the feed moved and the event stream did not say (it may be down)
        self._check_epoch(client, replica, answer.epoch)
        # Local minus server time, the round trip split evenly.
        offset = round((sent + received) / 2 * 1000 - answer.server_time_ms)
        threshold = self.config.sync.max_clock_skew_s * 1000
        applied = offset if abs(offset) > threshold else 0
        # Against what the replica holds, not this process's memory: a measured 0 must replace an
        # offset stored before the clock was put right, or expired tickets pass (issue 14).
        stored = int(replica.get_meta("clock_offset_ms") or 0)
        if applied != stored:
            if applied:
                log.warning("gate clock is %+d ms off the server's: deciding with server time",
                            offset)  # fmt: skip
            else:
                log.warning("gate clock agrees with the server's again: correction %+d ms dropped",
                            stored)  # fmt: skip
            replica.set_clock_offset_ms(applied)
        self.status.clock_offset_ms = applied
        self.status.clock_verified_ms = answer.server_time_ms
        device = device_of(client.token)
        if replica.get_meta(DEVICE) != device:
            replica.set_meta(DEVICE, device)  # whose the file is: written once per enrollment

    def _behind(self, replica: Replica, known: int) -> None:
        """The server knows records of this device the replica does not hold: the file is an
        older copy (put back from a backup, a cloned card). Its usage may be old, so it decides
        nothing until rebuilt (the scans it holds are sent, the feed pulled); the server raised
        the alert with what may be lost. Its next records are numbered after the server's."""
        held = replica.scan_seq
        replica.raise_scan_seq(known)
        replica.recover_from_journal()  # the newer file's unsent scans, if it kept them
        replica.set_meta(REBUILD_PENDING, stamp())
        self.status.rebuild_pending = True
        log.error(
            "this gate's replica holds records up to number %d but the server knows %d: it is "
            "an older copy; deciding nothing until it is rebuilt", held, known,
        )  # fmt: skip
        self._on_status(self.status)
        self.request_pull()

    def _check_epoch(self, client: SyncClient, replica: Replica, epoch: object) -> None:
        """A new epoch: the server's database was restored from a backup, which may have lost
        scans this gate uploaded after it (refusals too, which move no cursor). Send every scan
        again (the server keeps each UUID once) and rebuild the replica from change 0."""
        if not isinstance(epoch, str) or not epoch:
            return  # a server from before epochs
        known = replica.get_meta(SERVER_EPOCH)
        if known == epoch:
            return
        if known:
            log.warning("the server's database was restored from a backup: sending every scan "
                        "again and resyncing from 0")  # fmt: skip
            replica.reset_for_resync()
        # Recorded before the long part: if it fails, the loop's next passes carry on from the
        # reset (every scan pending, cursor 0) without resetting again.
        replica.set_meta(SERVER_EPOCH, epoch)
        if known:
            self.status.pushed += client.push(batch_size=self.config.sync.upload_batch)
            self.status.pulled += client.pull()

    def _set(self, state: SyncState, replica: Replica | None = None) -> None:
        self.status.state = state
        if replica is not None:
            try:
                self.status.cursor = replica.cursor
                self.status.outbox = replica.pending_count()
                self._keep(replica)
            except (sqlite3.Error, OSError) as exc:
                log.warning("cannot keep the sync status in the replica: %s", exc)
        self._on_status(self.status)

    def _keep(self, replica: Replica) -> None:
        """The status in the replica, for other processes: when it changed in substance (state,
        cursor, scans waiting, error) or a minute went by. An idle gate passes 4 times a second;
        a commit each time would write gigabytes a day to its SD card (issue 14)."""
        substance = (self.status.state, self.status.cursor, self.status.outbox,
                     self.status.last_error, self.status.rebuild_pending)  # fmt: skip
        now = time.monotonic()
        if substance == self._kept and now - self._kept_at < STATUS_KEPT_S:
            return
        replica.set_meta("sync_status", json.dumps(self.status.as_dict()))
        self._kept, self._kept_at = substance, now

    # -- the server's event stream, in a helper thread ---------------------------------------------

    def _listen(self) -> None:
        failures = 0
        url = f"{self.config.server}{API}/stream"
        headers = {"Authorization": f"Bearer {self.config.token()}", **HEADERS}
        timeout = httpx.Timeout(self.config.sync.timeout_s, read=STREAM_READ_TIMEOUT_S)
        while not self._stop.is_set():
            try:
                verify = verify_for(self.config.server_pins)
                with httpx.stream(
                    "GET", url, headers=headers, timeout=timeout, verify=verify
                ) as stream:
                    if stream.status_code != 200:
                        raise SyncError(f"event stream refused: {stream.status_code}")
                    failures = 0
                    for line in stream.iter_lines():
                        if self._stop.is_set():
                            return
                        if line.startswith("data:") and _head(line) > self.status.cursor:
                            self.request_pull()
            except (httpx.HTTPError, SyncError) as exc:
                log.debug("event stream interrupted: %s", exc)
            failures += 1
            # Until the backoff ends, or the main loop finds the server back, or a stop.
            self._stream_wake.wait(
                backoff_delay(failures, 1.0, self.config.sync.backoff_cap_s, self._rng)
            )
            self._stream_wake.clear()


def _boot_clock() -> float:
    """Seconds since boot, suspend included (Linux's CLOCK_BOOTTIME), else the monotonic clock."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    return time.clock_gettime(boottime) if boottime is not None else time.monotonic()


def _head(line: str) -> int:
    try:
        return int(json.loads(line.split(":", 1)[1]).get("head", 0))
    except (ValueError, AttributeError):
        return 0
