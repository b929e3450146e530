"""``gate-server seed-demo``: the Radès derby on the server, for ``make demo`` and first tries.

The back office's own services build it (venue and zone tree, the derby, gates, a signing key,
rights, a ban), so the demo exercises the same code a site does. It writes the sample codes a
demo camera shows and the gates' one-time enrollment codes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from shared.credential import Credential, issue
from shared.demo_site import CROWD, EVENT, GATES, SITE, ZONES, SampleCode
from shared.model import BanScope, RightKind
from shared.reasons import Reason
from sync_server.feed import Pending
from sync_server.schemas import (
    BanCreate,
    EventCreate,
    GateCreate,
    RightCreate,
    VenueCreate,
    ZoneIn,
)
from sync_server.services import bans, keys, rights, site
from sync_server.services.writes import commit

DEMO_GATES = ("NORD-1", "SUD-1", "VIP-1")
"""Gates a demo enrolls: the home stand's (the kiosk), the away stand's, the VIP box's."""


@dataclass
class DemoSeed:
    samples: list[SampleCode] = field(default_factory=list)
    enrollment: dict[str, str] = field(default_factory=dict)
    rights: int = 0


def seed_demo(
    session: Session, *, rights_count: int, passphrase: str, seed: int = 2026
) -> DemoSeed:
    """Build the demo site in one transaction; refuses if the venue exists already."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    now = datetime.now(UTC)
    pending: list[Pending] = []
    zones = [ZoneIn(code=z.code, name=z.name, parent=z.parent, capacity=z.capacity) for z in ZONES]
    _, made = site.create_venue(session, data=VenueCreate(code=SITE, name="Stade de Radès",
                                                          zones=zones))  # fmt: skip
    pending += made
    _, made = site.create_event(
        session,
        data=EventCreate(
            code=EVENT,
            name="Derby Club Africain – Espérance",
            venue=SITE,
            starts_at=now + timedelta(hours=1),
            ends_at=now + timedelta(hours=3),
        ),
    )
    pending += made
    for gate in GATES:
        if gate.name in DEMO_GATES:
            _, made = site.create_gate(
                session,
                data=GateCreate(venue=SITE, name=gate.name, zones=gate.zones,
                                event_codes=[EVENT], grace_s=gate.grace_s),
            )  # fmt: skip
            pending += made
    _, made = keys.create_key(session, passphrase=passphrase)
    pending += made

    rows = []
    for i in range(rights_count):
        _, zones_, policy, kind = (
            CROWD[i] if i < len(CROWD) else rng.choices(CROWD, [share for share, *_ in CROWD])[0]
        )
        rows.append(
            RightCreate(
                event=EVENT,
                zones=zones_,
                holder=f"demo-fan-{i}",
                policy=policy,
                kind=kind,
                seat=None if kind is RightKind.STAFF else f"{zones_[0]}-{rng.randint(1, 40)}",
            )
        )
    report, made = rights.import_rights(session, rows=rows)
    if report.errors:
        raise RuntimeError(f"demo rights refused: {report.errors[:3]}")
    pending += made
    _, made = bans.add_ban(
        session,
        data=BanCreate(scope=BanScope.HOLDER, holder="demo-fan-6", reason="pitch invasion",
                       severity=3),
        actor="demo",
    )  # fmt: skip
    pending += made
    commit(session, pending=pending, actor="demo", action="demo.seed", target=SITE,
           detail={"rights": rights_count})  # fmt: skip

    seed_result = DemoSeed(rights=report.imported)
    seed_result.samples = _samples(session, report.right_ids, passphrase)
    venue = site.get_venue(session, SITE)
    for name in DEMO_GATES:
        gate_row = site.get_gate(session, venue, name)
        code, _ = site.new_enrollment(session, gate=gate_row, ttl_s=7 * 86400)
        seed_result.enrollment[name] = code
    commit(session)
    return seed_result


def _samples(session: Session, right_ids: list[str], passphrase: str) -> list[SampleCode]:
    """What a demo camera at gate NORD-1 shows, in order, with the answer each must get."""

    def code_of(index: int) -> str:
        right, event = rights.get_right(session, right_ids[index])
        return rights.issue_code(session, right=right, event=event, passphrase=passphrase)

    # CROWD's first rows: 0 NORD-A, 1 NORD-B, 2 SUD-A, 3 SUD-B, 4 VIP, 5 staff; 6 is banned.
    home, second, away, vip, staff, banned = (code_of(i) for i in (0, 1, 2, 4, 5, 6))
    genuine = rights.get_right(session, right_ids[1])
    forged = issue(
        Credential(SITE, int(datetime.now(UTC).timestamp()),
                   rights.to_domain(genuine[0], genuine[1].code)),
        Ed25519PrivateKey.generate(),
    )  # fmt: skip
    return [
        SampleCode("home-ticket", home, Reason.GRANTED, "home supporter, Virage Nord A"),
        SampleCode("away-ticket", away, Reason.WRONG_ZONE, "away supporter: gate SUD-1"),
        SampleCode("staff-badge", staff, Reason.GRANTED, "steward: any gate, any time"),
        SampleCode("banned-holder", banned, Reason.BLACKLISTED, "holder under a stadium ban"),
        SampleCode("reused", home, Reason.ALREADY_USED, "the first ticket, shown again"),
        SampleCode("forged", forged, Reason.UNKNOWN_KEY, "signed by a key nobody trusts"),
        SampleCode("vip-box", vip, Reason.WRONG_ZONE, "VIP box: gate VIP-1"),
        SampleCode("home-ticket-2", second, Reason.GRANTED, "home supporter, Virage Nord B"),
    ]


def write_samples(path: Path, samples: list[SampleCode]) -> None:
    """The same file format as ``gate-scanner seed-demo``'s codes.txt."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        out.write("# label\tcode\texpected at gate NORD-1\tnote\n")
        for sample in samples:
            out.write(f"{sample.label}\t{sample.code}\t{sample.expected.value}\t{sample.note}\n")
