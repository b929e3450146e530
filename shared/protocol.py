"""The gate-server protocol's version: what lets the server be upgraded before the gates.

Every call a gate makes carries ``Entrix-Protocol: N``. The server serves its own protocol and
the one before (:data:`SERVED`), so during a rolling upgrade (the server first, then the gates
over the following days) every gate keeps syncing; a gate it cannot serve gets HTTP 426 Upgrade
Required with what to do, which the gate shows on its status bar and in ``gate-scanner sync``,
and the supervisors see on the gate's dashboard tile.

Versions:

- 1: release 0.1.0. Its gates send no header: a call without one is protocol 1.
- 2: release 0.2.0. The header; the wire is otherwise protocol 1's (scan upload, heartbeat,
  change feed, enrollment: :mod:`shared.sync_schema`).
- 3: release 0.3.0. Venue layouts: the feed carries ``layout`` rows (each layout's zone tree,
  access points and events) and no more ``zone`` rows; a gate decides in its event's layout. A
  protocol-2 gate is sent no layout rows, and is served the feed only while its venue has one
  layout: with a second, its feed answers 426 (it would decide a concert with the football
  stands), while its scans and heartbeats are still taken. ``staff`` rows: the personal kiosk
  PINs of the venue's staff (not sent to protocol 2). Rotating codes (``shared.rotating``):
  ``rotation_key`` and ``event_rule`` rows, a credential's ``rotating`` claim; a protocol-2
  gate, which can neither read a rotating code nor refuse a copied static one, is not served
  the feed of a venue that has a rotation key (426, as for a second layout). ``GET /snapshot``:
  a ready replica for a fresh gate (this protocol's schema only); the feed compressed as the
  gate's ``Accept-Encoding`` allows (plain HTTP: older gates asked for gzip, and get it).

A change the previous protocol's gates cannot read gets a new number, and the server answers
each gate in the protocol it states for as long as that one is served.
"""

from __future__ import annotations

PROTOCOL = 3
"""What this release speaks."""
SERVED = range(PROTOCOL - 2, PROTOCOL + 1)
"""What this release's server answers: its own protocol and the one before, 2; and 1, which is
2's wire without the header (serving 2 serves 1 at no cost)."""
HEADER = "Entrix-Protocol"
UNSTATED = 1
"""A call without the header: a gate of release 0.1.0."""
UPGRADE_REQUIRED = 426
NOT_SENT: dict[int, frozenset[str]] = {
    1: frozenset({"layout", "staff", "rotation_key", "event_rule"}),
    2: frozenset({"layout", "staff", "rotation_key", "event_rule"}),
    3: frozenset({"zone"}),
}
"""Kinds of feed rows (``shared.sync_schema.ChangeKind``) not sent to a gate of each protocol:
what it cannot read, or no longer reads."""
LAYOUTS_SINCE = 3
"""The first protocol whose gates read layouts."""
SNAPSHOT_CURSOR = "Entrix-Snapshot-Cursor"
SNAPSHOT_SHA256 = "Entrix-Snapshot-SHA256"
"""Headers of ``GET /api/v1/gate/snapshot`` (a ready replica, for a fresh gate): the change the
file is at, and its SHA-256 (uncompressed), which the gate checks before installing it."""


def stated(header: str | None) -> int | None:
    """The protocol a call states (``UNSTATED`` with no header); None if it is not a number."""
    if header is None:
        return UNSTATED
    text = header.strip()
    if not text.isdigit() or len(text) > 6:
        return None
    return int(text)


def refusal(header: str | None) -> str | None:
    """Why the server cannot serve a call with this header, and what to do; None: it can."""
    version = stated(header)
    if version in SERVED:
        return None
    if version is None:
        return (
            f"{HEADER}: {header[:40] if header else ''!r} is not a protocol version; this server "
            f"serves protocols {SERVED.start} to {SERVED.stop - 1}"
        )
    if version < SERVED.start:
        return (
            f"this gate speaks protocol {version}, too old for this server (protocols "
            f"{SERVED.start} to {SERVED.stop - 1}): upgrade the gate's software "
            "(docs/deploy.md, 'Upgrading')"
        )
    return (
        f"this gate speaks protocol {version}, newer than this server's {PROTOCOL}: upgrade the "
        "server first (docs/deploy.md, 'Upgrading'), then the gates"
    )
