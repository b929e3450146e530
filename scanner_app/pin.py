"""Who may open the supervisor panel: a person of the staff with their own PIN, or the gate's PIN.

Supervisors and controllers get a personal kiosk PIN in the back office; the server sends its
hash (``shared.kiosk_pin``) to the gates of their venues with the rest of the feed. Once a gate
holds any, the panel asks for a name and that person's PIN, and what they do there (a manual
opening, an emergency passage) is recorded under their name. The gate's own PIN
(``[kiosk] pin_hash``) opens the panel only while the gate has no staff synced (a new gate).

Repeated failures lock the panel, whatever the names tried: the failure count and the lock-out
end are kept in the replica's meta table, so restarting the kiosk does not give a guesser five
fresh tries. ``python -m scanner_app.pin`` prints the hash of a PIN typed twice, for
``[kiosk] pin_hash``. Qt-free.
"""

from __future__ import annotations

import getpass
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from shared.kiosk_pin import PinError, hash_pin, pin_matches

MAX_FAILURES = 5
LOCKOUT_S = 300.0
FAILURES_KEY = "pin_failures"
LOCKED_UNTIL_KEY = "pin_locked_until"


class MetaStore(Protocol):
    """Where the failure count survives a restart (the replica's meta table)."""

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...


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
    who: str | None = None
    """The person the PIN is theirs; None for the gate's own PIN."""

    @property
    def accepted(self) -> bool:
        return self.status is PinStatus.ACCEPTED


def _nobody() -> Mapping[str, str]:
    return {}


class PinLock:
    """Checks PINs: a person's against their hash among ``staff`` (name -> hash), or, while
    there is no staff, the gate's ``stored_hash``; with a lock-out kept in ``store``."""

    def __init__(
        self,
        stored_hash: str,
        store: MetaStore,
        *,
        staff: Callable[[], Mapping[str, str]] = _nobody,
        max_failures: int = MAX_FAILURES,
        lockout_s: float = LOCKOUT_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.stored_hash = stored_hash
        self.store = store
        self._staff = staff
        self.max_failures, self.lockout_s = max_failures, lockout_s
        # Wall-clock time: the lock-out must survive a restart (a monotonic clock does not).
        self._clock = clock

    def locked_for(self) -> float:
        """Seconds left of the lock-out, 0 when not locked."""
        until = float(self.store.get_meta(LOCKED_UNTIL_KEY) or 0)
        return max(0.0, until - self._clock())

    def names(self) -> list[str]:
        """The staff whose PINs this gate holds, by name: the panel asks for one of them (none:
        the gate's own PIN)."""
        return sorted(self._staff())

    def check(self, pin: str, name: str | None = None) -> PinCheck:
        staff = self._staff()
        if not staff and not self.stored_hash:
            return PinCheck(PinStatus.UNSET)
        locked = self.locked_for()
        if locked > 0:
            return PinCheck(PinStatus.LOCKED, locked_for_s=locked)
        if staff:
            # An unknown name costs a try like a wrong PIN (and as long: the dummy hash).
            stored, who = staff.get(name or "", _DUMMY), (name if name in staff else None)
        else:
            stored, who = self.stored_hash, None
        if _matches(pin, stored) and (who is not None or not staff):
            self.store.set_meta(FAILURES_KEY, "0")
            return PinCheck(PinStatus.ACCEPTED, tries_left=self.max_failures, who=who)
        failures = int(self.store.get_meta(FAILURES_KEY) or 0) + 1
        if failures >= self.max_failures:
            self.store.set_meta(LOCKED_UNTIL_KEY, repr(self._clock() + self.lockout_s))
            self.store.set_meta(FAILURES_KEY, "0")
            return PinCheck(PinStatus.LOCKED, locked_for_s=self.lockout_s)
        self.store.set_meta(FAILURES_KEY, str(failures))
        return PinCheck(PinStatus.WRONG, tries_left=self.max_failures - failures)


_DUMMY = hash_pin("00000000", salt=bytes(16))


def _matches(pin: str, stored: str) -> bool:
    """A PIN that is none (letters, too long) matches nothing; a bad stored hash raises."""
    if not pin.isdigit() or len(pin) > 12:
        return False
    return pin_matches(pin, stored)


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


__all__ = ["PinCheck", "PinError", "PinLock", "PinStatus", "hash_pin", "pin_matches"]

if __name__ == "__main__":
    sys.exit(main())
