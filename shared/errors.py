"""Typed errors of the shared package. Each credential error carries the reason code it maps to."""

from __future__ import annotations

from typing import ClassVar

from shared.reasons import Reason

SHOWN_MAX = 40
"""Characters of a hostile value an error message quotes, at most."""


def shown(value: object) -> str:
    """``repr(value)`` for an error message, bounded: a code's content is hostile input (a
    1,800-byte bignum cannot even be turned into text: Python refuses past 4,300 digits)."""
    try:
        text = repr(value)
    except ValueError:
        return f"<{type(value).__name__} too large to show>"
    return text if len(text) <= SHOWN_MAX else text[: SHOWN_MAX - 1] + "…"


class EntrixError(Exception):
    """Base of every error raised on purpose by the shared package."""


class CredentialError(EntrixError, ValueError):
    """A scanned code could not be turned into a trusted access right."""

    reason: ClassVar[Reason]


class MalformedCredential(CredentialError):
    """The code is not a well-formed EG1 credential (bad prefix, base45, CBOR, COSE or claims)."""

    reason = Reason.MALFORMED


class UnknownKey(CredentialError, LookupError):
    """The code was signed with a key this gate does not hold (never synced, or retired)."""

    reason = Reason.UNKNOWN_KEY


class InvalidSignature(CredentialError):
    """The signature does not match: the code was altered or forged."""

    reason = Reason.INVALID_SIGNATURE


class ChangeRejected(EntrixError, ValueError):
    """A page of sync changes is invalid and was not applied (nothing of it was kept)."""
