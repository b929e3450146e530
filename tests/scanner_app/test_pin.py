"""The supervisor PIN: salted hash, locked out after five wrong tries, on restart too."""

from __future__ import annotations

import pytest

from scanner_app.pin import PinError, PinLock, PinStatus, hash_pin, pin_matches


class Meta:
    """The replica's meta table, in memory."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get_meta(self, key: str) -> str | None:
        return self.values.get(key)

    def set_meta(self, key: str, value: str) -> None:
        self.values[key] = value


def test_a_pin_is_stored_salted_and_never_in_clear() -> None:
    first, second = hash_pin("482913"), hash_pin("482913")
    assert first != second  # a fresh salt each time
    assert "482913" not in first
    assert first.startswith("scrypt$16384$8$1$")
    assert pin_matches("482913", first) and pin_matches("482913", second)
    assert not pin_matches("482914", first)


@pytest.mark.parametrize("pin", ["123", "12ab", "", "1234567890123"])
def test_a_pin_is_4_to_12_digits(pin: str) -> None:
    with pytest.raises(PinError):
        hash_pin(pin)


def test_a_damaged_hash_is_an_error_not_a_match() -> None:
    with pytest.raises(PinError):
        pin_matches("1234", "md5$abc")


def test_five_wrong_tries_lock_for_five_minutes_even_across_a_restart() -> None:
    meta, now = Meta(), [1_000.0]
    lock = PinLock(hash_pin("2468"), meta, clock=lambda: now[0])
    assert [lock.check("0000").tries_left for _ in range(4)] == [4, 3, 2, 1]
    assert lock.check("0000").status is PinStatus.LOCKED
    assert lock.check("2468").status is PinStatus.LOCKED  # the right PIN does not help now

    restarted = PinLock(lock.stored_hash, meta, clock=lambda: now[0])
    now[0] += 299
    assert restarted.check("2468").status is PinStatus.LOCKED
    now[0] += 2
    assert restarted.check("2468").accepted
    assert restarted.check("0000").tries_left == 4  # a fresh count after the lock-out


def test_a_right_pin_resets_the_count() -> None:
    lock = PinLock(hash_pin("2468"), Meta())
    lock.check("1111")
    lock.check("1111")
    assert lock.check("2468").accepted
    assert lock.check("1111").tries_left == 4


def test_no_pin_configured_keeps_the_panel_closed() -> None:
    assert PinLock("", Meta()).check("").status is PinStatus.UNSET
