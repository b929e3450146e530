"""The gate's decision: a pure function of the code, the gate, what the replica knows, and the time.

Order of checks (each refusal names the first check that failed):

1. identify the code: EG1 signature (``malformed``, ``unknown_key``, ``invalid_signature``),
   for a rotating code (``shared.rotating``) its one-time value too (``unknown_key`` for a
   rotation key not held, ``invalid_signature`` for a wrong value), or plain secret through
   the replica (``malformed``, ``unknown_code``);
2. ``gate_disabled``;
3. exits: any identified code of the gate's events may leave (egress is never blocked);
4. ``blacklisted`` (the right, then its holder) — first, so security acts whatever else is wrong;
   then ``stale_code``: a rotating code from more than a step away of the gate's clock, or
   ``static_code``: a static code of a right issued rotating, or of an event requiring them;
5. ``revoked``; 6. ``wrong_event`` (not an event of this gate, or one whose layout the replica
   does not hold); 7. ``not_yet_valid`` / ``expired`` (with the gate's grace);
8. ``wrong_zone`` (the zone tree and access points of the event's layout);
9. ``already_used`` / ``already_inside`` (entry policy);
10. ``capacity_full`` (the entry zone and every zone above it; staff are exempt);
11. ``granted``.

Zones, capacities and where the gate leads are those of the layout the right's event is held in
(:class:`~shared.model.Layout`): the same gate leads into the north stand at a match and into
the pit at a concert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared import rotating
from shared.credential import KeyRing, is_eg1, verify
from shared.errors import CredentialError, InvalidSignature, MalformedCredential, UnknownKey
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
)
from shared.reasons import Reason

MAX_SECRET_LENGTH = 512


class ReplicaView(Protocol):
    """The read-only lookups a decision needs. The gate's SQLite replica is the real one."""

    @property
    def keyring(self) -> KeyRing: ...

    def right_by_secret(self, secret: str) -> AccessRight | None: ...

    def is_revoked(self, right_id: bytes) -> bool: ...

    def bans(self, scope: BanScope, subject: bytes) -> Sequence[BlacklistEntry]: ...

    def usage(self, right_id: bytes) -> UsageState | None: ...

    def layout_of(self, event: str) -> Layout | None:
        """The layout ``event`` is held in; None if the replica holds none for it."""
        ...

    def rotation_key(self, rkid: bytes) -> bytes | None:
        """The venue's rotation key ``rkid`` (``shared.rotating``); None if not held."""
        ...

    def rotating_required(self, event: str) -> bool:
        """``event`` takes rotating codes only (``shared.sync_schema.EventRuleRow``)."""
        ...

    def occupancy(self, zone: str) -> int: ...


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one scan. ``reason`` is the stable code; words are chosen by the UI."""

    reason: Reason
    direction: Direction
    right: AccessRight | None = None
    zone: str | None = None
    """The zone entered (most specific of gate zone and right zone), or left."""
    ban: BlacklistEntry | None = None
    detail: str = ""
    """A technical explanation for logs and installers (English), never shown to the public."""
    cause: str = ""
    """For a reason with more than one cause, which one, for the controller's words:
    ``stale_code``: ``old`` (a screenshot, or the phone's clock behind) or ``ahead``."""

    @property
    def granted(self) -> bool:
        return self.reason is Reason.GRANTED


def zone_path(layout: Layout | None, code: str) -> list[str]:
    """The zone and its ancestors up to the venue root; empty if the zone is unknown."""
    path: list[str] = []
    if layout is None:
        return path
    current: str | None = code
    while current is not None and current not in path:  # a cycle is bad data, not a hang
        zone = layout.zone(current)
        if zone is None:
            break
        path.append(current)
        current = zone.parent
    return path


def entry_zone(layout: Layout, gate_zones: Sequence[str], right_zones: Sequence[str]) -> str | None:
    """Where a right enters through a gate, or None if none of its zones is reachable.

    A right for a zone admits to its whole subtree; a gate into a stand admits a right for one of
    its sectors (the holder walks on to the sector). The more specific of the two is entered.
    """
    for gate_zone in gate_zones:
        gate_path = zone_path(layout, gate_zone)
        for right_zone in right_zones:
            if right_zone in gate_path:
                return gate_zone
            if gate_path and gate_zone in zone_path(layout, right_zone):
                return right_zone
    return None


def decide(code: str | bytes, gate: GateConfig, view: ReplicaView, now: datetime) -> Decision:
    """Decide whether ``code`` may pass ``gate`` at ``now``. Reads the view, changes nothing."""
    direction = gate.direction
    try:
        right, rotating_code = _identify(code, view)
    except CredentialError as exc:
        return Decision(exc.reason, direction, detail=str(exc))
    if right is None:
        return Decision(Reason.UNKNOWN_CODE, direction, detail="no access right with this secret")

    def refuse(
        reason: Reason,
        detail: str,
        *,
        zone: str | None = None,
        ban: BlacklistEntry | None = None,
        cause: str = "",
    ) -> Decision:
        return Decision(reason, direction, right, zone=zone, ban=ban, detail=detail, cause=cause)

    if not gate.enabled:
        return refuse(Reason.GATE_DISABLED, f"gate {gate.name} is disabled")
    usage = view.usage(right.right_id)
    layout = view.layout_of(right.event)
    entrances = () if layout is None else layout.entrances(gate.name)
    if direction is Direction.OUT:
        left_from = usage.zone if usage is not None and usage.inside else None
        return Decision(Reason.GRANTED, direction, right, zone=left_from or _first(entrances))

    now_s = now.timestamp()
    ban = _active_ban(view, right, now_s)
    if ban is not None:
        return refuse(Reason.BLACKLISTED, f"{ban.scope} banned: {ban.reason}", ban=ban)
    if rotating_code is not None:
        fresh = rotating.freshness(rotating_code, now_s)
        if fresh is not rotating.Freshness.FRESH:
            lag = int(now_s) - rotating_code.timestamp_s
            return refuse(
                Reason.STALE_CODE,
                f"{fresh.value}: the code was made {lag} s from now",
                cause=fresh.value,
            )
    elif right.rotating or view.rotating_required(right.event):
        why = "the right is issued rotating" if right.rotating else "its event requires rotating"
        return refuse(Reason.STATIC_CODE, f"a static code: {why}")
    if view.is_revoked(right.right_id):
        return refuse(Reason.REVOKED, "the access right was revoked")
    if right.event not in gate.event_codes:
        return refuse(Reason.WRONG_EVENT, f"right for {right.event}, gate controls another event")
    if layout is None:
        return refuse(Reason.WRONG_EVENT, f"no layout of event {right.event} in the replica")
    if now_s < right.not_before - gate.grace_s:
        return refuse(Reason.NOT_YET_VALID, "before the right's validity window")
    if now_s >= right.expires + gate.grace_s:
        return refuse(Reason.EXPIRED, "after the right's validity window")
    zone = entry_zone(layout, entrances, right.zones)
    if zone is None:
        return refuse(
            Reason.WRONG_ZONE, f"right for {', '.join(right.zones)} (layout {layout.code})"
        )
    if usage is not None:
        if right.policy is EntryPolicy.SINGLE and usage.entries > 0:
            return refuse(
                Reason.ALREADY_USED, f"entered {usage.entries} time(s) already", zone=zone
            )
        if right.policy is EntryPolicy.REENTRY and usage.inside:
            return refuse(Reason.ALREADY_INSIDE, "must exit before entering again", zone=zone)
    adds_occupant = usage is None or not usage.inside
    if adds_occupant and right.kind is not RightKind.STAFF:
        for code_ in zone_path(layout, zone):
            above = layout.zone(code_)
            capacity = None if above is None else above.capacity
            if capacity is not None and view.occupancy(code_) >= capacity:
                return refuse(Reason.CAPACITY_FULL, f"zone {code_} is full", zone=zone)
    return Decision(Reason.GRANTED, direction, right, zone=zone)


def _identify(
    code: str | bytes, view: ReplicaView
) -> tuple[AccessRight | None, rotating.RotatingCode | None]:
    """The access right behind a scanned code (and the rotating code it came in); raises
    CredentialError; no right for an unknown plain secret."""
    text = code
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedCredential("the scanned bytes are not UTF-8 text") from None
    # Keyboard-wedge scanners end a code with CR, LF or Tab; some add a space. None is part of it.
    text = text.strip()
    if rotating.is_rotating(text):
        return _rotating_right(rotating.parse(text), view)
    if is_eg1(text):
        return verify(text, view.keyring).right, None
    return view.right_by_secret(_plain_secret(text)), None


def _rotating_right(
    code: rotating.RotatingCode, view: ReplicaView
) -> tuple[AccessRight, rotating.RotatingCode]:
    right = verify(code.credential, view.keyring).right
    key = view.rotation_key(code.rkid)
    if key is None:
        raise UnknownKey(f"rotation key {code.rkid.hex()} is not held by this gate")
    if not rotating.proves(code, key, right.right_id):
        raise InvalidSignature("the rotating code's one-time value is not this right's")
    return right, code


def _plain_secret(secret: str) -> str:
    if not secret:
        raise MalformedCredential("empty code")
    if len(secret) > MAX_SECRET_LENGTH:
        raise MalformedCredential(f"code longer than {MAX_SECRET_LENGTH} characters")
    if not secret.isprintable():
        raise MalformedCredential("code contains control characters")
    return secret


def _active_ban(view: ReplicaView, right: AccessRight, now_s: float) -> BlacklistEntry | None:
    subjects = [(BanScope.RIGHT, right.right_id)]
    if right.holder is not None:
        subjects.append((BanScope.HOLDER, right.holder))
    for scope, subject in subjects:
        for ban in view.bans(scope, subject):
            if ban.active_at(now_s):
                return ban
    return None


def _first(items: Sequence[str]) -> str | None:
    return items[0] if items else None


def usage_after(decision: Decision, before: UsageState | None, at_s: int) -> UsageState | None:
    """The right's usage once a granted decision is carried out; None when nothing changes."""
    if not decision.granted or decision.right is None:
        return None
    prev = before if before is not None else UsageState(decision.right.right_id)
    if decision.direction is Direction.IN:
        return UsageState(prev.right_id, prev.entries + 1, True, decision.zone, at_s)
    return UsageState(prev.right_id, prev.entries, False, None, at_s)


def occupancy_changes(
    layout: Layout | None, before: UsageState | None, after: UsageState | None
) -> dict[str, int]:
    """How zone head counts move from ``before`` to ``after`` (in the layout of the right's
    event): a holder counts in their zone and every zone above it, once, whatever number of
    times they scan while inside."""
    changes: dict[str, int] = {}
    if after is None:
        return changes
    if before is not None and before.inside and before.zone is not None:
        for code in zone_path(layout, before.zone):
            changes[code] = changes.get(code, 0) - 1
    if after.inside and after.zone is not None:
        for code in zone_path(layout, after.zone):
            changes[code] = changes.get(code, 0) + 1
    return {code: delta for code, delta in changes.items() if delta}
