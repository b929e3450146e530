"""The demo stadium, shared by the gate's standalone demo and the server's: the Radès derby.

Plain data only: its two layouts (football and concert) with their zones and access points,
gates, events, the crowd's make-up and the sample codes' labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shared.model import Direction, EntryPolicy, RightKind
from shared.reasons import Reason
from shared.sync_schema import GateRow, LayoutRow, ZoneRow

SITE = "RADES"
TIMEZONE = "Africa/Tunis"
"""Radès is at UTC+01:00 all year: the dashboard and the report show its times in it."""
EVENT = "DERBY-CA-EST"
OTHER_EVENT = "CA-CSS"
CONCERT_EVENT = "CONCERT-RADES"
"""A concert a week after the derby, on the concert layout: gate NORD-1 leads into the pit."""
DEFAULT_GATE = "NORD-1"
FOOTBALL = "FOOTBALL"
CONCERT = "CONCERT"

ZONES = [
    ZoneRow(code="RADES", name="Stade de Radès", capacity=60_000),
    ZoneRow(code="NORD", name="Virage Nord (home)", parent="RADES", capacity=15_000),
    ZoneRow(code="NORD-A", name="Virage Nord A", parent="NORD", capacity=7_500),
    ZoneRow(code="NORD-B", name="Virage Nord B", parent="NORD", capacity=7_500),
    ZoneRow(code="SUD", name="Virage Sud (away)", parent="RADES", capacity=8_000),
    ZoneRow(code="SUD-A", name="Virage Sud A", parent="SUD", capacity=4_000),
    ZoneRow(code="SUD-B", name="Virage Sud B", parent="SUD", capacity=4_000),
    ZoneRow(code="TRIB", name="Tribune d'honneur", parent="RADES", capacity=12_000),
    ZoneRow(code="VIP", name="Loges VIP", parent="TRIB", capacity=500),
]
OPEN = [EVENT, CONCERT_EVENT]
"""The events the gates control: the derby tonight, the concert next week."""
GATES = [
    GateRow(name="NORD-1", zones=["NORD"], event_codes=OPEN, grace_s=300),
    GateRow(name="NORD-2", zones=["NORD"], event_codes=OPEN, grace_s=300),
    GateRow(name="SUD-1", zones=["SUD"], event_codes=OPEN, grace_s=300),
    GateRow(name="VIP-1", zones=["VIP"], event_codes=OPEN, grace_s=300),
    GateRow(
        name="NORD-EXIT", zones=["NORD"], event_codes=OPEN, direction=Direction.OUT, grace_s=300
    ),
    GateRow(name="SUD-2", zones=["SUD"], event_codes=OPEN, enabled=False),
]
FOOTBALL_LAYOUT = LayoutRow(
    code=FOOTBALL,
    name="Football",
    zones=ZONES,
    access={gate.name: gate.zones for gate in GATES},
    events=[EVENT, OTHER_EVENT],
)
"""The venue's default layout: the gates lead where their ``zones`` say."""
CONCERT_ZONES = [
    ZoneRow(code="RADES", name="Stade de Radès (concert)", capacity=40_000),
    ZoneRow(code="FOSSE", name="Fosse (debout)", parent="RADES", capacity=15_000),
    ZoneRow(code="NORD", name="Tribune Nord (assis)", parent="RADES", capacity=10_000),
    ZoneRow(code="SUD", name="Tribune Sud (assis)", parent="RADES", capacity=8_000),
    ZoneRow(code="TRIB", name="Tribune d'honneur", parent="RADES", capacity=6_500),
    ZoneRow(code="VIP", name="Loges VIP", parent="TRIB", capacity=500),
]
CONCERT_LAYOUT = LayoutRow(
    code=CONCERT,
    name="Concert",
    zones=CONCERT_ZONES,
    access={
        "NORD-1": ["FOSSE"],
        "NORD-2": ["NORD"],
        "SUD-1": ["FOSSE", "SUD"],
        "VIP-1": ["VIP"],
        "NORD-EXIT": ["FOSSE", "NORD"],
        "SUD-2": ["SUD"],
    },
    events=[CONCERT_EVENT],
)
"""The same stadium with a standing pit on the pitch: NORD-1 now leads into the pit only."""
LAYOUTS = [FOOTBALL_LAYOUT, CONCERT_LAYOUT]
# (share of the rights, zones, policy, kind): the derby's crowd.
CROWD = [
    (0.50, ["NORD-A"], EntryPolicy.SINGLE, RightKind.TICKET),
    (0.20, ["NORD-B"], EntryPolicy.SINGLE, RightKind.TICKET),
    (0.12, ["SUD-A"], EntryPolicy.SINGLE, RightKind.TICKET),
    (0.12, ["SUD-B"], EntryPolicy.SINGLE, RightKind.TICKET),
    (0.05, ["VIP"], EntryPolicy.REENTRY, RightKind.SUBSCRIPTION),
    (0.01, ["RADES"], EntryPolicy.UNLIMITED, RightKind.STAFF),
]
PLAIN_SECRET_SHARE = 0.02
"""Home tickets sold by the club's former ticketing system: plain codes, known only by replica."""


@dataclass(frozen=True, slots=True)
class SampleCode:
    label: str
    code: str
    expected: Reason
    note: str


CODES_HEADER = "# label\tcode\texpected at gate NORD-1\tnote"
"""The sample codes file: one code a line, tab-separated, ``#`` lines are comments."""


def write_samples(path: Path, samples: Sequence[SampleCode]) -> None:
    """Write sample codes for people (``check``) and demo cameras to read back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [CODES_HEADER]
    lines += [f"{s.label}\t{s.code}\t{s.expected.value}\t{s.note}" for s in samples]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_sample_codes(text: str) -> list[str]:
    """The codes of a sample codes file's text, in order."""
    return [line.split("\t")[1] for line in text.splitlines() if line and not line.startswith("#")]
