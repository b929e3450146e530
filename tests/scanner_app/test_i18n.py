"""Every reason and every string of the kiosk in French, Arabic and English."""

from __future__ import annotations

import string

import pytest

from scanner_app.i18n import REASONS, TEXTS, Language, age_text, reason_text, text
from shared.model import NOT_PASSED
from shared.reasons import Reason


@pytest.mark.parametrize(
    "reason",
    [*Reason, NOT_PASSED, "manual_open", "emergency_open", "cannot_record", "replica_damaged"],
)
def test_every_reason_has_words_in_every_language(reason: str) -> None:
    for language in Language:
        words = reason_text(reason, language, gates="SUD-1")
        assert words and words != reason


def test_every_string_has_every_language_with_the_same_placeholders() -> None:
    for key, versions in [*TEXTS.items(), *REASONS.items()]:
        assert set(versions) == set(Language), key
        fields = {
            language: {f for _, f, _, _ in string.Formatter().parse(words) if f}
            for language, words in versions.items()
        }
        assert fields[Language.AR] == fields[Language.FR] == fields[Language.EN], key


def test_reasons_say_what_to_do() -> None:
    assert reason_text("already_used") == "Billet déjà utilisé — entrée refusée"
    assert reason_text("wrong_zone", gates="SUD-1, SUD-2") == (
        "Mauvaise tribune : allez à la porte SUD-1, SUD-2"
    )
    assert reason_text("wrong_zone", "en", zone="Loges VIP") == "Wrong stand: ticket for Loges VIP"
    assert reason_text(NOT_PASSED, "en") == "Nobody passed — entry cancelled"
    assert reason_text("blacklisted", "ar") == "ممنوع من دخول الملعب — اتصل بالأمن"


def test_a_reason_from_a_newer_server_is_shown_as_it_is() -> None:
    assert reason_text("teleported") == "teleported"


def test_french_is_the_default_and_arabic_is_right_to_left() -> None:
    assert text("present_ticket") == "Présentez votre billet"
    assert Language.AR.right_to_left and not Language.FR.right_to_left


@pytest.mark.parametrize(
    ("seconds", "expected"), [(5, "5 s"), (119, "119 s"), (600, "10 min"), (3 * 3600, "3 h")]
)
def test_ages_stay_short(seconds: float, expected: str) -> None:
    assert age_text(seconds) == expected
