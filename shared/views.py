"""An in-memory replica view: the reference implementation of :class:`ReplicaView`.

Used where a whole replica fits in a few dicts: tests that pin the decision's semantics, and the
server when it answers an online check. The gate's SQLite replica must agree with it case by case.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from shared.credential import KeyRing
from shared.decision import Decision, occupancy_changes, usage_after
from shared.model import AccessRight, BanScope, BlacklistEntry, Layout, UsageState


@dataclass
class MemoryReplicaView:
    keyring: KeyRing = field(default_factory=KeyRing)
    rights: dict[bytes, AccessRight] = field(default_factory=dict)
    revoked: set[bytes] = field(default_factory=set)
    blacklist: dict[tuple[BanScope, bytes], list[BlacklistEntry]] = field(
        default_factory=lambda: defaultdict(list)
    )
    usages: dict[bytes, UsageState] = field(default_factory=dict)
    layouts: dict[str, Layout] = field(default_factory=dict)
    rotation_keys: dict[bytes, bytes] = field(default_factory=dict)
    rotating_events: set[str] = field(default_factory=set)
    occupancies: dict[str, int] = field(default_factory=dict)

    def add_layouts(self, layouts: Iterable[Layout]) -> None:
        for layout in layouts:
            self.layouts[layout.code] = layout

    def add_ban(self, ban: BlacklistEntry) -> None:
        self.blacklist[(ban.scope, ban.subject)].append(ban)

    def right_by_secret(self, secret: str) -> AccessRight | None:
        for right in self.rights.values():
            if right.secret == secret:
                return right
        return None

    def is_revoked(self, right_id: bytes) -> bool:
        return right_id in self.revoked

    def bans(self, scope: BanScope, subject: bytes) -> Sequence[BlacklistEntry]:
        return self.blacklist.get((scope, subject), [])

    def usage(self, right_id: bytes) -> UsageState | None:
        return self.usages.get(right_id)

    def rotation_key(self, rkid: bytes) -> bytes | None:
        return self.rotation_keys.get(rkid)

    def rotating_required(self, event: str) -> bool:
        return event in self.rotating_events

    def layout_of(self, event: str) -> Layout | None:
        return next((lay for lay in self.layouts.values() if event in lay.events), None)

    def occupancy(self, zone: str) -> int:
        return self.occupancies.get(zone, 0)

    def carry_out(self, decision: Decision, at_s: int) -> None:
        """Apply a decision's effect on usage and occupancy, as the gate's record_scan does."""
        if decision.right is None:
            return
        before = self.usages.get(decision.right.right_id)
        after = usage_after(decision, before, at_s)
        layout = self.layout_of(decision.right.event)
        for zone, delta in occupancy_changes(layout, before, after).items():
            self.occupancies[zone] = self.occupancies.get(zone, 0) + delta
        if after is not None:
            self.usages[after.right_id] = after
