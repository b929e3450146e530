"""Every reason, every string of the kiosk and of the control room in French, Arabic and
English, from one source of words (shared.i18n)."""

from __future__ import annotations

import string

import pytest

from scanner_app.i18n import TEXTS, text
from shared.i18n import (
    AGES,
    CAUSES,
    REASONS,
    Language,
    age_text,
    ago_text,
    from_accept_language,
    language_or_default,
    reason_text,
)
from shared.model import NOT_PASSED
from shared.reasons import Reason
from sync_server import alert_kinds, words
from sync_server.services import alerts

CATALOGS = {
    "kiosk": TEXTS,
    "reasons": REASONS,
    "ages": AGES,
    "control room": words.TEXTS,
    "alerts": words.ALERTS,
    "alert messages": words.ALERT_MESSAGES,
    "zone states": words.ZONE_STATES,
    "gate states": words.GATE_STATES,
    "right states": words.RIGHT_STATES,
    "refusals": words.REFUSALS,
    "severities": {str(k): v for k, v in words.SEVERITIES.items()},
    "causes": {f"{reason}/{cause}": v for (reason, cause), v in CAUSES.items()},
}


@pytest.mark.parametrize(
    "reason",
    [*Reason, NOT_PASSED, "manual_open", "emergency_open", "cannot_record", "replica_damaged"],
)
def test_every_reason_has_words_in_every_language(reason: str) -> None:
    for language in Language:
        words = reason_text(reason, language, gates="SUD-1")
        assert words and words != reason


@pytest.mark.parametrize("catalog", sorted(CATALOGS))
def test_every_string_has_every_language_with_the_same_placeholders(catalog: str) -> None:
    for key, versions in CATALOGS[catalog].items():
        assert set(versions) == set(Language), key
        assert all(v.strip() for v in versions.values()), key
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


def test_a_stale_code_says_which_to_check() -> None:
    old = reason_text("stale_code", "en", cause="old")
    ahead = reason_text("stale_code", "en", cause="ahead")
    assert (
        "screenshot" in old and "behind" in old and "ahead" in ahead and "screenshot" not in ahead
    )
    assert (
        reason_text("stale_code", "ar", cause="ahead")
        == CAUSES[("stale_code", "ahead")][Language.AR]
    )
    assert reason_text("stale_code", cause="sideways") == reason_text("stale_code")  # unknown


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


@pytest.mark.parametrize(
    ("seconds", "language", "expected"),
    [(180, "fr", "il y a 3 min"), (180, "ar", "منذ 3 د"), (180, "en", "3 min ago"),
     (30, "fr", "il y a 30 s")],
)  # fmt: skip
def test_times_in_words(seconds: float, language: str, expected: str) -> None:
    assert ago_text(seconds, language) == expected


def test_every_alert_kind_has_a_title_and_a_sentence() -> None:
    kinds = {v for k, v in vars(alert_kinds).items() if k.isupper() and isinstance(v, str)}
    assert kinds == set(alert_kinds.KINDS) == set(words.ALERTS) == set(words.ALERT_MESSAGES)
    assert words.alert_title(alerts.GATE_SILENT, "fr") == "Porte hors ligne"
    assert words.severity_word(3, "ar") == "حرج"
    assert words.severity_word(9, "en") == "9"  # a newer server's
    assert words.alert_title("teleported", "fr") == "teleported"


def test_an_alert_without_its_facts_falls_back_to_its_message() -> None:
    assert words.alert_sentence(alerts.ZONE_NEARLY_FULL, None, "fr") is None
    assert words.alert_sentence(alerts.ZONE_NEARLY_FULL, {"zone": "Nord"}, "fr") is None
    said = words.alert_sentence(
        alerts.ZONE_NEARLY_FULL,
        {"zone": "Virage Nord", "count": 96, "capacity": 100, "percent": 96},
        "fr",
    )
    assert said == "Virage Nord : 96 personnes pour 100 places (96 %)"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, Language.FR),
        ("", Language.FR),
        ("en-US,en;q=0.9", Language.EN),
        ("de-DE,ar;q=0.8,en;q=0.5", Language.AR),
        ("en;q=0.4,fr;q=0.9", Language.FR),
        ("de, it", Language.FR),
        ("ar;q=0", Language.FR),
        ("en;q=bogus,ar", Language.AR),
    ],
)
def test_the_browser_language_picks_one_of_ours(header: str | None, expected: Language) -> None:
    assert from_accept_language(header) is expected


def test_an_unknown_language_is_the_default() -> None:
    assert language_or_default("xx") is Language.FR
    assert language_or_default("ar") is Language.AR


def test_every_refusal_a_service_names_has_words() -> None:
    """Each ``said=`` of the server's code is in REFUSALS (a page would fall back to English)."""
    import re
    from pathlib import Path

    root = Path(words.__file__).parent
    named = {
        m for path in root.rglob("*.py") for m in re.findall(r'said="(\w+)"', path.read_text())
    }
    assert named and named <= set(words.REFUSALS), named - set(words.REFUSALS)


def test_a_refusal_in_the_pages_language_or_its_own_words() -> None:
    from sync_server.errors import Conflict

    said = Conflict("event 'X' exists", said="event_exists", event="X")
    assert words.refusal(said, "fr") == "l'événement X existe déjà"
    assert words.refusal(said, "ar") == "الحدث X موجود من قبل"
    assert words.refusal(Conflict("something new"), "fr") == "something new"
    assert words.refusal(Conflict("odd", said="no_such_key"), "fr") == "odd"
