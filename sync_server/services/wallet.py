"""A right as a Google Wallet event ticket with a rotating barcode (issue 18).

What the back office exports is the ``payload`` of Google's "Save to Google Wallet" (its
``Resources``: ``eventTicketClasses`` and ``eventTicketObjects``): the event's class and the
right's object. The object's ``rotatingBarcode`` makes, on the holder's phone, exactly the codes
the gates take (``shared.rotating``): its ``valuePattern`` is the code's layout with Wallet's
``{totp_timestamp_seconds}`` and ``{totp_value_0}``, its ``totpDetails`` the right's own secret
(base16), the period and the 8 digits, TOTP over SHA-1 (RFC 6238).

Nothing here calls Google: the organiser inserts the class and the object with its own issuer
account (``eventTicketClass.insert`` / ``eventTicketObject.insert``, Google's recommended way: the
secret is then not in a JWT) and gives the holder the save link. Google's field list (its API
discovery document) checks this shape in the tests. Apple Wallet passes carry static barcodes
only: not exported.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from shared import rotating
from sync_server.models import AccessRight, Event, Venue
from sync_server.services.rotation import Rotating

ALGORITHM = "TOTP_SHA1"
"""Wallet's name for RFC 6238 over HMAC-SHA-1, which the gates verify."""
_NOT_IN_AN_ID = re.compile(r"[^A-Za-z0-9._-]")


def resource_id(issuer_id: str, name: str) -> str:
    """``issuer.identifier``: Google allows letters, digits, ``.``, ``_`` and ``-`` in it."""
    return f"{issuer_id}.{_NOT_IN_AN_ID.sub('_', name)}"


def _text(value: str, language: str) -> dict[str, Any]:
    return {"defaultValue": {"language": language, "value": value}}


def _instant(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat().replace("+00:00", "Z")


def event_class(*, issuer_id: str, event: Event, venue: Venue, language: str) -> dict[str, Any]:
    """The event's class: its name, venue and times (one class for every ticket of it)."""
    return {
        "id": resource_id(issuer_id, event.code),
        "issuerName": venue.name[:60],
        "reviewStatus": "UNDER_REVIEW",
        "eventId": event.code,
        "eventName": _text(event.name, language),
        "venue": {"name": _text(venue.name, language), "address": _text(venue.name, language)},
        "dateTime": {"start": _instant(event.starts_at), "end": _instant(event.ends_at)},
    }


def ticket_object(
    *,
    issuer_id: str,
    right: AccessRight,
    event: Event,
    zone_names: list[str],
    made: Rotating,
    language: str,
) -> dict[str, Any]:
    """The right's ticket: its rotating barcode, zones, seat, the name if the right has one,
    valid from the right's opening to its end."""
    number = right.id.hex().upper()
    seat: dict[str, Any] = {"section": _text(", ".join(zone_names), language)}
    if right.seat:
        seat["seat"] = _text(right.seat, language)
    ticket: dict[str, Any] = {
        "id": resource_id(issuer_id, number),
        "classId": resource_id(issuer_id, event.code),
        "state": "ACTIVE",
        "ticketNumber": number,
        "seatInfo": seat,
        "validTimeInterval": {
            "start": {"date": _instant(right.not_before)},
            "end": {"date": _instant(right.expires)},
        },
        "rotatingBarcode": {
            "type": "QR_CODE",
            "renderEncoding": "UTF_8",
            "valuePattern": made.value_pattern,
            "alternateText": number[:8],
            "totpDetails": {
                "periodMillis": str(rotating.PERIOD_S * 1000),
                "algorithm": ALGORITHM,
                "parameters": [{"key": made.secret.hex().upper(), "valueLength": rotating.DIGITS}],
            },
        },
    }
    if right.display_name:
        ticket["ticketHolderName"] = right.display_name
    return ticket


def payload(event_ticket_class: dict[str, Any], ticket: dict[str, Any]) -> dict[str, Any]:
    """Google's ``Resources``: what a save link's JWT carries, or the two inserts."""
    return {"eventTicketClasses": [event_ticket_class], "eventTicketObjects": [ticket]}
