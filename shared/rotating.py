"""Rotating codes (issue 18): a signed EG1 credential plus a one-time value that changes every
``PERIOD_S`` seconds, so that a screenshot is worth nothing a few seconds later.

The code a phone shows (QR alphanumeric mode: upper case, digits and ``:``)::

    EGR1:<RKID>:<TS>:<OTP>:<EG1 credential>

- ``RKID``: 8 hexadecimal digits (upper case), the id of the venue's rotation key;
- ``TS``: the instant the code was made, in whole seconds since the Unix epoch (what Google
  Wallet's ``{totp_timestamp_seconds}`` gives): its time step is ``TS // PERIOD_S``;
- ``OTP``: ``DIGITS`` decimal digits, TOTP (RFC 6238: HOTP with HMAC-SHA1, RFC 4226) of that
  step under the right's secret;
- the EG1 credential as issued (``shared.credential``): the signed right, which no one forges.

The right's secret is never stored or sent to gates: each gate derives it from the venue's
rotation key, ``HMAC-SHA256(rotation key, "entrix-rotating-v1" || right id)`` (32 bytes), as the
server does when it hands it to the holder's page or wallet. A gate accepts a code whose step is
within ``TOLERANCE_STEPS`` of its own clock's; the step is in the code, so it can tell an old
screenshot (or a phone's clock behind) from a phone's clock ahead. Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import struct
from dataclasses import dataclass
from enum import StrEnum

from shared.credential import is_eg1
from shared.errors import MalformedCredential

PREFIX = "EGR1:"
PERIOD_S = 15
"""The default time step (Google Wallet's ``periodMillis`` / 1000)."""
DIGITS = 8
TOLERANCE_STEPS = 1
"""A code of the step before or after the gate's own is accepted (clocks a few seconds apart,
the holder walking up): about ±15 s beyond the step itself."""
RKID_BYTES = 4
DERIVATION_LABEL = b"entrix-rotating-v1"
_SHAPE = re.compile(r"EGR1:([0-9A-F]{8}):([0-9]{1,12}):([0-9]{6,10}):(EG1:.+)", re.DOTALL)


def is_rotating(text: str) -> bool:
    return text.startswith(PREFIX)


@dataclass(frozen=True, slots=True)
class RotatingCode:
    rkid: bytes
    timestamp_s: int
    otp: str
    credential: str
    """The EG1 text within."""

    @property
    def step(self) -> int:
        return self.timestamp_s // PERIOD_S


def parse(text: str) -> RotatingCode:
    """The parts of a rotating code; ``MalformedCredential`` when it is not one."""
    found = _SHAPE.fullmatch(text)
    if found is None or not is_eg1(found.group(4)):
        raise MalformedCredential("not a rotating code (EGR1:RKID:TS:OTP:EG1...)")
    rkid, ts, otp, credential = found.groups()
    return RotatingCode(bytes.fromhex(rkid), int(ts), otp, credential)


def rotation_key_id(key: bytes) -> bytes:
    """A rotation key's id: the first bytes of its SHA-256 (as a signing key's kid)."""
    return hashlib.sha256(b"entrix-rotation-key" + key).digest()[:RKID_BYTES]


def right_secret(rotation_key: bytes, right_id: bytes) -> bytes:
    """The right's TOTP secret, derived by gates and the server alike."""
    return hmac.new(rotation_key, DERIVATION_LABEL + right_id, hashlib.sha256).digest()


def totp(secret: bytes, step: int, digits: int = DIGITS) -> str:
    """RFC 6238 with HMAC-SHA1 (RFC 4226's dynamic truncation) for time step ``step``."""
    if step < 0:
        raise ValueError("a time step is not negative")
    mac = hmac.new(secret, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


WALLET_TIMESTAMP, WALLET_VALUE = "{totp_timestamp_seconds}", "{totp_value_0}"
"""Google Wallet's substitutions for ``TS`` and ``OTP`` in a ``valuePattern``."""


def compose(rkid: str, timestamp: str, otp: str, credential: str) -> str:
    """The code's text from its parts: the one place its layout is written (``rkid`` in upper
    case hexadecimal; Wallet's substitutions in place of the instant and value make its
    ``valuePattern``)."""
    return f"{PREFIX}{rkid}:{timestamp}:{otp}:{credential}"


def shown(secret: bytes, rkid: str, credential: str, at_s: int) -> str:
    """The code to show at ``at_s`` from the right's secret (the server, the holder's page)."""
    return compose(rkid, str(at_s), totp(secret, at_s // PERIOD_S), credential)


def make(credential: str, rotation_key: bytes, right_id: bytes, at_s: int) -> str:
    """The code to show at ``at_s``, from the venue's rotation key (as a gate could)."""
    rkid = rotation_key_id(rotation_key).hex().upper()
    return shown(right_secret(rotation_key, right_id), rkid, credential, at_s)


class Freshness(StrEnum):
    FRESH = "fresh"
    OLD = "old"
    """From too far in the past: a screenshot, or the phone's clock is behind."""
    AHEAD = "ahead"
    """From too far in the future: the phone's clock is ahead."""


def proves(code: RotatingCode, rotation_key: bytes, right_id: bytes) -> bool:
    """The one-time value is the right's, for the step the code states (constant time)."""
    if len(code.otp) != DIGITS:
        return False
    expected = totp(right_secret(rotation_key, right_id), code.step)
    return hmac.compare_digest(expected, code.otp)


def freshness(code: RotatingCode, now_s: float) -> Freshness:
    """Whether the code's step is close enough to the gate's clock's."""
    lag = int(now_s) // PERIOD_S - code.step
    if lag > TOLERANCE_STEPS:
        return Freshness.OLD
    if lag < -TOLERANCE_STEPS:
        return Freshness.AHEAD
    return Freshness.FRESH
