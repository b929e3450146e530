"""Keyboard-wedge detection: a scanner's burst ending in Enter is a scan, a person typing is not."""

from __future__ import annotations

from collections.abc import Iterable

from scanner_app.wedge import WedgeDetector, WedgeSettings

CODE = "EG1:6BFOXN*PZ6MN3KL$TL/Q-E:ZR%5M"


def type_keys(
    detector: WedgeDetector, keys: Iterable[str], *, start: float, gap: float
) -> list[str | None]:
    """Feed ``keys`` ``gap`` seconds apart from ``start``; what each key returned."""
    return [detector.key(key, start + i * gap) for i, key in enumerate(keys)]


def scans(results: Iterable[str | None]) -> list[str]:
    return [r for r in results if r is not None]


def test_a_scanner_burst_is_a_scan() -> None:
    detector = WedgeDetector()
    results = type_keys(detector, [*CODE, "\r"], start=10.0, gap=0.004)
    assert scans(results) == [CODE]
    assert results[-1] == CODE
    assert detector.pending == ""


def test_newline_ends_a_burst_too() -> None:
    assert scans(type_keys(WedgeDetector(), [*"ABC123", "\n"], start=0.0, gap=0.01)) == ["ABC123"]


def test_slow_typing_is_not_a_scan() -> None:
    detector = WedgeDetector()
    assert scans(type_keys(detector, [*"CA000000042", "\r"], start=5.0, gap=0.15)) == []


def test_a_fast_typist_is_not_a_scanner() -> None:
    """60 ms a key, no pause above the 80 ms limit, but far slower on average than a wedge."""
    detector = WedgeDetector()
    assert scans(type_keys(detector, [*"CA000000042", "\r"], start=5.0, gap=0.06)) == []


def test_a_burst_without_enter_is_nothing_and_expires() -> None:
    detector = WedgeDetector()
    assert scans(type_keys(detector, CODE, start=0.0, gap=0.004)) == []
    assert detector.pending == CODE
    # Enter a second later (a person pressing it): the burst has timed out.
    assert detector.key("\r", 1.0) is None
    assert detector.pending == ""


def test_enter_alone_is_nothing() -> None:
    detector = WedgeDetector()
    assert detector.key("\r", 0.0) is None
    assert detector.key("\r", 0.005) is None


def test_a_short_burst_is_not_a_code() -> None:
    assert scans(type_keys(WedgeDetector(), [*"12345", "\r"], start=0.0, gap=0.004)) == []


def test_a_pause_starts_a_new_burst() -> None:
    """Keys typed by hand before the scanner fires do not end up in the code."""
    detector = WedgeDetector()
    type_keys(detector, "xy", start=0.0, gap=0.2)
    results = type_keys(detector, [*CODE, "\r"], start=1.0, gap=0.003)
    assert scans(results) == [CODE]


def test_one_long_pause_inside_a_burst_breaks_it() -> None:
    detector = WedgeDetector()
    type_keys(detector, "EG1:ABC", start=0.0, gap=0.004)
    results = type_keys(detector, [*"DEF", "\r"], start=0.2, gap=0.004)
    assert scans(results) == []  # only "DEF" after the pause: too short


def test_thresholds_are_configurable() -> None:
    slow_scanner = WedgeSettings(min_length=4, max_mean_gap_s=0.05, max_gap_s=0.12)
    detector = WedgeDetector(slow_scanner)
    assert scans(type_keys(detector, [*"ABCD", "\r"], start=0.0, gap=0.045)) == ["ABCD"]
    assert scans(type_keys(WedgeDetector(), [*"ABCD", "\r"], start=0.0, gap=0.045)) == []


def test_keys_without_text_are_ignored() -> None:
    detector = WedgeDetector()
    keys = [k for c in "ABCDEFG" for k in (c, "")] + ["\r"]  # Shift presses have no text
    assert scans(type_keys(detector, keys, start=0.0, gap=0.002)) == ["ABCDEFG"]
