"""``gate-admin``: the back office's command line over the sync server's API (``/api/v1``).

Every command makes its calls through :meth:`SyncServer.call`, which turns connection failures and
refusals into :class:`AdminError` with a message a person can act on; a command returns an
:class:`Output` (the API's JSON for ``--json``, lines for people) and ``main`` prints it.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from shared.i18n import DEFAULT_LANGUAGE, Language
from shared.model import BanScope, Direction, EntryPolicy, RightKind
from shared.pinning import spki_pin
from sync_server import enrollment_link, localtime, qr, words

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
DEFAULT_SERVER = "http://127.0.0.1:8000"
API_PREFIX = "/api/v1"
TIMEOUT = httpx.Timeout(120.0, connect=5.0)
"""Long enough for an import of a whole season's rights; quick to tell that nobody listens."""
IMPORT_TYPES = {".csv": "text/csv", ".json": "application/json"}
SHOWN_IDS = 20
"""An import prints its new right ids up to this many; ``--json`` gives them all."""


class AdminError(Exception):
    """A command that could not be done: the message to show and the exit status to end with."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, answer: Any = None) -> None:
        super().__init__(message)
        self.answer = answer
        """The server's JSON answer, if any, printed as is with ``--json``."""


class Refused(AdminError):
    """The server understood the request and said no (a 4xx answer)."""

    exit_code = EXIT_REFUSED


@dataclass(frozen=True, slots=True)
class Output:
    """What a command shows: ``data`` (JSON) with ``--json``, ``text`` otherwise."""

    data: Any
    text: str


class SyncServer:
    """The back-office API of one sync server, called with one user's token."""

    def __init__(self, url: str, token: str | None) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self._client = httpx.Client(timeout=TIMEOUT)

    def __enter__(self) -> SyncServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._client.close()

    def call(
        self,
        method: str,
        *path: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> httpx.Response:
        """Call the API at ``path`` (segments, quoted here); a failure becomes an AdminError."""
        if not self.token:
            raise AdminError(
                "no API token: pass --token TOKEN or set ENTRIX_TOKEN "
                "(an admin prints one with: gate-server create-user NAME --role admin)"
            )
        headers = {"Authorization": f"Bearer {self.token}"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        try:
            response = self._client.request(
                method,
                "/".join([self.url + API_PREFIX, *(quote(p, safe="") for p in path)]),
                json=body,
                params=_given(params or {}),
                content=content,
                headers=headers,
            )
        except (httpx.RequestError, httpx.InvalidURL) as exc:
            raise self._unreachable(exc) from exc
        if response.is_success:
            return response
        raise _refusal(response)

    def _unreachable(self, exc: Exception) -> AdminError:
        """Why the server could not be asked, and how to point gate-admin at the right one."""
        why = "it did not answer in time" if isinstance(exc, httpx.TimeoutException) else str(exc)
        return AdminError(
            f"cannot reach the sync server at {self.url} ({why}). Is it running "
            "(gate-server serve)? Give its address with --server URL or ENTRIX_SERVER."
        )


def _refusal(response: httpx.Response) -> AdminError:
    """The error for a server's no: its own words, and a way out for token and role problems."""
    try:
        answer = response.json()
    except ValueError:
        answer = None
    detail = _server_message(answer) or response.text.strip()[:300] or response.reason_phrase
    status = response.status_code
    if status == 401:
        return Refused(
            f"the server refused the token ({detail}): check --token or ENTRIX_TOKEN",
            answer=answer,
        )
    if status == 403:
        return Refused(
            f"not allowed ({detail}): use the token of a user with the needed role",
            answer=answer,
        )
    if status >= 500:
        return AdminError(f"the server failed ({status}): {detail}; see its log", answer=answer)
    return Refused(detail, answer=answer)


def _server_message(answer: Any) -> str:
    """The server's explanation: an import's bad rows, a domain error, or validation errors."""
    if not isinstance(answer, dict):
        return ""
    rows = answer.get("errors")
    if isinstance(rows, list) and rows:
        lines = [f"row {r.get('row')}: {r.get('message')}" for r in rows]
        return f"nothing imported, {len(rows)} bad row(s):\n" + "\n".join(lines)
    detail = answer.get("detail")
    if isinstance(detail, list):
        return "; ".join(_validation_error(e) for e in detail)
    return "" if detail is None else str(detail)


def _validation_error(error: Any) -> str:
    """One of FastAPI's validation errors as ``field: message`` (without the ``body`` prefix)."""
    if not isinstance(error, dict):
        return str(error)
    where = [str(p) for p in error.get("loc", []) if p not in ("body", "query", "path")]
    return f"{'.'.join(where) or 'request'}: {error.get('msg', error)}"


# -- output helpers -----------------------------------------------------------------------------


def _cell(value: Any) -> str:
    """A value as a table cell: lists joined, booleans as yes/no, nothing as a dash."""
    if value is None or value == []:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Rows under a header, each column as wide as its widest cell: readable in any terminal."""
    cells = [list(header), *([_cell(v) for v in row] for row in rows)]
    if len(cells) == 1:
        return "(none)"
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells)
    return "\n".join(line.rstrip() for line in lines)


class LocalTimes:
    """Shows the API's times (UTC) in the venue's own time zone, ``2026-11-22 19:00:00 +01:00``,
    or in UTC with ``--utc``. A time with no venue of its own (a key, an audit entry) takes the
    venues' zone when they share one, else UTC. The venues are asked for once, when first
    needed."""

    def __init__(self, server: SyncServer | None, *, utc: bool = False) -> None:
        self._server = server
        self._utc = utc
        self._zones: dict[str, str] | None = None

    def _zone(self, venue: str | None) -> str:
        if self._utc or self._server is None:
            return localtime.UTC_NAME
        if self._zones is None:
            try:
                listed = self._server.call("GET", "venues").json()
                self._zones = {v["code"]: v.get("timezone") or "UTC" for v in listed}
            except AdminError:
                self._zones = {}
        if venue is not None and venue in self._zones:
            return self._zones[venue]
        return localtime.common(self._zones.values())

    def __call__(self, value: str | None, venue: str | None = None) -> str:
        if value is None:
            return "-"
        at = datetime.fromisoformat(value)
        zone = self._zone(venue)
        if zone == localtime.UTC_NAME:
            return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return localtime.stamp(at, zone)


_times: ContextVar[LocalTimes | None] = ContextVar("times", default=None)


def _when(value: str | None, venue: str | None = None) -> str:
    """An API time in the venue's local time (LocalTimes); ``-`` for none."""
    times = _times.get() or LocalTimes(None, utc=True)
    return times(value, venue)


def cli_language(environ: Mapping[str, str] = os.environ) -> Language:
    """$ENTRIX_LANG, else the locale's language when it is one of ours, else French."""
    for name in ("ENTRIX_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")[:2].lower()
        if value in {lang.value for lang in Language}:
            return Language(value)
    return DEFAULT_LANGUAGE


def _given(values: dict[str, Any]) -> dict[str, Any]:
    """The options the user gave: those left out take the server's defaults."""
    return {k: v for k, v in values.items() if v is not None}


def _codes(value: str) -> list[str]:
    """A comma-separated list of codes (``NORD,SUD``), as the options take them."""
    return [part.strip() for part in value.split(",") if part.strip()]


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise AdminError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _write(path: str, data: bytes) -> str:
    """Write a file the user asked for; a line saying so."""
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise AdminError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return f"wrote {path} ({len(data)} bytes)"


# -- venues and zones ---------------------------------------------------------------------------


def _zones_from_file(path: str) -> list[dict[str, Any]]:
    """Zones from a JSON list or a CSV (code,name,parent,capacity); the server validates them."""
    suffix = Path(path).suffix.lower()
    raw = _read(path)
    if suffix == ".json":
        try:
            zones = json.loads(raw)
        except ValueError as exc:
            raise AdminError(f"{path} is not valid JSON: {exc}") from exc
        if not isinstance(zones, list):
            raise AdminError(f"{path}: a zones file is a JSON list of {{code, name, ...}}")
        return zones
    if suffix == ".csv":
        try:
            reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
        except UnicodeDecodeError as exc:
            raise AdminError(f"{path} is not UTF-8 text: {exc}") from exc
        return [{k: v for k, v in row.items() if k and v not in (None, "")} for row in reader]
    raise AdminError(f"{path}: give zones as a .json or a .csv file (code,name,parent,capacity)")


def _zone_tree(zones: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """Zones in tree order with their depth, so that sectors show under their stand."""
    codes = {z["code"] for z in zones}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for zone in zones:
        parent = zone["parent"] if zone["parent"] in codes else None
        children.setdefault(parent, []).append(zone)
    ordered: list[tuple[int, dict[str, Any]]] = []

    def walk(parent: str | None, depth: int) -> None:
        for zone in sorted(children.get(parent, []), key=lambda z: z["code"]):
            ordered.append((depth, zone))
            walk(zone["code"], depth + 1)

    walk(None, 0)
    return ordered


def _zone_table(zones: list[dict[str, Any]]) -> str:
    rows = [
        ("  " * depth + z["code"], z["name"], z["capacity"], z["occupancy"])
        for depth, z in _zone_tree(zones)
    ]
    return _table(["zone", "name", "capacity", "inside"], rows)


def _venue_output(venue: dict[str, Any]) -> Output:
    layouts = venue.get("layouts") or []
    default = next((lay for lay in layouts if lay["default"]), None)
    title = (
        f"venue {venue['code']}: {venue['name']}, {len(venue['zones'])} zone(s)"
        + (f" in its default layout {default['code']} ({default['name']})" if default else "")
        + f", local time {venue['timezone']}"
    )
    text = f"{title}\n{_zone_table(venue['zones'])}"
    if layouts:
        rows = [
            (lay["code"], lay["name"], "yes" if lay["default"] else "", len(lay["zones"]),
             _cell(lay["events"]))
            for lay in layouts
        ]  # fmt: skip
        text += "\n\n" + _table(["layout", "name", "default", "zones", "events"], rows)
    return Output(venue, text)


def _layout_output(venue: dict[str, Any], code: str) -> Output:
    layout = next((lay for lay in venue.get("layouts") or [] if lay["code"] == code), None)
    if layout is None:
        raise AdminError(f"no layout {code!r} at venue {venue['code']}")
    title = (
        f"layout {venue['code']}/{layout['code']}: {layout['name']}"
        + (" (the venue's default)" if layout["default"] else "")
        + f", {len(layout['zones'])} zone(s), events {_cell(layout['events']) or '-'}"
    )
    access = _table(
        ["gate", "leads into"], [(gate, _cell(zones)) for gate, zones in layout["access"].items()]
    )
    return Output(layout, f"{title}\n{_zone_table(layout['zones'])}\n\n{access}")


def _layout_create(server: SyncServer, args: argparse.Namespace) -> Output:
    zones = _zones_from_file(args.zones_file) if args.zones_file else []
    body = _given({"code": args.code, "name": args.name, "zones": zones,
                   "copy_from": args.copy_from})  # fmt: skip
    venue = server.call("POST", "venues", args.venue, "layouts", body=body).json()
    return _layout_output(venue, args.code)


def _layout_show(server: SyncServer, args: argparse.Namespace) -> Output:
    return _layout_output(server.call("GET", "venues", args.venue).json(), args.code)


def _layout_rename(server: SyncServer, args: argparse.Namespace) -> Output:
    body = {"name": args.name}
    venue = server.call("PATCH", "venues", args.venue, "layouts", args.code, body=body).json()
    return _layout_output(venue, args.code)


def _layout_access(server: SyncServer, args: argparse.Namespace) -> Output:
    if args.nowhere == bool(args.zones):
        raise AdminError("give --zones Z1,Z2 (where the gate leads) or --nowhere")
    body = {args.gate: [] if args.nowhere else args.zones}
    venue = server.call("PUT", "venues", args.venue, "layouts", args.code, "access", body=body)
    return _layout_output(venue.json(), args.code)


def _venue_create(server: SyncServer, args: argparse.Namespace) -> Output:
    zones = _zones_from_file(args.zones_file) if args.zones_file else []
    body = {"code": args.code, "name": args.name, "timezone": args.timezone, "zones": zones,
            "layout": args.layout, "layout_name": args.layout_name}  # fmt: skip
    return _venue_output(server.call("POST", "venues", body=_given(body)).json())


def _venue_update(server: SyncServer, args: argparse.Namespace) -> Output:
    body = _given({"name": args.name, "timezone": args.timezone})
    return _venue_output(server.call("PATCH", "venues", args.code, body=body).json())


def _venue_show(server: SyncServer, args: argparse.Namespace) -> Output:
    return _venue_output(server.call("GET", "venues", args.code).json())


def _zones_put(server: SyncServer, args: argparse.Namespace) -> Output:
    zones = _zones_from_file(args.file)
    if args.layout is None:
        return _venue_output(server.call("PUT", "venues", args.venue, "zones", body=zones).json())
    path = ("venues", args.venue, "layouts", args.layout, "zones")
    return _layout_output(server.call("PUT", *path, body=zones).json(), args.layout)


# -- seasons and events -------------------------------------------------------------------------


def _season_create(server: SyncServer, args: argparse.Namespace) -> Output:
    season = server.call("POST", "seasons", body={"code": args.code, "name": args.name}).json()
    return Output(season, f"season {season['code']}: {season['name']} created")


def _event_line(event: dict[str, Any]) -> str:
    season = f", season {event['season']}" if event["season"] else ""
    venue = event.get("venue")
    when = f"{_when(event['starts_at'], venue)} to {_when(event['ends_at'], venue)}"
    layout = f" ({event['layout']} layout)" if event.get("layout") else ""
    rotating = ", rotating codes only" if event.get("rotating_required") else ""
    return (
        f"event {event['code']}: {event['name']} at {event['venue']}{layout}{season}, {when}"
        f"{rotating}"
    )


def _event_create(server: SyncServer, args: argparse.Namespace) -> Output:
    body = {
        "code": args.code,
        "name": args.name,
        "venue": args.venue,
        "layout": args.layout,
        "season": args.season,
        "starts_at": args.starts,
        "ends_at": args.ends,
        "rotating_required": args.rotating_required,
    }
    event = server.call("POST", "events", body=body).json()
    text = _event_line(event)
    if event.get("over"):
        text += (
            f"\nwarning: this event ended at {_when(event['ends_at'], event['venue'])}, before "
            "now: its rights admit nobody. Check --starts and --ends (a time zone missing?)."
        )
    return Output(event, text)


def _event_list(server: SyncServer, _args: argparse.Namespace) -> Output:
    events = server.call("GET", "events").json()
    rows = [
        (
            e["code"],
            e["name"],
            e["venue"],
            e["season"],
            _when(e["starts_at"], e["venue"]),
            _when(e["ends_at"], e["venue"]),
        )
        for e in events
    ]
    return Output(events, _table(["event", "name", "venue", "season", "starts", "ends"], rows))


def _event_rotating(server: SyncServer, args: argparse.Namespace) -> Output:
    body = {"required": args.required}
    event = server.call("PUT", "events", args.code, "rotating", body=body).json()
    said = (
        "its gates take rotating codes only: printed and copied codes are refused (static_code)"
        if event["rotating_required"]
        else "its gates take static codes again (rights issued rotating stay rotating)"
    )
    return Output(event, f"{_event_line(event)}\n{said}")


def _event_open_gates(server: SyncServer, args: argparse.Namespace) -> Output:
    event = server.call("POST", "events", args.code, "open-gates").json()
    return Output(event, f"every gate of {event['venue']} now controls event {event['code']}")


# -- gates --------------------------------------------------------------------------------------


def _gate_line(gate: dict[str, Any]) -> str:
    state = "enabled" if gate["enabled"] else "DISABLED"
    return (
        f"gate {gate['venue']}/{gate['name']}: {gate['direction']}, {state}, "
        f"zones {_leads(gate)}, events {_cell(gate['event_codes'])}, grace {gate['grace_s']} s"
    )


def _leads(gate: dict[str, Any]) -> str:
    """Where a gate leads: its zones, or per layout when it leads somewhere in several."""
    access = gate.get("access") or {}
    if len(access) > 1 or (access and not gate["zones"]):
        return "; ".join(f"{layout}: {_cell(zones)}" for layout, zones in access.items())
    return _cell(gate["zones"])


def _enrollment_line(enrollment: dict[str, Any]) -> str:
    return (
        f"enrollment code for {enrollment['venue']}/{enrollment['gate']}: {enrollment['code']} "
        f"(type it on the terminal; one use, expires {_when(enrollment['expires_at'])})"
    )


def _new_enrollment(server: SyncServer, venue: str, name: str) -> dict[str, Any]:
    enrollment: dict[str, Any] = server.call(
        "POST", "venues", venue, "gates", name, "enrollment"
    ).json()
    return enrollment


def _server_pins(server: SyncServer, args: argparse.Namespace) -> tuple[str, list[str], str]:
    """The URL gates use, the pins they will trust, and where the pins came from."""
    url = (args.gate_url or server.url).rstrip("/")
    given = list(args.pin) + [spki_pin(_read(path)) for path in args.cert]
    try:
        pins, source = enrollment_link.pins_for(url, given)
    except enrollment_link.PinError as exc:
        raise AdminError(f"--pin {exc}" if given else str(exc)) from exc
    return url, pins, source


def _enrollment_output(
    server: SyncServer, args: argparse.Namespace, enrollment: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    url, pins, source = _server_pins(server, args)
    link = enrollment_link.link(url, enrollment["code"], pins)
    lines = [_enrollment_line(enrollment)]
    lines += [f"server pin: {pin} ({source})" for pin in pins] or [f"server pin: {source}"]
    lines.append(f"enrollment link: {link}")
    if args.qr:
        image = qr.render(link, "svg" if args.qr.lower().endswith(".svg") else "png")
        lines.append(f"QR of the link: {_write(args.qr, image)}")
    lines.append("on the terminal: gate-scanner enroll --link '" + link + "'")
    return {**enrollment, "server_url": url, "pins": pins, "link": link}, lines


def _gate_create(server: SyncServer, args: argparse.Namespace) -> Output:
    body = {
        "venue": args.venue,
        "name": args.name,
        "zones": args.zones,
        "event_codes": args.events,
        "direction": args.direction,
        "enabled": not args.disabled,
        "grace_s": args.grace,
    }
    gate = server.call("POST", "gates", body=_given(body)).json()
    enrollment, lines = _enrollment_output(
        server, args, _new_enrollment(server, args.venue, args.name)
    )
    return Output({"gate": gate, "enrollment": enrollment}, "\n".join([_gate_line(gate), *lines]))


def _gate_list(server: SyncServer, args: argparse.Namespace) -> Output:
    gates = server.call("GET", "gates", params={"venue": args.venue}).json()
    rows = [
        (
            g["venue"],
            g["name"],
            g["direction"],
            g["enabled"],
            g["online"],
            _when(g["last_seen_at"], g.get("venue")),
            _leads(g),
            g["event_codes"],
        )
        for g in gates
    ]
    header = ["venue", "gate", "dir", "enabled", "online", "last seen", "zones", "events"]
    return Output(gates, _table(header, rows))


def _gate_enroll_code(server: SyncServer, args: argparse.Namespace) -> Output:
    enrollment, lines = _enrollment_output(
        server, args, _new_enrollment(server, args.venue, args.name)
    )
    return Output(enrollment, "\n".join(lines))


def _gate_set(server: SyncServer, args: argparse.Namespace) -> Output:
    changes = {
        "enabled": args.enabled,
        "direction": args.direction,
        "zones": args.zones,
        "event_codes": args.events,
        "grace_s": args.grace,
    }
    body = _given(changes)
    if not body:
        raise AdminError(
            "nothing to change: give --enable/--disable, --direction, --zones, --events or --grace"
        )
    gate = server.call("PATCH", "venues", args.venue, "gates", args.name, body=body).json()
    return Output(gate, _gate_line(gate))


def _gate_revoke_devices(server: SyncServer, args: argparse.Namespace) -> Output:
    answer = server.call("POST", "venues", args.venue, "gates", args.name, "revoke-devices").json()
    text = (
        f"{answer['revoked']} terminal(s) of {args.venue}/{args.name} revoked; enroll a terminal "
        f"again with: gate-admin gate enroll-code {args.venue} {args.name}"
    )
    return Output(answer, text)


# -- access rights ------------------------------------------------------------------------------


def _right_text(right: dict[str, Any]) -> str:
    policy = EntryPolicy(right["policy"]).name.lower()
    kind = RightKind(right["kind"]).name.lower()
    status = right["status"]
    if right["revoked_reason"]:
        status += f" ({right['revoked_reason']})"
    code = "plain code" if right["plain_code"] else "signed EG1 code"
    lines = [
        f"right {right['right_id']}: {status}",
        f"  event {right['event']}, zones {_cell(right['zones'])}, policy {policy}, kind {kind}",
        f"  {code}, seat {_cell(right['seat'])}, holder id {_cell(right['holder_id'])}",
        f"  valid {_when(right['not_before'])} to {_when(right['expires'])}",
    ]
    if right["replaced_by"]:
        lines.append(f"  replaced by {right['replaced_by']}")
    return "\n".join(lines)


def _rights_import(server: SyncServer, args: argparse.Namespace) -> Output:
    content_type = IMPORT_TYPES.get(Path(args.file).suffix.lower())
    if content_type is None:
        raise AdminError(f"{args.file}: give rights as a .csv or a .json file")
    raw = _read(args.file)
    started = server.call(
        "POST", "rights", "import", content=raw, content_type=content_type,
        params={"background": "true"},
    ).json()  # fmt: skip
    job = _follow_job(server, started["job"])
    if job["state"] == "refused":
        bad = [f"row {e['row']}: {e['message']}" for e in job["errors"]]
        more = job["error_count"] - len(bad)
        why = (f"nothing imported, {job['error_count']} bad row(s):" if job["error_count"]
               else f"nothing imported: {job['message']}")  # fmt: skip
        raise Refused(
            "\n".join([why, *bad]) + (f"\n... and {more} more bad rows" if more > 0 else ""),
            answer=job,
        )
    if job["state"] != "done":
        raise Refused(
            f"import {job['state']}: {job['message']} ({job['imported']} written)", answer=job
        )
    ids: list[str] = job["right_ids"]
    lines = [f"imported {job['imported']} right(s)", *ids[:SHOWN_IDS]]
    if len(ids) > SHOWN_IDS:
        lines.append(f"... and {len(ids) - SHOWN_IDS} more (--json lists every id)")
    elif job["imported"] > len(ids):
        lines.append("(gate-admin rights list --event EVENT lists them)")
    return Output(job, "\n".join(lines))


def _follow_job(server: SyncServer, job_id: str) -> dict[str, Any]:
    """Poll an import job until it ends; on a terminal, a progress line on stderr."""
    shown = sys.stderr.isatty()
    while True:
        job: dict[str, Any] = server.call("GET", "jobs", job_id).json()
        if shown:
            done = job["imported"] if job["state"] == "writing" else job["rows"]
            total = job["rows"] if job["state"] == "writing" else 0
            bar = _bar(done, total)
            print(f"\r{job['state']:<10} {bar} {done:>9,} rows", end="", file=sys.stderr)
        if job["state"] not in ("queued", "validating", "writing"):
            if shown:
                print(file=sys.stderr)
            return job
        time.sleep(0.5)


def _bar(done: int, total: int, width: int = 30) -> str:
    """``[#######.......]`` for a known total; a plain frame while it is not known yet."""
    if total <= 0:
        return "[" + " " * width + "]"
    filled = min(width, width * done // total)
    return "[" + "#" * filled + "." * (width - filled) + "]"


def _rights_create(server: SyncServer, args: argparse.Namespace) -> Output:
    body = {
        "event": args.event,
        "zones": args.zones,
        "holder": args.holder,
        "policy": args.policy,
        "kind": args.kind,
        "seat": args.seat,
        "secret": args.secret,
        "rotating": args.rotating,
    }
    right = server.call("POST", "rights", body=_given(body)).json()
    return Output(right, _right_text(right))


def _rights_list(server: SyncServer, args: argparse.Namespace) -> Output:
    params = {"event": args.event, "limit": args.limit}
    rights = server.call("GET", "rights", params=params).json()
    rows = [
        (
            r["right_id"],
            r["event"],
            r["zones"],
            EntryPolicy(r["policy"]).name.lower(),
            RightKind(r["kind"]).name.lower(),
            r["seat"],
            r["status"],
        )
        for r in rights
    ]
    header = ["right", "event", "zones", "policy", "kind", "seat", "status"]
    return Output(rights, _table(header, rows))


def _rights_show(server: SyncServer, args: argparse.Namespace) -> Output:
    right = server.call("GET", "rights", args.id).json()
    return Output(right, _right_text(right))


def _rights_revoke(server: SyncServer, args: argparse.Namespace) -> Output:
    body = {"reason": args.reason}
    right = server.call("POST", "rights", args.id, "revoke", body=body).json()
    return Output(right, _right_text(right))


def _rights_transfer(server: SyncServer, args: argparse.Namespace) -> Output:
    body = {"holder": args.holder}
    answer = server.call("POST", "rights", args.id, "transfer", body=body).json()
    given = (
        f"holder's link (the old one is dead): {answer['holder_link']}"
        if answer["holder_link"]
        else f"code: {answer['code']}"
    )
    text = (
        f"right {answer['old']['right_id']} revoked (transferred)\n"
        f"new {_right_text(answer['new'])}\n{given}"
    )
    return Output(answer, text)


def _issue(server: SyncServer, args: argparse.Namespace) -> Output:
    """One signed code, printed and drawn in every image asked for (the same code in each); with
    ``--rotating``, the holder's link to a rotating ticket (and its QR, to open the page)."""
    if args.rotating:
        return _holder_link(server, args)
    issued = server.call("GET", "rights", args.id, "code").json()
    lines = [issued["code"]]
    if args.png:
        lines.append(_write(args.png, qr.render(issued["code"], "png")))
    if args.svg:
        lines.append(_write(args.svg, qr.render(issued["code"], "svg")))
    return Output(issued, "\n".join(lines))


def _holder_link(server: SyncServer, args: argparse.Namespace) -> Output:
    made = server.call("POST", "rights", args.id, "holder-link").json()
    lines = [made["url"], "give it to the holder only; the right's previous link, if any, is dead"]
    if getattr(args, "png", None):
        lines.append(_write(args.png, qr.render(made["url"], "png")))
    if getattr(args, "svg", None):
        lines.append(_write(args.svg, qr.render(made["url"], "svg")))
    return Output(made, "\n".join(lines))


def _rights_unlink(server: SyncServer, args: argparse.Namespace) -> Output:
    server.call("DELETE", "rights", args.id, "holder-link")
    return Output(
        {"right_id": args.id, "holder_link": None},
        f"right {args.id}: its holder's link no longer works (the right stays valid)",
    )


def _rights_wallet(server: SyncServer, args: argparse.Namespace) -> Output:
    """The Google Wallet payload (event class and ticket object, rotating barcode)."""
    answer = server.call("GET", "rights", args.id, "wallet.json", params={"lang": args.lang})
    note = _write(args.out, answer.content)
    return Output({"right_id": args.id, "file": args.out}, note)


def _rights_ticket(server: SyncServer, args: argparse.Namespace) -> Output:
    """The back office's ticket PDF, in the words of --lang."""
    answer = server.call("GET", "rights", args.id, "ticket.pdf", params={"lang": args.lang})
    note = _write(args.out, answer.content)
    return Output({"right_id": args.id, "file": args.out, "bytes": len(answer.content)}, note)


def _subscribe(server: SyncServer, args: argparse.Namespace) -> Output:
    body = {
        "season": args.season,
        "holder": args.holder,
        "zones": args.zones,
        "policy": args.policy,
        "kind": args.kind,
        "seat": args.seat,
    }
    answer = server.call("POST", "subscriptions", body=_given(body)).json()
    text = (
        f"subscription {answer['id']} to season {answer['season']}, zones {_cell(answer['zones'])}"
        f" (holder id {answer['holder_id']}): {len(answer['rights'])} right(s), one per event"
    )
    return Output(answer, text)


# -- blacklist ----------------------------------------------------------------------------------


def _ban_line(ban: dict[str, Any]) -> str:
    period = f"from {_when(ban['valid_from'])} until {_when(ban['valid_until'])}"
    state = "active" if ban["active"] else "not active now"
    return (
        f"ban {ban['id']} on {ban['scope']} {ban.get('holder') or ban['subject']}: {ban['reason']} "
        f"(severity {ban['severity']}, {period}, {state})"
    )


def _blacklist_add(server: SyncServer, args: argparse.Namespace) -> Output:
    body = {
        "scope": (BanScope.RIGHT if args.right else BanScope.HOLDER).value,
        "right_id": args.right,
        "holder": args.holder,
        "reason": args.reason,
        "severity": args.severity,
        "valid_from": args.valid_from,
        "valid_until": args.valid_until,
    }
    ban = server.call("POST", "bans", body=_given(body)).json()
    return Output(ban, _ban_line(ban))


def _blacklist_list(server: SyncServer, args: argparse.Namespace) -> Output:
    params = {"holder": args.holder, "search": args.search}
    bans = server.call("GET", "bans", params=params).json()
    rows = [
        (
            b["id"],
            b["scope"],
            b.get("holder") or _short_subject(b["subject"]),
            b["severity"],
            b["active"],
            _when(b["valid_from"]),
            _when(b["valid_until"]),
            b["reason"],
        )
        for b in bans
    ]
    header = ["ban", "scope", "subject", "severity", "active", "from", "until", "reason"]
    return Output(bans, _table(header, rows))


def _short_subject(subject: str) -> str:
    """A pseudonym (or a right id) the office did not type: its start is enough to tell."""
    return subject[:12] + "…"


def _blacklist_remove(server: SyncServer, args: argparse.Namespace) -> Output:
    ban = server.call("DELETE", "bans", args.ban_id).json()
    return Output(ban, f"ban {ban['id']} removed: gates stop refusing {ban['subject']}")


# -- keys ---------------------------------------------------------------------------------------


def _keys_rotate(server: SyncServer, args: argparse.Namespace) -> Output:
    body = {"venue": args.venue} if args.venue else None
    key = server.call("POST", "keys", "rotate", body=body).json()
    whose = f"{args.venue}'s codes (only its gates trust it)" if args.venue else "new codes"
    text = (
        f"key {key['kid']} now signs {whose}; older keys keep verifying until retired "
        "(gate-admin keys retire KID)"
    )
    return Output(key, text)


def _keys_list(server: SyncServer, _args: argparse.Namespace) -> Output:
    keys = server.call("GET", "keys").json()
    rows = [
        (k["kid"], k.get("venue") or "platform", k["status"], _when(k["created_at"]),
         _when(k["retired_at"]), k["public_key"])
        for k in keys
    ]  # fmt: skip
    header = ["kid", "of", "status", "created", "retired", "public key"]
    return Output(keys, _table(header, rows))


def _keys_retire(server: SyncServer, args: argparse.Namespace) -> Output:
    key = server.call("POST", "keys", args.kid, "retire").json()
    text = f"key {key['kid']} retired: gates now refuse the codes it signed (unknown_key)"
    return Output(key, text)


# -- monitoring ---------------------------------------------------------------------------------


def _scans(server: SyncServer, args: argparse.Namespace) -> Output:
    params = {
        "event": args.event,
        "gate": args.gate,
        "zone": args.zone,
        "reason": args.reason,
        "since": args.since,
        "until": args.until,
        "limit": args.limit,
    }
    scans = server.call("GET", "scans", params=params).json()
    rows = [
        (
            _when(s["scanned_at"]),
            s["gate"],
            s["direction"],
            s["reason"],
            s["event"],
            s["zone"],
            s["right_id"],
            s["code_kind"],
        )
        for s in scans
    ]
    header = ["scanned", "gate", "dir", "reason", "event", "zone", "right", "code"]
    return Output(scans, _table(header, rows))


def _alerts(server: SyncServer, args: argparse.Namespace) -> Output:
    params = {"open_only": args.open or None, "limit": args.limit}
    alerts = server.call("GET", "alerts", params=params).json()
    language = Language(args.lang)
    rows = [
        (
            a["id"],
            _when(a["at"], a.get("venue")),
            words.severity_word(a["severity"], language),
            words.alert_title(a["kind"], language),
            a.get("venue"),
            a["gate"],
            a["zone"],
            _when(a["acknowledged_at"], a.get("venue")),
            _alert_sentence(a, language),
        )
        for a in alerts
    ]
    header = ["alert", "at", "severity", "kind", "venue", "gate", "zone", "acknowledged",
              "message"]  # fmt: skip
    return Output(alerts, _table(header, rows))


def _alert_sentence(alert: dict[str, Any], language: Language) -> str:
    """The alert in words from its facts (as the dashboard says it), else its stored message."""
    facts: dict[str, object] = {"gate": alert.get("gate") or "?", "zone": alert.get("zone")}
    for name, value in (alert.get("facts") or {}).items():
        if name == "since_ms" and isinstance(value, int):
            facts["since"] = _when(localtime.from_ms(value).isoformat(), alert.get("venue"))
        elif name == "skew_ms" and isinstance(value, int):
            facts["skew"] = f"{value / 1000:+.1f} s"
        else:
            facts[name] = value
    said = words.alert_sentence(alert["kind"], facts, language)
    return str(alert["message"]) if said is None else said


def _quarantine_list(server: SyncServer, args: argparse.Namespace) -> Output:
    params = {"venue": args.venue, "gate": args.gate}
    held = server.call("GET", "quarantine", params=params).json()
    rows = [
        (h["scan_id"], h["venue"], h["gate"], _when(h["scanned_at"], h["venue"]), h["direction"],
         h["reason"], h["right_id"], h["why"])
        for h in held
    ]  # fmt: skip
    header = ["scan", "venue", "gate", "scanned", "dir", "reason", "right", "why held"]
    return Output(held, _table(header, rows) + f"\n{len(held)} scans held")


def _quarantine_decide(decision: str) -> Command:
    def decide(server: SyncServer, args: argparse.Namespace) -> Output:
        ids = list(args.scan_ids)
        if args.all:
            params = {"venue": args.venue, "gate": args.gate}
            ids += [h["scan_id"] for h in server.call("GET", "quarantine", params=params).json()]
        if not ids:
            raise AdminError("no scan to decide on: give scan ids, or --all (with --gate)")
        body = {"scan_ids": ids, "decision": decision}
        done = server.call("POST", "quarantine", body=body).json()
        return Output(done, f"{done['decided']} scans {decision}")

    return decide


def _export_entries(server: SyncServer, args: argparse.Namespace) -> Output:
    params = {"event": args.event, "bucket_s": args.bucket}
    csv_text = server.call("GET", "exports", "entries.csv", params=params).text
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    if args.out:
        note = _write(args.out, csv_text.encode("utf-8"))
        return Output(rows, f"{note}: {len(rows)} row(s) of entries for event {args.event}")
    return Output(rows, csv_text.rstrip("\n"))


def _audit(server: SyncServer, args: argparse.Namespace) -> Output:
    params = {"action": args.action, "actor": args.actor, "limit": args.limit}
    entries = server.call("GET", "audit", params=params).json()
    rows = [
        (_when(e["at"]), e["actor"], e["action"], e["target"], e["remote_addr"]) for e in entries
    ]
    return Output(entries, _table(["at", "actor", "action", "target", "from"], rows))


# -- the command line ---------------------------------------------------------------------------

Command = Callable[[SyncServer, argparse.Namespace], Output]


def _add_global_options(parser: argparse.ArgumentParser, *, with_defaults: bool) -> None:
    """``--server``, ``--token`` and ``--json``: before the command, or after it.

    After the command they have no default, so that a value given before it is kept.
    """

    def default(value: Any) -> Any:
        return value if with_defaults else argparse.SUPPRESS

    server = os.environ.get("ENTRIX_SERVER") or DEFAULT_SERVER
    parser.add_argument(
        "--server",
        metavar="URL",
        default=default(server),
        help=f"the sync server (default: $ENTRIX_SERVER or {DEFAULT_SERVER})",
    )
    parser.add_argument(
        "--token",
        default=default(os.environ.get("ENTRIX_TOKEN") or None),
        help="your API token (default: $ENTRIX_TOKEN)",
    )
    parser.add_argument(
        "--utc",
        action="store_true",
        default=default(False),
        help="show times in UTC (default: each venue's own time zone)",
    )
    parser.add_argument(
        "--lang",
        choices=[lang.value for lang in Language],
        default=default(cli_language().value),
        help="the language of alert and severity words (default: $ENTRIX_LANG, the locale's, "
        "or fr)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print the API's JSON answer instead of text",
    )


class _Commands:
    """Adds commands to a group, each with the global options and the function that runs it."""

    def __init__(self, group: Any, common: argparse.ArgumentParser) -> None:
        self.group = group
        self.common = common

    def add(self, name: str, run: Command, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = self.group.add_parser(
            name, help=help_text, description=help_text, parents=[self.common]
        )
        parser.set_defaults(run=run)
        return parser

    def noun(self, name: str, help_text: str) -> _Commands:
        """A command group such as ``venue`` whose verbs (``create``, ``show``) follow it."""
        parser = self.group.add_parser(name, help=help_text, description=help_text)
        verbs = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
        return _Commands(verbs, self.common)


def _venue_commands(commands: _Commands) -> None:
    venue = commands.noun("venue", "venues and their layouts")
    create = venue.add("create", _venue_create, "create a venue, with its zones from a file")
    create.add_argument("code")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--zones-file", help="zones as a JSON list or a CSV with code,name,parent,capacity"
    )
    timezone_help = "the venue's time zone, an IANA name (Africa/Tunis): its times are shown in it"
    create.add_argument("--timezone", help=timezone_help + "; the server's default if left out")
    create.add_argument("--layout", help="its first (default) layout's code (default: MAIN)")
    create.add_argument("--layout-name", help="its first layout's name (default: Main layout)")
    update = venue.add("update", _venue_update, "rename a venue or set its time zone")
    update.add_argument("code")
    update.add_argument("--name")
    update.add_argument("--timezone", help=timezone_help)
    show = venue.add("show", _venue_show, "a venue's zones with capacity and people inside")
    show.add_argument("code")
    zones = commands.noun("zones", "a layout's zones")
    put = zones.add("put", _zones_put, "create or update zones from a JSON or CSV file")
    put.add_argument("venue")
    put.add_argument("file", help="JSON list or CSV with code,name,parent,capacity")
    put.add_argument("--layout", help="the layout (default: the venue's default layout)")
    layout = commands.noun("layout", "a venue's layouts: football, concert... (zones, gates)")
    create = layout.add("create", _layout_create, "a new layout of a venue")
    create.add_argument("venue")
    create.add_argument("code")
    create.add_argument("--name", required=True)
    create.add_argument("--zones-file", help="its zones (JSON list or CSV)")
    create.add_argument("--copy-from", metavar="LAYOUT",
                        help="start from this layout's zones and access points")  # fmt: skip
    show = layout.add("show", _layout_show, "a layout's zones and where each gate leads")
    show.add_argument("venue")
    show.add_argument("code")
    rename = layout.add("rename", _layout_rename, "rename a layout")
    rename.add_argument("venue")
    rename.add_argument("code")
    rename.add_argument("--name", required=True)
    access = layout.add("access", _layout_access, "where a gate leads in a layout")
    access.add_argument("venue")
    access.add_argument("code", help="the layout")
    access.add_argument("gate")
    access.add_argument("--zones", type=_codes, help="the zones it leads into: Z1,Z2")
    access.add_argument("--nowhere", action="store_true", help="it leads nowhere in this layout")


def _event_commands(commands: _Commands) -> None:
    season = commands.noun("season", "seasons (for subscriptions)")
    create = season.add("create", _season_create, "create a season")
    create.add_argument("code")
    create.add_argument("--name", required=True)
    event = commands.noun("event", "events")
    create = event.add("create", _event_create, "create an event at a venue")
    create.add_argument("code")
    create.add_argument("--name", required=True)
    create.add_argument("--venue", required=True)
    create.add_argument("--layout", help="the venue's layout it is held in (default: its default)")
    create.add_argument("--season", help="its season: the season's subscribers get a right")
    create.add_argument("--starts", required=True, metavar="ISO", help="e.g. 2026-11-22T20:00+01")
    create.add_argument("--ends", required=True, metavar="ISO")
    event.add("list", _event_list, "every event, by start time")
    create.add_argument(
        "--rotating-required",
        action="store_true",
        help="rotating codes only (holder's page, wallet): static ones refused",
    )
    opening = event.add("open-gates", _event_open_gates, "make every gate of the venue control it")
    opening.add_argument("code")
    rotating = event.add("rotating", _event_rotating, "take rotating codes only, or not")
    rotating.add_argument("code")
    required = rotating.add_mutually_exclusive_group(required=True)
    required.add_argument("--required", dest="required", action="store_true")
    required.add_argument("--not-required", dest="required", action="store_false")


def _gate_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--zones", type=_codes, help="zones it leads into: Z1,Z2")
    parser.add_argument("--events", type=_codes, help="events it controls: E1,E2")
    parser.add_argument("--direction", choices=[d.value for d in Direction])
    parser.add_argument("--grace", type=int, metavar="S", help="validity tolerance in seconds")


def _enrollment_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--gate-url", metavar="URL", help="the server as the gates reach it (default: --server)"
    )
    parser.add_argument(
        "--pin", action="append", default=[], metavar="sha256/...",
        help="a pin the gate will trust (repeatable: the next certificate's too)",
    )  # fmt: skip
    parser.add_argument(
        "--cert", action="append", default=[], metavar="FILE",
        help="pin this certificate (PEM or DER; repeatable)",
    )  # fmt: skip
    parser.add_argument("--qr", metavar="FILE", help="write the enrollment link's QR (.png/.svg)")


def _gate_commands(commands: _Commands) -> None:
    gate = commands.noun("gate", "gates, their enrollment codes and terminals")
    create = gate.add("create", _gate_create, "create a gate and print its enrollment code")
    create.add_argument("venue")
    create.add_argument("name")
    _gate_options(create)
    create.add_argument("--disabled", action="store_true", help="create it closed")
    _enrollment_options(create)
    listing = gate.add("list", _gate_list, "gates with their state")
    listing.add_argument("--venue")
    code = gate.add("enroll-code", _gate_enroll_code, "a new one-time code to enroll a terminal")
    code.add_argument("venue")
    code.add_argument("name")
    _enrollment_options(code)
    change = gate.add("set", _gate_set, "change a gate's configuration")
    change.add_argument("venue")
    change.add_argument("name")
    _gate_options(change)
    state = change.add_mutually_exclusive_group()
    state.add_argument("--enable", dest="enabled", action="store_const", const=True)
    state.add_argument("--disable", dest="enabled", action="store_const", const=False)
    revoke = gate.add("revoke-devices", _gate_revoke_devices, "cut off its enrolled terminals")
    revoke.add_argument("venue")
    revoke.add_argument("name")


def _right_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", choices=[p.name.lower() for p in EntryPolicy])
    parser.add_argument("--kind", choices=[k.name.lower() for k in RightKind])
    parser.add_argument("--seat")


def _rights_commands(commands: _Commands) -> None:
    rights = commands.noun("rights", "access rights")
    importing = rights.add("import", _rights_import, "import rights from CSV or JSON, all or none")
    importing.add_argument("file", help="a .csv (header line, zones separated by |) or a .json")
    create = rights.add("create", _rights_create, "create one access right")
    create.add_argument("--event", required=True)
    create.add_argument("--zones", type=_codes, required=True, help="Z1,Z2")
    create.add_argument("--holder", help="your reference of the person (customer number...)")
    create.add_argument("--secret", help="a code from another ticketing system (else EG1)")
    create.add_argument(
        "--rotating",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="shown only as a rotating code (default: as its event requires)",
    )
    _right_options(create)
    listing = rights.add("list", _rights_list, "access rights, oldest first")
    listing.add_argument("--event")
    listing.add_argument("--limit", type=int, default=100)
    show = rights.add("show", _rights_show, "one access right")
    show.add_argument("id")
    revoke = rights.add("revoke", _rights_revoke, "cancel an access right")
    revoke.add_argument("id")
    revoke.add_argument("--reason", required=True)
    transfer = rights.add("transfer", _rights_transfer, "give a right to another holder")
    transfer.add_argument("id")
    transfer.add_argument("--holder", required=True)
    rotating_ = rights.add("rotating", _rights_rotating,
                           "a right's rotating code material (holder's page, wallet)")  # fmt: skip
    rotating_.add_argument("right_id")
    link = rights.add("link", _holder_link, "a new holder's link to a rotating ticket")
    link.add_argument("id")
    unlink = rights.add("unlink", _rights_unlink, "end a right's holder's link")
    unlink.add_argument("id")
    wallet = rights.add("wallet", _rights_wallet, "the Google Wallet ticket (rotating barcode)")
    wallet.add_argument("id")
    wallet.add_argument("--out", required=True, metavar="FILE", help="the JSON to write")
    ticket = rights.add("ticket", _rights_ticket, "the ticket as an A6 PDF with its QR code")
    ticket.add_argument("id")
    ticket.add_argument("--out", required=True, metavar="FILE", help="the PDF to write")
    issue = commands.add("issue", _issue, "print a right's code and write its QR image(s)")
    issue.add_argument("id")
    issue.add_argument("--png", metavar="FILE", help="write the QR code as a PNG image")
    issue.add_argument("--svg", metavar="FILE", help="write the QR code as an SVG image")
    issue.add_argument(
        "--rotating",
        action="store_true",
        help="a rotating ticket: print a new holder's link (images: of the link)",
    )
    subscribe = commands.add("subscribe", _subscribe, "a season ticket: a right per event")
    subscribe.add_argument("--season", required=True)
    subscribe.add_argument("--holder", required=True)
    subscribe.add_argument("--zones", type=_codes, required=True, help="Z1,Z2")
    _right_options(subscribe)


def _blacklist_commands(commands: _Commands) -> None:
    blacklist = commands.noun("blacklist", "bans on an access right or on a person")
    add = blacklist.add("add", _blacklist_add, "ban a right or a holder")
    subject = add.add_mutually_exclusive_group(required=True)
    subject.add_argument("--right", metavar="ID", help="one access right")
    subject.add_argument("--holder", help="a person, with all their rights")
    add.add_argument("--reason", required=True)
    add.add_argument("--severity", type=int, choices=[1, 2, 3], default=2)
    add.add_argument("--from", dest="valid_from", metavar="ISO")
    add.add_argument("--until", dest="valid_until", metavar="ISO")
    listing = blacklist.add("list", _blacklist_list, "bans in force or to come")
    listing.add_argument("--holder", help="the person's own reference: their bans only")
    listing.add_argument("--search", help="a piece of a reference, a reason or a ban id")
    remove = blacklist.add("remove", _blacklist_remove, "lift a ban")
    remove.add_argument("ban_id")
    keys = commands.noun("keys", "the keys that sign EG1 codes")
    rotate = keys.add("rotate", _keys_rotate, "a new signing key (the first one too)")
    rotate.add_argument("--venue", help="that venue's own key (its venue admins may rotate it)")
    keys.add("list", _keys_list, "signing keys (public halves)")
    retire = keys.add("retire", _keys_retire, "stop gates trusting an older key")
    retire.add_argument("kid")
    rotation = commands.noun("rotation-key", "a venue's rotation keys (rotating codes)")
    rotate = rotation.add("rotate", _rotation_rotate, "a new rotation key for a venue")
    rotate.add_argument("venue")
    listed = rotation.add("list", _rotation_list, "a venue's rotation keys")
    listed.add_argument("venue")


def _rotation_rotate(server: SyncServer, args: argparse.Namespace) -> Output:
    key = server.call("POST", "venues", args.venue, "rotation-keys").json()
    text = (
        f"rotation key {key['rkid']} of {args.venue}: its gates receive it at their next sync; "
        "rotating codes are made with it from now on"
    )
    return Output(key, text)


def _rotation_list(server: SyncServer, args: argparse.Namespace) -> Output:
    keys = server.call("GET", "venues", args.venue, "rotation-keys").json()
    rows = [(k["rkid"], k["status"], _when(k["created_at"], args.venue)) for k in keys]
    return Output(keys, _table(["rkid", "status", "created"], rows))


def _rights_rotating(server: SyncServer, args: argparse.Namespace) -> Output:
    made = server.call("GET", "rights", args.right_id, "rotating").json()
    text = (
        f"right {made['right_id']}: rotating code under key {made['rkid']}, "
        f"{made['digits']} digits every {made['period_s']} s\n"
        f"secret (base16; the holder's only): {made['secret']}\n"
        f"wallet valuePattern: {made['value_pattern']}\n"
        f"now: {made['code']}"
    )
    return Output(made, text)


def _user_create(server: SyncServer, args: argparse.Namespace) -> Output:
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    body = {"name": args.name, "role": args.role, "venues": args.venue, "password": password}
    made = server.call("POST", "users", body=_given(body)).json()
    where = f", venues {', '.join(made['venues'])}" if made["venues"] else ""
    text = (
        f"user {made['name']} ({made['role']}{where}) created. API token, shown only now:\n"
        f"{made['token']}"
    )
    return Output(made, text)


def _user_list(server: SyncServer, _args: argparse.Namespace) -> Output:
    listed = server.call("GET", "users").json()
    rows = [(u["name"], u["role"], ",".join(u["venues"]) or "-", u["has_password"],
             u.get("kiosk_pin", False), u["disabled"]) for u in listed]  # fmt: skip
    header = ["user", "role", "venues", "password", "kiosk PIN", "disabled"]
    return Output(listed, _table(header, rows))


def _user_pin(server: SyncServer, args: argparse.Namespace) -> Output:
    if args.clear:
        server.call("DELETE", "users", args.name, "kiosk-pin")
        said = f"{args.name}: kiosk PIN taken away; the gates forget it at their next sync"
        return Output({"name": args.name, "kiosk_pin": False}, said)
    if args.pin_stdin:
        pin = sys.stdin.readline().strip()
    else:
        pin = getpass.getpass(f"kiosk PIN for {args.name} (4 to 12 digits): ")
        if getpass.getpass("again: ") != pin:
            raise AdminError("the two PINs differ")
    server.call("PUT", "users", args.name, "kiosk-pin", body={"pin": pin})
    text = (
        f"{args.name}: kiosk PIN set; sent (hashed) to the gates of their venues at their next "
        "sync, where it opens the supervisor panel under their name"
    )
    return Output({"name": args.name, "kiosk_pin": True}, text)


def _user_commands(commands: _Commands) -> None:
    user = commands.noun("user", "back-office accounts (admin only)")
    create = user.add("create", _user_create, "an account: its role, a venue admin's venues")
    create.add_argument("name")
    create.add_argument("--role", required=True,
                        choices=["admin", "venue_admin", "supervisor", "controller"])  # fmt: skip
    create.add_argument("--venue", action="append", default=[], metavar="CODE",
                        help="a venue a venue_admin manages, or whose gates a supervisor's or "
                        "controller's kiosk PIN opens (repeat for several)")  # fmt: skip
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="a password for the pages, read from the first line of stdin",
    )
    user.add("list", _user_list, "every account, its role and venues")
    pin = user.add("pin", _user_pin, "set (asked twice) or take away an account's kiosk PIN")
    pin.add_argument("name")
    pin.add_argument("--pin-stdin", action="store_true", help="read the PIN from stdin")
    pin.add_argument("--clear", action="store_true", help="take the PIN away")


def _monitoring_commands(commands: _Commands) -> None:
    scans = commands.add("scans", _scans, "scans uploaded by gates, newest first")
    for name in ("event", "gate", "zone", "reason"):
        scans.add_argument(f"--{name}")
    scans.add_argument("--since", metavar="ISO")
    scans.add_argument("--until", metavar="ISO")
    scans.add_argument("--limit", type=int, default=100)
    alerts = commands.add("alerts", _alerts, "alerts, newest first")
    alerts.add_argument("--open", action="store_true", help="only those not acknowledged")
    alerts.add_argument("--limit", type=int, default=100)
    held = commands.noun("quarantine", "scans a gate uploaded that the server did not believe")
    parsers = [held.add("list", _quarantine_list, "scans held, oldest first")]
    for verb, decision, said in (
        ("apply", "applied", "count them and move usage, as if believed"),
        ("discard", "discarded", "keep them for the record, never counted"),
    ):
        parser = held.add(verb, _quarantine_decide(decision), f"held scans: {said}")
        parser.add_argument("scan_ids", nargs="*", metavar="SCAN_ID")
        parser.add_argument("--all", action="store_true", help="every held scan (of --gate)")
        parsers.append(parser)
    for parser in parsers:
        parser.add_argument("--venue")
        parser.add_argument("--gate")
    export = commands.noun("export", "exports for the authorities")
    entries = export.add("entries", _export_entries, "CSV of entries per zone per time bucket")
    entries.add_argument("--event", required=True)
    entries.add_argument("--bucket", type=int, default=300, metavar="S", help="seconds (300)")
    entries.add_argument("--out", metavar="FILE", help="write the CSV there (else print it)")
    audit = commands.add("audit", _audit, "who did what, newest first")
    audit.add_argument("--action")
    audit.add_argument("--actor")
    audit.add_argument("--limit", type=int, default=100)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gate-admin",
        description="Entrix Gate back office: set up venues, events, gates and access rights on "
        "the sync server, issue QR codes, manage bans and keys, read scans, alerts and exports.",
        epilog="Exit status: 0 done, 1 refused by the server, 2 usage or connection error.",
    )
    _add_global_options(parser, with_defaults=True)
    common = argparse.ArgumentParser(add_help=False)
    _add_global_options(common, with_defaults=False)
    group = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    commands = _Commands(group, common)
    for add in (
        _venue_commands,
        _event_commands,
        _gate_commands,
        _rights_commands,
        _blacklist_commands,
        _user_commands,
        _monitoring_commands,
    ):
        add(commands)
    return parser


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        # argparse exits on --help (0) and on usage errors (2): return the status instead, so
        # that callers in the same process get it too.
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        with SyncServer(args.server, args.token) as server:
            times = _times.set(LocalTimes(server, utc=args.utc))
            try:
                output = args.run(server, args)
            finally:
                _times.reset(times)
    except AdminError as exc:
        if args.json and exc.answer is not None:
            _print_json(exc.answer)
        print(f"gate-admin: {exc}", file=sys.stderr)
        return exc.exit_code
    try:
        if args.json:
            _print_json(output.data)
        else:
            print(output.text)
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as Unix tools do.
        sys.stderr.close()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
