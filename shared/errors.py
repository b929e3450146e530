"""Typed errors of the shared package. Each credential error carries the reason code it maps to."""

from __future__ import annotations

from typing import ClassVar

from shared.reasons import Reason


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
