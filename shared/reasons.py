"""Stable reason codes of a gate decision.

The codes travel (scan log, sync, dashboard); the words are chosen at the edge, per language.
Never rename a member: gates and servers of different versions must keep understanding each other.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why a code was admitted or refused, as a stable snake_case string."""

    GRANTED = "granted"
    MALFORMED = "malformed"
    UNKNOWN_CODE = "unknown_code"
    UNKNOWN_KEY = "unknown_key"
    INVALID_SIGNATURE = "invalid_signature"
    REVOKED = "revoked"
    BLACKLISTED = "blacklisted"
    WRONG_EVENT = "wrong_event"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    WRONG_ZONE = "wrong_zone"
    ALREADY_USED = "already_used"
    ALREADY_INSIDE = "already_inside"
    CAPACITY_FULL = "capacity_full"
    GATE_DISABLED = "gate_disabled"
    STALE_CODE = "stale_code"
    """A rotating code from too far in the past (a screenshot; the phone's clock behind) or the
    future (the phone's clock ahead): ``shared.rotating``."""
    STATIC_CODE = "static_code"
    """A static code where only a rotating one is taken: the right was issued rotating, or its
    event requires rotating codes (a printed or copied code)."""

    @property
    def granted(self) -> bool:
        return self is Reason.GRANTED
