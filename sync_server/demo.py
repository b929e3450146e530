"""``gate-server seed-demo``: the Radès derby on the server, for ``make demo`` and first tries.

The back office's own services build it (venue and zone tree, the derby, gates, a signing key,
rights, a ban), so the demo exercises the same code a site does. It writes the sample codes a
demo camera shows and the gates' one-time enrollment codes.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from shared.credential import Credential, issue
from shared.demo_site import (
    CONCERT_EVENT,
    CONCERT_LAYOUT,
    CROWD,
    EVENT,
    FOOTBALL_LAYOUT,
    GATES,
    SITE,
    TIMEZONE,
    SampleCode,
    read_sample_codes,
    write_samples,
)
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
from sync_server.services import bans, holder_links, keys, layouts, rights, rotation, site
from sync_server.services.writes import commit

DEMO_GATES = ("NORD-1", "SUD-1", "VIP-1")
"""Gates a demo enrolls: the home stand's (the kiosk), the away stand's, the VIP box's."""


@dataclass
class DemoSeed:
    samples: list[SampleCode] = field(default_factory=list)
    enrollment: dict[str, str] = field(default_factory=dict)
    rights: int = 0
    holder_token: str = ""
    """The link token of the demo's rotating ticket (``/t/<token>``)."""


def seed_demo(
    session: Session, *, rights_count: int, passphrase: str, seed: int = 2026
) -> DemoSeed:
    """Build the demo site in one transaction; refuses if the venue exists already."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    now = datetime.now(UTC)
    pending: list[Pending] = []
    football, concert = (
        [ZoneIn(code=z.code, name=z.name, parent=z.parent, capacity=z.capacity) for z in lay.zones]
        for lay in (FOOTBALL_LAYOUT, CONCERT_LAYOUT)
    )
    rades = VenueCreate(
        code=SITE, name="Stade de Radès", timezone=TIMEZONE, zones=football,
        layout=FOOTBALL_LAYOUT.code, layout_name=FOOTBALL_LAYOUT.name,
    )  # fmt: skip
    venue, made = site.create_venue(session, data=rades)
    pending += made
    concert_layout, made = layouts.create_layout(
        session, venue=venue, code=CONCERT_LAYOUT.code, name=CONCERT_LAYOUT.name, zones=concert
    )
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
    # A week later the stadium holds a concert: a standing pit where the pitch is, and gate
    # NORD-1 leading into it.
    _, made = site.create_event(
        session,
        data=EventCreate(
            code=CONCERT_EVENT,
            name="Concert à Radès",
            venue=SITE,
            layout=CONCERT_LAYOUT.code,
            starts_at=now + timedelta(days=7, hours=1),
            ends_at=now + timedelta(days=7, hours=4),
        ),
    )
    pending += made
    for gate in GATES:
        if gate.name in DEMO_GATES:
            _, made = site.create_gate(
                session,
                data=GateCreate(venue=SITE, name=gate.name, zones=gate.zones,
                                event_codes=[EVENT, CONCERT_EVENT], grace_s=gate.grace_s),
            )  # fmt: skip
            pending += made
    pending += layouts.set_access(
        session,
        layout=concert_layout,
        access={g: z for g, z in CONCERT_LAYOUT.access.items() if g in DEMO_GATES},
    )
    _, made = keys.create_key(session, passphrase=passphrase)
    pending += made
    _, made = rotation.rotate(session, venue=venue)  # rotating tickets: a holder's page
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
    phone = RightCreate(event=EVENT, zones=["NORD-A"], holder="demo-fan-phone", seat="NORD-A-12",
                        display_name="Yassine B.", rotating=True)  # fmt: skip
    on_phone, _, made = rights.create_right(session, data=phone)
    pending += made
    holder_token = holder_links.issue(session, right=on_phone, by="demo")
    _, made = bans.add_ban(
        session,
        data=BanCreate(scope=BanScope.HOLDER, holder="demo-fan-6", reason="pitch invasion",
                       severity=3),
        actor="demo",
    )  # fmt: skip
    pending += made
    commit(session, pending=pending, actor="demo", action="demo.seed", target=SITE,
           detail={"rights": rights_count})  # fmt: skip

    seed_result = DemoSeed(rights=report.imported, holder_token=holder_token)
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


# -- make demo: the whole product on one machine ----------------------------------------------

DEMO_ADMIN = "admin"
DEMO_SUPERVISOR = "superviseur"
DEMO_PASSWORD = "derby-2026"  # noqa: S105 - a demo account on a demo database, printed on screen
REPO = Path(__file__).resolve().parent.parent
BINDIR = Path(sys.executable).parent
"""Where this interpreter's commands are (the virtualenv's gate-server and gate-scanner)."""


@dataclass
class DemoServer:
    """A demo server's database, ready to serve: what :func:`prepare_demo` made."""

    folder: Path
    database_url: str
    admin_token: str
    seeded: DemoSeed


def prepare_demo(folder: Path, *, rights_count: int) -> DemoServer:
    """A fresh ``folder`` with the server's SQLite database (the derby, an admin, a supervisor
    with a dashboard password), the admin's token and the demo camera's codes in ``gate/``."""
    import shutil

    from sync_server.core.config import get_settings
    from sync_server.core.security import USER_TOKEN_PREFIX, hash_token, new_token
    from sync_server.db import make_engine
    from sync_server.migrate import upgrade
    from sync_server.models import User
    from sync_server.services import sessions

    if folder.exists():
        shutil.rmtree(folder)
    (folder / "gate").mkdir(parents=True)
    url = f"sqlite:///{folder.resolve()}/server.db"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        seeded = seed_demo(
            session, rights_count=rights_count, passphrase=get_settings().key_passphrase
        )
        token = new_token(USER_TOKEN_PREFIX)
        admin = User(name=DEMO_ADMIN, role="admin", token_hash=hash_token(token))
        supervisor = User(name=DEMO_SUPERVISOR, role="supervisor",
                          token_hash=hash_token(new_token(USER_TOKEN_PREFIX)))  # fmt: skip
        session.add_all([admin, supervisor])
        session.flush()
        # Both sign in to the pages: the supervisor to the dashboard, the admin to the office.
        sessions.set_password(session, user=supervisor, password=DEMO_PASSWORD)
        sessions.set_password(session, user=admin, password=DEMO_PASSWORD)
        commit(session, actor="demo", action="user.create", target=DEMO_SUPERVISOR)
    engine.dispose()
    write_samples(folder / "gate" / "codes.txt", seeded.samples)
    (folder / "admin.token").write_text(token + "\n")
    return DemoServer(folder, url, token, seeded)


def start_server(demo: DemoServer, *, port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """``gate-server serve`` on the demo's database, once its ``/health`` answers."""
    import httpx

    server = subprocess.Popen(
        [str(BINDIR / "gate-server"), "serve", "--port", str(port), "--no-migrate"],
        env={**os.environ, "ENTRIX_DATABASE_URL": demo.database_url},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            server.wait()
            raise RuntimeError(f"the server did not start: see its log in {demo.folder}")
        time.sleep(0.2)


def enroll_gate(demo: DemoServer, *, server_url: str, gate: str = "NORD-1") -> Path:
    """``gate-scanner enroll`` of ``gate`` into the demo's ``gate/`` folder; its gate.toml."""
    config = demo.folder / "gate" / "gate.toml"
    subprocess.run(
        [str(BINDIR / "gate-scanner"), "enroll", "--server", server_url,
         "--code", demo.seeded.enrollment[gate], "--config", str(config)],
        check=True,
    )  # fmt: skip
    return config


def run_demo(folder: Path, *, port: int, rights_count: int, headless: bool) -> int:
    """Seed a server database, start the server, enroll gate NORD-1, open its kiosk (or replay)."""
    demo = prepare_demo(folder, rights_count=rights_count)
    server_url = f"http://127.0.0.1:{port}"
    log = (folder / "server.log").open("wb")
    try:
        server = start_server(demo, port=port, log=log)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        log.close()
        return 2
    try:
        config = enroll_gate(demo, server_url=server_url)
        _say_where(folder, server_url, demo.admin_token, demo.seeded)
        if headless or not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            print("\nNo display here: the gate runs headless, replaying the demo camera's codes.")
            _replay(folder, BINDIR, config)
            print(f"\nThe gate keeps syncing, and a supporter scans in every {TRICKLE_S:.0f} s: "
                  f"open {server_url}/dashboard. Ctrl-C stops it all.")  # fmt: skip
            keep_alive(config, server_url=server_url, admin_token=demo.admin_token)
        else:
            print("\nOpening the kiosk (close its window to stop the demo).")
            subprocess.run(
                [str(BINDIR / "gate-scanner"), "run", "--demo", "--config", str(config)],
                check=False,
            )
    except KeyboardInterrupt:
        pass
    finally:
        server.terminate()
        server.wait(10)
        log.close()
    return 0


TRICKLE_S = 4.5
"""The headless demo's slow trickle of supporters at gate NORD-1: one every this many seconds."""


def keep_alive(
    config: Path,
    *,
    server_url: str,
    admin_token: str,
    every_s: float = TRICKLE_S,
    scans: int | None = None,
    bindir: Path = BINDIR,
) -> int:
    """The headless gate as a match sees it: its sync loop running (``gate-scanner sync``) and a
    supporter of the north stand scanning in every ``every_s`` (a fresh code from the back
    office, checked by ``gate-scanner check``), until Ctrl-C or ``scans`` of them; how many."""
    import httpx

    sync = subprocess.Popen(
        [str(bindir / "gate-scanner"), "sync", "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    done = 0
    headers = {"Authorization": f"Bearer {admin_token}"}
    try:
        with httpx.Client(base_url=f"{server_url}/api/v1", headers=headers, timeout=30) as api:
            listed = api.get("/rights", params={"event": EVENT, "limit": 1000}).json()
            north = [r["right_id"] for r in listed  # static tickets (not the phone's)
                     if r["status"] == "active" and not r["rotating"]
                     and any(z.startswith(("NORD", "RADES")) for z in r["zones"])]  # fmt: skip
            for right_id in north[-(scans or len(north)) :][::-1]:
                code = api.get(f"/rights/{right_id}/code").json()["code"]
                subprocess.run(
                    [str(bindir / "gate-scanner"), "check", "--config", str(config), code],
                    stdout=subprocess.DEVNULL, check=False,
                )  # fmt: skip
                done += 1
                if scans is not None and done >= scans:
                    break
                time.sleep(every_s)
    except KeyboardInterrupt:
        pass
    finally:
        sync.terminate()
        sync.wait(10)
        # What was scanned since its last pass goes up before the demo ends.
        subprocess.run(
            [str(bindir / "gate-scanner"), "sync", "--once", "--config", str(config)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
        )  # fmt: skip
    return done


def _say_where(folder: Path, server_url: str, token: str, seeded: DemoSeed) -> None:
    print(
        f"""
Entrix Gate demo
  server      {server_url}   (API docs: {server_url}/docs; log: {folder / "server.log"})
  dashboard   {server_url}/dashboard   sign in as {DEMO_SUPERVISOR} / {DEMO_PASSWORD}
  back office {server_url}/dashboard/office   sign in as {DEMO_ADMIN} / {DEMO_PASSWORD}
  a phone     {holder_links.url(server_url, seeded.holder_token)}
              a rotating ticket's holder page (a new code every 15 s; a screenshot is refused)
  gate-admin  export ENTRIX_SERVER={server_url} ENTRIX_TOKEN={token}
              then e.g.: gate-admin scans --event {EVENT}
  gate        NORD-1 enrolled in {folder / "gate"} ({seeded.rights:,} rights);
              the other gates' one-time codes: SUD-1 {seeded.enrollment["SUD-1"]}, VIP-1 {
            seeded.enrollment["VIP-1"]
        }
  the camera  shows, in turn: """
        + ", ".join(s.label for s in seeded.samples)
    )


def _replay(folder: Path, bindir: Path, config: Path) -> None:
    """The demo camera's codes as a folder of frames, through the gate's headless pipeline."""
    from sync_server import qr

    frames = folder / "frames"
    frames.mkdir()
    codes = read_sample_codes((folder / "gate" / "codes.txt").read_text(encoding="utf-8"))
    for index, code in enumerate(codes):
        (frames / f"frame-{index:03d}.png").write_bytes(qr.render(code, "png", scale=4))
    replica = folder / "gate" / "gate.db"
    subprocess.run(
        [str(bindir / "gate-scanner"), "replay", str(frames), "--db", str(replica),
         "--gate", "NORD-1", "--fps", "0.25"],
        check=False,
    )  # fmt: skip
    subprocess.run(
        [str(bindir / "gate-scanner"), "sync", "--once", "--config", str(config)], check=False
    )


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m sync_server.demo", description=run_demo.__doc__
    )
    parser.add_argument("--dir", type=Path, default=Path("demo"))
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--rights", type=int, default=10_000)
    parser.add_argument("--headless", action="store_true", help="replay instead of the window")
    args = parser.parse_args(argv)
    return run_demo(args.dir, port=args.port, rights_count=args.rights, headless=args.headless)


if __name__ == "__main__":
    sys.exit(main())
