"""API tokens: random, shown once, stored as SHA-256 digests (they are high-entropy secrets, so a
fast hash is the right one: a slow password hash would only slow every request)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

USER_TOKEN_PREFIX = "egu_"  # noqa: S105 - a prefix, not a secret
DEVICE_TOKEN_PREFIX = "egd_"  # noqa: S105
ENROLLMENT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed on site


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_enrollment_code() -> str:
    """Twelve characters in three groups, e.g. ``K7QM-2XRD-9PHT``, to type on a gate."""
    raw = "".join(secrets.choice(ENROLLMENT_ALPHABET) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def normalise_enrollment_code(code: str) -> str:
    raw = "".join(c for c in code.upper() if c.isalnum())
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)
