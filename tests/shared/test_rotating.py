"""Rotating codes (issue 18, first part): the format, the derivation and TOTP, checked against
RFC 6238's own vectors and an independent implementation (pyotp); the worked example of
docs/credential-format.md."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import timedelta

import pyotp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import rotating
from shared.errors import MalformedCredential
from shared.reasons import Reason
from shared.sync_schema import RotationKeyRow
from tests.support.world import NOW, T, World, code, right

ROTATION_KEY = bytes(range(32))
RIGHT_ID = bytes.fromhex("00112233445566778899aabbccddeeff")
AT = 1_764_612_345


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ],
)
def test_totp_is_rfc_6238s_sha1_vectors(at: int, expected: str) -> None:
    assert rotating.totp(b"12345678901234567890", at // 30) == expected  # the RFC's 30 s


def test_the_worked_example_of_the_format_document() -> None:
    """docs/credential-format.md, "Rotating codes": a third party reproduces these."""
    assert rotating.rotation_key_id(ROTATION_KEY).hex().upper() == "2E52907E"
    secret = rotating.right_secret(ROTATION_KEY, RIGHT_ID)
    assert secret.hex().upper() == (
        "EEB4A4A2A8F432787F929AC2275E898BB5F4B74DD45DCD355177467BC117718F"
    )
    assert AT // rotating.PERIOD_S == 117_640_823
    assert rotating.totp(secret, AT // rotating.PERIOD_S) == "17970178"
    made = rotating.make("EG1:6BFX", ROTATION_KEY, RIGHT_ID, AT)
    assert made == "EGR1:2E52907E:1764612345:17970178:EG1:6BFX"


def test_an_independent_totp_makes_the_same_codes() -> None:
    secret = rotating.right_secret(ROTATION_KEY, RIGHT_ID)
    other = pyotp.TOTP(
        base64.b32encode(secret).decode(), digits=rotating.DIGITS, interval=rotating.PERIOD_S
    )
    for at in (AT, AT + 14, AT + 15, T, 2_000_000_000):
        made = rotating.parse(rotating.make(code(right()), ROTATION_KEY, RIGHT_ID, at))
        assert made.otp == other.at(at)


def test_a_code_proves_its_right_and_its_step_only() -> None:
    signed = code(right())
    made = rotating.parse(rotating.make(signed, ROTATION_KEY, RIGHT_ID, AT))
    assert made.credential == signed and made.rkid == rotating.rotation_key_id(ROTATION_KEY)
    assert rotating.proves(made, ROTATION_KEY, RIGHT_ID)
    assert not rotating.proves(made, ROTATION_KEY, bytes(16))  # another right's secret
    assert not rotating.proves(made, bytes(32), RIGHT_ID)  # another venue's key
    later = rotating.RotatingCode(made.rkid, AT + rotating.PERIOD_S, made.otp, signed)
    assert not rotating.proves(later, ROTATION_KEY, RIGHT_ID)  # its value, another step
    short = rotating.RotatingCode(made.rkid, AT, made.otp[:6], signed)
    assert not rotating.proves(short, ROTATION_KEY, RIGHT_ID)


def test_freshness_tells_a_screenshot_from_a_clock_ahead() -> None:
    made = rotating.parse(rotating.make(code(right()), ROTATION_KEY, RIGHT_ID, AT))
    step_start = AT - AT % rotating.PERIOD_S
    fresh = rotating.Freshness.FRESH
    for now in (AT, step_start, step_start + 29, step_start - 15):
        assert rotating.freshness(made, now) is fresh, now
    assert rotating.freshness(made, step_start + 30) is rotating.Freshness.OLD  # two steps on
    assert rotating.freshness(made, step_start - 16) is rotating.Freshness.AHEAD


@pytest.mark.parametrize(
    "text",
    [
        "EGR1:2e52907e:1764612345:17970178:EG1:6BFX",  # lower-case key id
        "EGR1:2E52907E:1764612345:EG1:6BFX",  # no value
        "EGR1:2E52907E::17970178:EG1:6BFX",  # no instant
        "EGR1:2E52907E:1764612345:17970178:6BFX",  # no EG1 credential
        "EGR1:2E52907E:1764612345:1797A178:EG1:6BFX",
        "EGR2:2E52907E:1764612345:17970178:EG1:6BFX",
        "EGR1:2E52907E:1764612345:17970178:EG1:",
    ],
)
def test_what_is_not_a_rotating_code_is_malformed(text: str) -> None:
    with pytest.raises(MalformedCredential):
        rotating.parse(text)


def test_the_code_stays_in_qr_alphanumeric_mode() -> None:
    made = rotating.make(code(right()), ROTATION_KEY, RIGHT_ID, AT)
    alphanumeric = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    assert set(made) <= alphanumeric


@settings(max_examples=300, deadline=None)
@given(shown_at=st.integers(-3600, 3600), scanned_at=st.integers(-3600, 3600))
def test_a_rotating_code_enters_within_one_step_and_says_which_side_otherwise(
    shown_at: int, scanned_at: int
) -> None:
    """Any instant the phone shows the code at, any instant the gate scans it: granted when
    their steps are at most one apart, else stale, 'old' when shown before, 'ahead' after."""
    world = World("memory")
    world.add(RotationKeyRow(rkid=rotating.rotation_key_id(ROTATION_KEY), key=ROTATION_KEY))
    r = world.sell(right())
    shown = rotating.make(code(r), ROTATION_KEY, r.right_id, T + shown_at)
    decision = world.scan(shown, at=NOW + timedelta(seconds=scanned_at))
    apart = (T + scanned_at) // rotating.PERIOD_S - (T + shown_at) // rotating.PERIOD_S
    if abs(apart) <= rotating.TOLERANCE_STEPS:
        assert decision.reason is Reason.GRANTED
    else:
        assert decision.reason is Reason.STALE_CODE
        assert decision.cause == ("old" if apart > 0 else "ahead")
    static = world.scan(code(replace(r, rotating=True)), at=NOW + timedelta(seconds=scanned_at))
    assert static.reason is Reason.STATIC_CODE  # its signed part alone never enters
