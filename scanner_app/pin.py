"""The supervisor PIN: stored hashed (scrypt, random salt), compared in constant time, locked out
after repeated failures. Qt-free.

The failure count and the lock-out end are kept in the replica's meta table, so restarting the
kiosk does not give a guesser five fresh tries. ``python -m scanner_app.pin`` prints the hash of a
PIN typed twice, for ``[kiosk] pin_hash``.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

MAX_FAILURES = 5
LOCKOUT_S = 300.0
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
"""16 MiB and about 50 ms a try: negligible for a supervisor, costly for a guesser."""
SALT_BYTES = 16
FAILURES_KEY = "pin_failures"
LOCKED_UNTIL_KEY = "pin_locked_until"


class PinError(ValueError):
    """A PIN or a stored PIN hash that cannot be used; the message says why."""


class MetaStore(Protocol):
    """Where the failure count survives a restart (the replica's meta table)."""

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64): what ``[kiosk] pin_hash`` holds."""
    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise PinError("a PIN is 4 to 12 digits")
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    digest = _scrypt(pin, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(
        ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)]
    )


def pin_matches(pin: str, stored: str) -> bool:
    """True if ``pin`` hashes to ``stored``; the comparison takes the same time either way."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            raise ValueError(scheme)
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(pin, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except ValueError as exc:
        raise PinError(f"the stored PIN hash is not scrypt$N$r$p$salt$hash: {exc}") from exc
    return hmac.compare_digest(actual, expected)


class PinStatus(StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    LOCKED = "locked"
    UNSET = "unset"
    """No PIN configured: the supervisor panel stays closed."""


@dataclass(frozen=True, slots=True)
class PinCheck:
    status: PinStatus
    tries_left: int = 0
    locked_for_s: float = 0.0

    @property
    def accepted(self) -> bool:
        return self.status is PinStatus.ACCEPTED


class PinLock:
    """Checks PINs against one stored hash, with a lock-out kept in ``store``."""

    def __init__(
        self,
        stored_hash: str,
        store: MetaStore,
        *,
        max_failures: int = MAX_FAILURES,
        lockout_s: float = LOCKOUT_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.stored_hash = stored_hash
        self.store = store
        self.max_failures, self.lockout_s = max_failures, lockout_s
        # Wall-clock time: the lock-out must survive a restart (a monotonic clock does not).
        self._clock = clock

    def locked_for(self) -> float:
        """Seconds left of the lock-out, 0 when not locked."""
        until = float(self.store.get_meta(LOCKED_UNTIL_KEY) or 0)
        return max(0.0, until - self._clock())

    def check(self, pin: str) -> PinCheck:
        if not self.stored_hash:
            return PinCheck(PinStatus.UNSET)
        locked = self.locked_for()
        if locked > 0:
            return PinCheck(PinStatus.LOCKED, locked_for_s=locked)
        if pin_matches(pin, self.stored_hash):
            self.store.set_meta(FAILURES_KEY, "0")
            return PinCheck(PinStatus.ACCEPTED, tries_left=self.max_failures)
        failures = int(self.store.get_meta(FAILURES_KEY) or 0) + 1
        if failures >= self.max_failures:
            self.store.set_meta(LOCKED_UNTIL_KEY, repr(self._clock() + self.lockout_s))
            self.store.set_meta(FAILURES_KEY, "0")
            return PinCheck(PinStatus.LOCKED, locked_for_s=self.lockout_s)
        self.store.set_meta(FAILURES_KEY, str(failures))
        return PinCheck(PinStatus.WRONG, tries_left=self.max_failures - failures)


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 2**20, dklen=32)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def main() -> int:
    """Ask for a PIN twice and print the line to put under ``[kiosk]``."""
    first = getpass.getpass("Supervisor PIN (4 to 12 digits): ")
    if getpass.getpass("Again: ") != first:
        print("the two PINs differ", file=sys.stderr)
        return 2
    try:
        print(f'pin_hash = "{hash_pin(first)}"')
    except PinError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
