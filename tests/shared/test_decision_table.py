"""The decision, case by case, with time frozen: every reason code and every policy transition.

Each case runs twice: against the in-memory reference view and against the gate's SQLite replica
fed through ``apply_changes``, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import base45
import cbor2
import pytest

from shared import rotating
from shared.cose import decode_sign1
from shared.model import BanScope, Direction, EntryPolicy, RightKind
from shared.reasons import Reason
from shared.rotating import rotation_key_id
from shared.sync_schema import (
    BanRow,
    ChangeKind,
    EventRuleRow,
    OccupancyRow,
    RevocationRow,
    RotationKeyRow,
    UsageRow,
)
from tests.support.world import (
    CONCERT,
    CONCERT_EVENT,
    HOUR,
    KEY_FOREIGN,
    KEY_ROTATED,
    NOW,
    T,
    World,
    code,
    key_row,
    right,
)

COVERED: set[Reason] = set()


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    w = World(request.param, tmp_path / "gate.db")
    yield w
    w.close()


def check(world: World, scanned: str, expected: Reason, gate: str = "G-NORD", **kw: object) -> None:
    decision = world.scan(scanned, gate, **kw)  # type: ignore[arg-type]
    assert decision.reason is expected, decision.detail
    assert decision.granted is (expected is Reason.GRANTED)
    COVERED.add(expected)


# -- identifying the code ------------------------------------------------------------------


def test_valid_ticket_is_granted_into_its_sector(world: World) -> None:
    r = world.sell(right())
    decision = world.scan(code(r))
    assert decision.reason is Reason.GRANTED
    assert decision.zone == "NORD-A"
    assert decision.right is not None and decision.right.right_id == r.right_id
    COVERED.add(Reason.GRANTED)


def test_signed_code_is_valid_without_its_row_in_the_replica(world: World) -> None:
    """Offline-first: the signature carries the right; the replica only adds what changed since."""
    check(world, code(right()), Reason.GRANTED)


@pytest.mark.parametrize(
    "scanned",
    [
        "",
        "   ",
        "EG1:",
        "EG1:not base45 at all!",
        "EG1:" + base45.b45encode(b"\x01\x02\x03").decode(),
        "EG1:" + base45.b45encode(cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b"", b""]))).decode(),
        "ticket\x00with-nul",
        "x" * 5000,
    ],
    ids=["empty", "blank", "prefix-only", "bad-base45", "not-cbor", "bad-cose", "control", "huge"],
)
def test_malformed_codes(world: World, scanned: str) -> None:
    check(world, scanned, Reason.MALFORMED)


def test_scanner_line_endings_are_not_part_of_the_code(world: World) -> None:
    """Keyboard-wedge scanners type the code then CR/LF or Tab."""
    world.sell(right(secret="CA000000077"))
    check(world, code(right()) + "\r\n", Reason.GRANTED)
    check(world, "CA000000077\t", Reason.GRANTED)


def test_plain_secret_is_valid_only_through_the_replica(world: World) -> None:
    sold = world.sell(right(secret="CA000000042"))
    check(world, "CA000000042", Reason.GRANTED)
    check(world, "CA000000043", Reason.UNKNOWN_CODE)
    # The same secret scanned again is the same right: single entry.
    check(world, "CA000000042", Reason.ALREADY_USED)
    assert sold.secret == "CA000000042"


def test_code_signed_by_an_untrusted_key(world: World) -> None:
    check(world, code(right(), KEY_FOREIGN), Reason.UNKNOWN_KEY)


def test_rotated_key_is_trusted_until_retired(world: World) -> None:
    scanned = code(right(policy=EntryPolicy.UNLIMITED), KEY_ROTATED)
    check(world, scanned, Reason.GRANTED)
    world.delete(ChangeKind.KEY, key_row(KEY_ROTATED).kid.hex())
    check(world, scanned, Reason.UNKNOWN_KEY)


def _reencode(scanned: str, *, payload: bytes | None = None, signature: bytes | None = None) -> str:
    message = decode_sign1(base45.b45decode(scanned[4:]))
    fields = [
        message.protected_bytes,
        message.unprotected,
        payload if payload is not None else message.payload,
        signature if signature is not None else message.signature,
    ]
    return "EG1:" + base45.b45encode(cbor2.dumps(cbor2.CBORTag(18, fields))).decode()


def test_altered_claims_break_the_signature(world: World) -> None:
    """Moving an away ticket into the home stand is a forgery, not a wrong zone."""
    scanned = code(right(zones=("SUD-A",)))
    claims = dict(cbor2.loads(decode_sign1(base45.b45decode(scanned[4:])).payload))
    claims[-2] = ["NORD-A"]
    check(world, _reencode(scanned, payload=cbor2.dumps(claims)), Reason.INVALID_SIGNATURE)


def test_flipped_signature_bit(world: World) -> None:
    scanned = code(right())
    signature = bytearray(decode_sign1(base45.b45decode(scanned[4:])).signature)
    signature[10] ^= 0x01
    check(world, _reencode(scanned, signature=bytes(signature)), Reason.INVALID_SIGNATURE)


# -- state of the gate and the right -------------------------------------------------------


def test_disabled_gate_refuses_valid_codes(world: World) -> None:
    check(world, code(right()), Reason.GATE_DISABLED, gate="G-OFF")


def test_revoked_right(world: World) -> None:
    r = right()
    world.add(RevocationRow(right_id=r.right_id, revoked_at=T - HOUR, reason="transferred"))
    check(world, code(r), Reason.REVOKED)


def test_ban_on_the_right(world: World) -> None:
    r = right()
    world.add(BanRow(ban_id="B1", scope=BanScope.RIGHT, subject=r.right_id, reason="resold"))
    check(world, code(r), Reason.BLACKLISTED)


def test_ban_on_the_holder_refuses_all_their_rights(world: World) -> None:
    holder = b"\xaa" * 8
    ticket = right(holder=holder)
    subscription = right(
        holder=holder, zones=("VIP",), policy=EntryPolicy.REENTRY, kind=RightKind.SUBSCRIPTION
    )
    other = right()
    world.add(
        BanRow(
            ban_id="B2", scope=BanScope.HOLDER, subject=holder, reason="pitch invasion", severity=3
        )
    )
    decision = world.scan(code(ticket))
    assert decision.reason is Reason.BLACKLISTED
    assert decision.ban is not None and decision.ban.severity == 3
    check(world, code(subscription), Reason.BLACKLISTED, gate="G-VIP")
    check(world, code(other), Reason.GRANTED)


def test_ban_outside_its_period_does_not_apply(world: World) -> None:
    past, future = right(), right()
    world.add(
        BanRow(
            ban_id="B3",
            scope=BanScope.HOLDER,
            subject=past.holder or b"",
            reason="old",
            valid_from=T - 400 * 86400,
            valid_until=T - 1,
        ),
        BanRow(
            ban_id="B4",
            scope=BanScope.HOLDER,
            subject=future.holder or b"",
            reason="later",
            valid_from=T + 1,
        ),
    )
    check(world, code(past), Reason.GRANTED)
    check(world, code(future), Reason.GRANTED)


def test_blacklist_is_checked_before_revocation(world: World) -> None:
    r = right()
    world.add(
        RevocationRow(right_id=r.right_id, revoked_at=T - HOUR),
        BanRow(ban_id="B5", scope=BanScope.RIGHT, subject=r.right_id, reason="fraud"),
    )
    check(world, code(r), Reason.BLACKLISTED)


def test_wrong_event(world: World) -> None:
    check(world, code(right(event="CUP-FINAL")), Reason.WRONG_EVENT)


# -- time windows, with the gate's grace (600 s) -------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (NOW + timedelta(hours=1, seconds=-601), Reason.NOT_YET_VALID),
        (NOW + timedelta(hours=1, seconds=-600), Reason.GRANTED),
        (NOW + timedelta(hours=1, minutes=30), Reason.GRANTED),
        (NOW + timedelta(hours=2, seconds=599), Reason.GRANTED),
        (NOW + timedelta(hours=2, seconds=600), Reason.EXPIRED),
    ],
    ids=["before-grace", "grace-start", "window", "grace-end", "after-grace"],
)
def test_validity_window_with_grace(world: World, at: datetime, expected: Reason) -> None:
    """A right valid from NOW+1h to NOW+2h at a gate with 600 s of grace on both ends."""
    check(world, code(right(not_before=T + HOUR, expires=T + 2 * HOUR)), expected, at=at)


# -- the zone tree -------------------------------------------------------------------------


def test_away_ticket_at_home_gate(world: World) -> None:
    check(world, code(right(zones=("SUD-A",))), Reason.WRONG_ZONE)


def test_other_sector_of_the_same_stand(world: World) -> None:
    check(world, code(right(zones=("NORD-B",))), Reason.WRONG_ZONE, gate="G-NORD-A")


def test_right_for_a_stand_admits_to_its_sectors(world: World) -> None:
    decision = world.scan(code(right(zones=("NORD",))), "G-NORD-A")
    assert decision.reason is Reason.GRANTED
    assert decision.zone == "NORD-A"


def test_staff_right_for_the_venue_admits_everywhere(world: World) -> None:
    staff = right(zones=("RADES",), policy=EntryPolicy.UNLIMITED, kind=RightKind.STAFF)
    for gate in ("G-NORD", "G-SUD", "G-VIP", "G-NORD-A"):
        check(world, code(staff), Reason.GRANTED, gate=gate)


def test_unknown_zone_is_a_wrong_zone(world: World) -> None:
    check(world, code(right(zones=("ATLANTIS",))), Reason.WRONG_ZONE)


# -- entry policies and directions ---------------------------------------------------------


def test_single_entry_used_twice(world: World) -> None:
    scanned = code(right())
    check(world, scanned, Reason.GRANTED)
    check(world, scanned, Reason.ALREADY_USED, gate="G-NORD-A")


def test_single_entry_cannot_come_back_after_exit(world: World) -> None:
    scanned = code(right())
    check(world, scanned, Reason.GRANTED)
    check(world, scanned, Reason.GRANTED, gate="G-OUT")
    check(world, scanned, Reason.ALREADY_USED)


def test_reentry_with_anti_passback(world: World) -> None:
    scanned = code(right(zones=("VIP",), policy=EntryPolicy.REENTRY, kind=RightKind.SUBSCRIPTION))
    check(world, scanned, Reason.GRANTED, gate="G-VIP")
    check(world, scanned, Reason.ALREADY_INSIDE, gate="G-VIP")
    exit_gate = world.gate("G-OUT")
    assert exit_gate.direction is Direction.OUT
    check(world, scanned, Reason.GRANTED, gate="G-OUT")
    check(world, scanned, Reason.GRANTED, gate="G-VIP")
    check(world, scanned, Reason.ALREADY_INSIDE, gate="G-VIP")


def test_staff_unlimited(world: World) -> None:
    scanned = code(right(zones=("RADES",), policy=EntryPolicy.UNLIMITED, kind=RightKind.STAFF))
    for _ in range(4):
        check(world, scanned, Reason.GRANTED)


def test_usage_synced_from_another_gate(world: World) -> None:
    """A right used at another gate (usage state from the server) is already used here."""
    r = right()
    world.add(
        UsageRow(right_id=r.right_id, entries=1, inside=True, zone="NORD-A", last_scan_at=T - 60)
    )
    check(world, code(r), Reason.ALREADY_USED)


def test_exit_is_never_blocked_for_a_known_code(world: World) -> None:
    """Egress: even a banned holder with a revoked right is let out (and the exit is logged)."""
    r = right()
    world.add(
        RevocationRow(right_id=r.right_id, revoked_at=T),
        BanRow(ban_id="B6", scope=BanScope.HOLDER, subject=r.holder or b"", reason="x"),
    )
    check(world, code(r), Reason.GRANTED, gate="G-OUT")
    check(world, "EG1:garbage", Reason.MALFORMED, gate="G-OUT")


# -- capacity ------------------------------------------------------------------------------


def test_sector_full_then_one_leaves(world: World) -> None:
    first = code(right(policy=EntryPolicy.REENTRY))
    check(world, first, Reason.GRANTED)
    check(world, code(right()), Reason.GRANTED)
    check(world, code(right()), Reason.CAPACITY_FULL)  # NORD-A holds 2
    check(world, code(right(zones=("NORD-B",))), Reason.GRANTED)  # the stand still has room
    check(world, first, Reason.GRANTED, gate="G-OUT")
    check(world, code(right()), Reason.GRANTED)


def test_full_stand_refuses_every_sector(world: World) -> None:
    world.add(OccupancyRow(zone="NORD", count=50))
    check(world, code(right(zones=("NORD-B",))), Reason.CAPACITY_FULL)


def test_staff_are_exempt_from_capacity(world: World) -> None:
    world.add(OccupancyRow(zone="NORD", count=50))
    staff = right(zones=("RADES",), policy=EntryPolicy.UNLIMITED, kind=RightKind.STAFF)
    check(world, code(staff), Reason.GRANTED)


def test_unlimited_rescan_inside_does_not_count_twice(world: World) -> None:
    scanned = code(right(policy=EntryPolicy.UNLIMITED))
    check(world, scanned, Reason.GRANTED, gate="G-NORD-A")
    check(world, scanned, Reason.GRANTED, gate="G-NORD-A")
    assert world.view.occupancy("NORD-A") == 1
    assert world.view.occupancy("NORD") == 1
    assert world.view.occupancy("RADES") == 1


# -- rotating codes: a screenshot is worth nothing ----------------------------------------------

ROTATION_KEY = bytes(range(100, 132))


def rotating_world(world: World) -> World:
    world.add(RotationKeyRow(rkid=rotation_key_id(ROTATION_KEY), key=ROTATION_KEY))
    return world


def test_a_fresh_rotating_code_is_granted_and_its_screenshot_later_is_stale(world: World) -> None:
    r = rotating_world(world).sell(right())
    shown = rotating.make(code(r), ROTATION_KEY, r.right_id, T)
    replayed = world.scan(shown, at=NOW + timedelta(seconds=2 * rotating.PERIOD_S))
    assert replayed.reason is Reason.STALE_CODE and replayed.detail.startswith("old")
    COVERED.add(Reason.STALE_CODE)
    check(world, shown, Reason.GRANTED, at=NOW + timedelta(seconds=10))  # within a step
    # A new value of the same code, after the holder got in: refused as any used ticket.
    again = rotating.make(code(r), ROTATION_KEY, r.right_id, T + 60)
    check(world, again, Reason.ALREADY_USED, at=NOW + timedelta(seconds=60))


def test_a_phones_clock_ahead_is_told_from_a_screenshot(world: World) -> None:
    r = rotating_world(world).sell(right())
    ahead = rotating.make(code(r), ROTATION_KEY, r.right_id, T + 5 * 60)
    decision = world.scan(ahead)
    assert decision.reason is Reason.STALE_CODE and decision.detail.startswith("ahead")


def test_a_wrong_one_time_value_is_a_forgery(world: World) -> None:
    r = rotating_world(world).sell(right())
    made = rotating.parse(rotating.make(code(r), ROTATION_KEY, r.right_id, T))
    forged = f"EGR1:{made.rkid.hex().upper()}:{T}:{int(made.otp) ^ 1:08d}:{made.credential}"
    check(world, forged, Reason.INVALID_SIGNATURE)
    other = right()  # another ticket's value does not fit this one
    borrowed = rotating.make(code(r), ROTATION_KEY, other.right_id, T)
    check(world, borrowed, Reason.INVALID_SIGNATURE)


def test_a_rotation_key_the_gate_does_not_hold_is_unknown(world: World) -> None:
    r = rotating_world(world).sell(right())
    check(world, rotating.make(code(r), bytes(32), r.right_id, T), Reason.UNKNOWN_KEY)
    tampered = rotating.make(code(r), ROTATION_KEY, r.right_id, T).replace("EG1:", "EG1:X", 1)
    assert world.scan(tampered).reason in (Reason.MALFORMED, Reason.INVALID_SIGNATURE)


def test_a_stale_code_still_leaves_and_a_banned_holder_is_banned_first(world: World) -> None:
    r = rotating_world(world).sell(right())
    old = rotating.make(code(r), ROTATION_KEY, r.right_id, T - 600)
    check(world, old, Reason.GRANTED, gate="G-OUT")  # egress is never blocked
    world.add(BanRow(ban_id="B-ROT", scope=BanScope.RIGHT, subject=r.right_id, reason="tout"))
    check(world, old, Reason.BLACKLISTED)


def test_a_right_issued_rotating_refuses_its_static_code(world: World) -> None:
    """The signed part of a holder's rotating code, copied out of the page and shown alone,
    does not enter: the credential itself says the right rotates."""
    r = rotating_world(world).sell(right(rotating=True))
    decision = world.scan(code(r))
    assert decision.reason is Reason.STATIC_CODE and "issued rotating" in decision.detail
    COVERED.add(Reason.STATIC_CODE)
    check(world, rotating.make(code(r), ROTATION_KEY, r.right_id, T), Reason.GRANTED)
    check(world, code(r), Reason.GRANTED, gate="G-OUT")  # egress is never blocked


def test_an_event_requiring_rotating_codes_refuses_static_ones(world: World) -> None:
    rotating_world(world).add(EventRuleRow(event="DERBY", rotating_required=True))
    printed = world.sell(right())  # printed before the policy: its code carries no claim
    check(world, code(printed), Reason.STATIC_CODE)
    world.sell(right(secret="PLAIN-77"))
    check(world, "PLAIN-77", Reason.STATIC_CODE)  # another system's plain code, too
    check(world, rotating.make(code(printed), ROTATION_KEY, printed.right_id, T), Reason.GRANTED)
    world.add(CONCERT)  # the rule is the derby's own
    check(world, code(right(event=CONCERT_EVENT, zones=("FOSSE",))), Reason.GRANTED)
    world.add(EventRuleRow(event="DERBY", rotating_required=False))  # the policy lifted
    check(world, code(right()), Reason.GRANTED)


def test_the_stale_cause_is_told_to_the_decision(world: World) -> None:
    r = rotating_world(world).sell(right())
    old = world.scan(rotating.make(code(r), ROTATION_KEY, r.right_id, T - 60))
    ahead = world.scan(rotating.make(code(r), ROTATION_KEY, r.right_id, T + 60))
    assert (old.cause, ahead.cause) == ("old", "ahead")
    assert world.scan(code(right())).cause == ""


# -- layouts: the same gates, another evening ------------------------------------------------


def concert_ticket(**overrides: object) -> str:
    return code(right(event=CONCERT_EVENT, zones=("FOSSE",), **overrides))


def test_the_same_gate_leads_into_the_pit_at_a_concert(world: World) -> None:
    world.add(CONCERT)
    decision = world.scan(concert_ticket())
    assert decision.reason is Reason.GRANTED and decision.zone == "FOSSE"
    # The match's tickets still go where the football layout says, through the same gate.
    derby = world.scan(code(right()))
    assert derby.reason is Reason.GRANTED and derby.zone == "NORD-A"
    assert world.view.occupancy("FOSSE") == 1 and world.view.occupancy("NORD-A") == 1
    assert world.view.occupancy("RADES") == 2  # one venue, one head count


def test_a_gate_leads_where_the_events_layout_says(world: World) -> None:
    world.add(CONCERT)
    # G-NORD leads into the north stand at a match, into the pit at a concert.
    check(world, code(right(event=CONCERT_EVENT, zones=("NORD",))), Reason.WRONG_ZONE)
    check(world, code(right(event=CONCERT_EVENT, zones=("NORD",))), Reason.GRANTED,
          gate="G-NORD-A")  # fmt: skip
    # G-SUD leads nowhere at the concert.
    check(world, concert_ticket(), Reason.WRONG_ZONE, gate="G-SUD")
    # A sector of the football layout is no zone of the concert's.
    check(world, code(right(event=CONCERT_EVENT, zones=("NORD-A",))), Reason.WRONG_ZONE,
          gate="G-NORD-A")  # fmt: skip


def test_the_concerts_capacities_are_its_own(world: World) -> None:
    world.add(CONCERT)
    for _ in range(3):
        check(world, concert_ticket(), Reason.GRANTED)
    check(world, concert_ticket(), Reason.CAPACITY_FULL)  # the pit holds 3
    staff = right(event=CONCERT_EVENT, zones=("RADES",), policy=EntryPolicy.UNLIMITED,
                  kind=RightKind.STAFF)  # fmt: skip
    check(world, code(staff), Reason.GRANTED)


def test_an_exit_at_a_concert_leaves_from_the_pit(world: World) -> None:
    world.add(CONCERT)
    never_scanned_in = world.scan(concert_ticket(), "G-OUT")
    assert never_scanned_in.reason is Reason.GRANTED and never_scanned_in.zone == "FOSSE"


def test_an_event_whose_layout_the_replica_lacks_is_refused(world: World) -> None:
    """The gate controls the concert but has not received its layout: it cannot know where the
    holder may go, so it refuses rather than guess with the football stands."""
    check(world, concert_ticket(), Reason.WRONG_EVENT)


def test_every_reason_code_has_a_case() -> None:
    """Runs last in this module (pytest keeps file order): the table covers the whole list."""
    assert set(Reason) == COVERED
