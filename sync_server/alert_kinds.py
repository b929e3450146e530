"""The kinds of alert the server raises (``alerts.kind``), declared once: raised by
:mod:`sync_server.services.alerts`, said in words by :mod:`sync_server.words` (which gate-admin
loads without the database layer)."""

from __future__ import annotations

DOUBLE_ENTRY = "double_entry"
BANNED_TRIED = "banned_tried"
GATE_SILENT = "gate_silent"
ZONE_NEARLY_FULL = "zone_nearly_full"
CLOCK_SKEW = "clock_skew"
PROTOCOL_REFUSED = "protocol_refused"
REPLICA_LOST = "replica_lost"
CLOCK_UNVERIFIED = "clock_unverified"
REPLICA_DAMAGED = "replica_damaged"
IMPLAUSIBLE_SCANS = "implausible_scans"

KINDS = (
    DOUBLE_ENTRY, BANNED_TRIED, GATE_SILENT, ZONE_NEARLY_FULL, CLOCK_SKEW, PROTOCOL_REFUSED,
    REPLICA_LOST, CLOCK_UNVERIFIED, REPLICA_DAMAGED, IMPLAUSIBLE_SCANS,
)  # fmt: skip
