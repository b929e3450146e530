"""A demo site for trying a gate with no server: the Radès derby, its stadium, rights and bans.

Everything is fed through :meth:`Replica.apply_changes`, page by page, exactly as the server's
change feed will. The signing key lives only in memory here, in the role of the back office: the
replica receives its public half, as a real gate does.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from scanner_app.replica import Replica
from shared.credential import Credential, issue, key_id, raw_public_key
from shared.demo_site import (
    CONCERT_EVENT,
    CROWD,
    EVENT,
    GATES,
    LAYOUTS,
    OTHER_EVENT,
    PLAIN_SECRET_SHARE,
    SITE,
    SampleCode,
)
from shared.model import AccessRight, BanScope, EntryPolicy, RightKind
from shared.reasons import Reason
from shared.sync_schema import (
    BanRow,
    Change,
    ChangeBatch,
    EventRow,
    KeyRow,
    RevocationRow,
    RightRow,
    _Row,
)


@dataclass
class DemoSite:
    signing_key: Ed25519PrivateKey
    now: datetime
    rights: int = 0
    bans: int = 0
    samples: list[SampleCode] = field(default_factory=list)
    issued: dict[bytes, AccessRight] = field(default_factory=dict)
    """A few rights of each kind, kept to issue their codes."""

    def code_for(self, right: AccessRight) -> str:
        """The EG1 code of a demo right, or its plain secret."""
        if right.secret is not None:
            return right.secret
        credential = Credential(SITE, int(self.now.timestamp()), right)
        return issue(credential, self.signing_key)


PAGE_SIZE = 5_000


class _Feed:
    """Numbers changes and cuts them into pages, like the server's change feed."""

    def __init__(self, replica: Replica) -> None:
        self.replica = replica
        self.seq = replica.cursor
        self.pending: list[Change] = []

    def add(self, row: _Row) -> None:
        self.seq += 1
        self.pending.append(Change.upsert(self.seq, row))
        if len(self.pending) >= PAGE_SIZE:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        since = self.pending[0].seq - 1
        self.replica.apply_changes(ChangeBatch(since=since, cursor=self.seq, changes=self.pending))
        self.pending = []


def build_demo(
    replica: Replica,
    *,
    rights: int,
    bans: int = 10,
    now: datetime,
    seed: int = 2026,
    signing_key: Ed25519PrivateKey | None = None,
) -> DemoSite:
    """Fill ``replica`` with the derby: layouts, gates, events, ``rights`` rights, ``bans``
    bans."""
    rng = random.Random(seed)
    key = signing_key or Ed25519PrivateKey.generate()
    site = DemoSite(signing_key=key, now=now)
    start = int((now - timedelta(hours=1)).timestamp())
    kickoff = int((now + timedelta(hours=2)).timestamp())
    end = kickoff + 4 * 3600

    feed = _Feed(replica)
    public = raw_public_key(key.public_key())
    feed.add(KeyRow(kid=key_id(public), public_key=public))
    feed.add(
        EventRow(code=EVENT, name="Derby CA – EST", starts_at=kickoff, ends_at=end, venue=SITE)
    )
    feed.add(
        EventRow(code=OTHER_EVENT, name="CA – CSS", starts_at=kickoff + 14 * 86400, venue=SITE)
    )
    feed.add(
        EventRow(
            code=CONCERT_EVENT, name="Concert à Radès", starts_at=kickoff + 7 * 86400, venue=SITE
        )
    )
    for layout in LAYOUTS:
        feed.add(layout)
    for gate in GATES:
        feed.add(gate)

    def make_right(i: int, zones: list[str], policy: EntryPolicy, kind: RightKind) -> AccessRight:
        plain = (
            kind is RightKind.TICKET
            and zones[0].startswith("NORD")
            and (rng.random() < PLAIN_SECRET_SHARE)
        )
        return AccessRight(
            right_id=rng.randbytes(16),
            event=EVENT,
            zones=tuple(zones),
            not_before=start,
            expires=end,
            policy=policy,
            kind=kind,
            holder=rng.randbytes(16),
            seat=f"{zones[0]}-R{rng.randint(1, 40)}-{rng.randint(1, 60)}"
            if kind is not RightKind.STAFF
            else None,
            secret=f"CA{i:09d}" if plain else None,
        )

    kept: dict[str, list[AccessRight]] = {}
    for i, (zones, policy, kind) in enumerate(_crowd(rng, rights)):
        right = make_right(i, zones, policy, kind)
        feed.add(RightRow.from_right(right))
        label = _label(right)
        if len(kept.setdefault(label, [])) < 3:
            kept[label].append(right)
    site.rights = rights

    # One holder banned by name, and as many more bans as asked, most on rights, a few on people.
    banned_holder = next(iter(kept.get("home-ticket", [])), None)
    if banned_holder is not None and banned_holder.holder is not None:
        feed.add(
            BanRow(
                ban_id="BAN-0",
                scope=BanScope.HOLDER,
                subject=banned_holder.holder,
                reason="pitch invasion, derby of March 2026",
                severity=3,
                valid_from=start - 86400 * 200,
                valid_until=end + 86400 * 365,
            )
        )
    for i in range(1, bans):
        scope = BanScope.HOLDER if i % 4 == 0 else BanScope.RIGHT
        feed.add(
            BanRow(
                ban_id=f"BAN-{i}",
                scope=scope,
                subject=rng.randbytes(16),
                reason="stadium ban",
                severity=rng.randint(1, 3),
            )
        )
    site.bans = max(bans, 1 if banned_holder else 0)

    # A transferred ticket: the old right is revoked.
    revoked = make_right(rights, ["NORD-B"], EntryPolicy.SINGLE, RightKind.TICKET)
    revoked = replace(revoked, secret=None)
    feed.add(RightRow.from_right(revoked))
    feed.add(RevocationRow(right_id=revoked.right_id, revoked_at=start, reason="transferred"))
    feed.flush()

    site.samples = _samples(site, kept, revoked, banned_holder, rng)
    return site


def _crowd(rng: random.Random, n: int) -> Iterator[tuple[list[str], EntryPolicy, RightKind]]:
    weights = [share for share, *_ in CROWD]
    # The first rights cover every kind so that even a tiny demo has each of them.
    for i in range(n):
        share = CROWD[i] if i < len(CROWD) else rng.choices(CROWD, weights)[0]
        _, zones, policy, kind = share
        yield zones, policy, kind


def _label(right: AccessRight) -> str:
    if right.secret is not None:
        return "plain-secret"
    if right.kind is RightKind.STAFF:
        return "staff-badge"
    if right.kind is RightKind.SUBSCRIPTION:
        return "vip-subscription"
    return "home-ticket" if right.zones[0].startswith("NORD") else "away-ticket"


def _samples(
    site: DemoSite,
    kept: dict[str, list[AccessRight]],
    revoked: AccessRight,
    banned: AccessRight | None,
    rng: random.Random,
) -> list[SampleCode]:
    """Codes to try at gate NORD-1, each with the answer the gate should give."""
    samples: list[SampleCode] = []

    def add(label: str, right: AccessRight, expected: Reason, note: str) -> None:
        samples.append(SampleCode(label, site.code_for(right), expected, note))

    home = [r for r in kept.get("home-ticket", []) if r is not banned]
    for right in home[:2]:
        add("home-ticket", right, Reason.GRANTED, "home supporter, Virage Nord; try it twice")
    for right in kept.get("plain-secret", [])[:1]:
        add("plain-secret", right, Reason.GRANTED, "code from the former ticketing system")
    for right in kept.get("vip-subscription", [])[:1]:
        add("vip-subscription", right, Reason.WRONG_ZONE, "VIP box: gate VIP-1, re-entry allowed")
    for right in kept.get("staff-badge", [])[:1]:
        add("staff-badge", right, Reason.GRANTED, "steward: any gate, any number of times")
    for right in kept.get("away-ticket", [])[:1]:
        add("away-ticket", right, Reason.WRONG_ZONE, "away supporter: gate SUD-1 only")
    if banned is not None:
        add("banned-holder", banned, Reason.BLACKLISTED, "holder under a stadium ban")
    add("revoked", revoked, Reason.REVOKED, "ticket transferred to someone else")
    if home:
        base = home[0]
        start, end = base.not_before, base.expires
        add(
            "expired",
            replace(
                base,
                right_id=rng.randbytes(16),
                not_before=start - 30 * 86400,
                expires=start - 29 * 86400,
            ),
            Reason.EXPIRED,
            "last month's match",
        )
        add(
            "wrong-event",
            replace(
                base,
                right_id=rng.randbytes(16),
                event=OTHER_EVENT,
                not_before=end + 13 * 86400,
                expires=end + 15 * 86400,
            ),
            Reason.WRONG_EVENT,
            "ticket for the next home match",
        )
        good = site.code_for(home[0])
        middle = len(good) // 2
        tampered = good[:middle] + ("A" if good[middle] != "A" else "B") + good[middle + 1 :]
        samples.append(
            SampleCode(
                "tampered",
                tampered,
                Reason.INVALID_SIGNATURE,
                "one character of a valid code changed",
            )
        )
        forger = Ed25519PrivateKey.generate()
        forged = issue(Credential(SITE, int(site.now.timestamp()), base), forger)
        samples.append(
            SampleCode(
                "forged",
                forged,
                Reason.UNKNOWN_KEY,
                "same content, signed by a key the gate does not trust",
            )
        )
    samples.append(SampleCode("malformed", "EG1:NOT-A-CODE", Reason.MALFORMED, "garbage"))
    samples.append(
        SampleCode("unknown-plain", "CA999999999", Reason.UNKNOWN_CODE, "a plain code nobody sold")
    )
    return samples
