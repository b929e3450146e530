"""Who may do what in the back office (issue 17). The platform document's hierarchy is USER →
BADGECHECKER → ADMIN → SUPERADMIN; here:

- ``admin``: everything, every venue (the platform's superadmin);
- ``venue_admin``: the venues the account is given (``user_venues``): their venues' zones,
  events, gates and tickets; bans (a ban follows the person to every venue, and a venue admin
  lifts only the bans of their own making); not venues, seasons, keys nor the audit log;
- ``supervisor``: reads, and acknowledges alerts;
- ``controller``: no back office (the kiosk's staff).

An account given venues (``user_venues``: a venue admin always, a supervisor when it is a club's)
reads those venues only: their events, gates, scans, alerts, held scans, tickets and reports
(:func:`reads`). An account without (an admin, a platform-wide supervisor) reads every venue.
Bans and seasons span venues and are read by all.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from sync_server.errors import Forbidden

ADMIN = "admin"
VENUE_ADMIN = "venue_admin"
SUPERVISOR = "supervisor"
CONTROLLER = "controller"
ROLES = (ADMIN, VENUE_ADMIN, SUPERVISOR, CONTROLLER)
WRITERS = frozenset({ADMIN, VENUE_ADMIN})
"""The roles that change things (in their scope)."""
BACK_OFFICE = frozenset({ADMIN, VENUE_ADMIN, SUPERVISOR})
"""The roles that may use the API and the pages at all."""


class Scoped(Protocol):
    @property
    def role(self) -> str: ...
    @property
    def venues(self) -> frozenset[str] | None: ...


def manages(who: Scoped, venue: str) -> bool:
    """``who`` may change ``venue``'s data (``venues`` None: every venue)."""
    return who.role in WRITERS and (who.venues is None or venue in who.venues)


def require_venue(who: Scoped, venue: str) -> None:
    if not manages(who, venue):
        raise Forbidden(
            f"this account does not manage venue {venue!r}",
            said="not_your_venue",
            venue=venue,
        )


def reads(who: Scoped, venue: str | None) -> bool:
    """``who`` may read ``venue``'s data; a record of no venue only an account of every venue."""
    return who.venues is None or (venue is not None and venue in who.venues)


def require_read(who: Scoped, venue: str | None) -> None:
    if not reads(who, venue):
        raise Forbidden(
            f"this account does not read venue {venue!r}", said="not_your_venue", venue=venue or ""
        )


def visible(who: Scoped, venues: Collection[str]) -> list[str]:
    """Of ``venues``, those ``who`` manages (all of them for an admin)."""
    return [v for v in venues if who.venues is None or v in who.venues]
