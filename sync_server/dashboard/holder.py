"""The holder's page of a rotating ticket, ``/t/<token>`` (issue 18): the ticket's rotating QR
code, drawn by the phone itself and changing every period, offline too.

The page carries what the phone needs to make the codes (the right's signed credential, its own
TOTP secret, the rotation key's id: ``shared.rotating``) and draws them with the browser's own
HMAC (WebCrypto) and a vendored QR encoder (``static/vendor``). A service worker (``/t/sw.js``)
keeps the page and its scripts so that it opens again with the network off. The page asks
``/t/<token>/clock`` for the server's time every minute while online: it makes the codes on the
server's time (a phone's wrong clock is told, not trusted) and learns there that the link has
ended (a transfer, a revocation, a new link), upon which it shows no code any more.

No personal data beyond what the right carries: event, venue, zones, seat, and the holder's name
only if the right has one. The page is not indexed, sends no referrer, and is cached only by the
holder's own service worker.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup

from shared import rotating
from shared.i18n import AGES, Language
from sync_server.api.deps import SessionDep, SettingsDep
from sync_server.core.limits import guesses
from sync_server.dashboard import render
from sync_server.dashboard.auth import request_language
from sync_server.db import writes
from sync_server.errors import Conflict
from sync_server.models import Venue
from sync_server.services import holder_links, layouts, rights, rotation

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
SERVICE_WORKER = STATIC / "holder-sw.js"
VENDORED = {"vendor/qrcode-generator-2.0.4.js": "79ec86f82856005b1c887905cfccfcfb"
            "ec3821ca61c7fd5a952faa5f778f791c"}  # fmt: skip
"""Third-party files served as they were published (npm ``qrcode-generator`` 2.0.4, MIT):
their SHA-256, held by a test."""
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; worker-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "private, no-cache",
}
"""The token is in the address: never sent on as a referrer, never indexed, kept by no shared
cache. ``no-cache``: the phone asks again each time it can (a dead link must say so)."""
CLOCK_EVERY_S = 60
TokenPath = Annotated[str, PathParam(max_length=64)]
PAGE_WORDS = (
    "holder_offline",
    "holder_clock_ahead",
    "holder_clock_behind",
    "holder_dead",
    "holder_needs_https",
)
"""What the page's script says, in the page's language."""
END_WORDS = {
    rights.TRANSFERRED: "holder_dead_transferred",
    holder_links.REPLACED: "holder_dead_replaced",
    holder_links.SWITCHED_OFF: "holder_dead_link",
}
"""Why a link ended (``services.holder_links``), in the holder's words; else: cancelled."""


_TOKEN_IN_PATH = re.compile(r"/t/[A-Za-z0-9_-]{43}")


class RedactTokens(logging.Filter):
    """Keeps holders' tokens out of the access log: ``/t/<token>`` is logged as ``/t/…``
    (whoever reads the logs would otherwise hold every ticket's link)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_PATH.sub("/t/…", a) if isinstance(a, str) else a for a in record.args
            )
        return True


@router.get("/t/sw.js")
def service_worker() -> Response:
    """The holder pages' service worker; its scope is ``/t/``."""
    return Response(
        SERVICE_WORKER.read_bytes(),
        media_type="text/javascript",
        headers={**HEADERS, "Service-Worker-Allowed": holder_links.PATH},
    )


@router.get("/t/{token}/clock")
def clock(token: TokenPath, request: Request, session: SessionDep) -> Response:
    """The server's time (ms), and whether the link still shows the ticket (410 when not)."""
    opened = _opened(token, request, session, note=False)
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    if opened is None:
        return JSONResponse({"now_ms": now_ms}, status_code=404, headers=HEADERS)
    return JSONResponse(
        {"now_ms": now_ms, "live": opened.usable},
        status_code=200 if opened.usable else 410,
        headers={**HEADERS, "Cache-Control": "no-store"},
    )


@router.get("/t/{token}")
@writes
def holder_page(
    token: TokenPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    """The ticket's page: its rotating QR code, event, zones, seat; or why it shows none."""
    say = render.speakers()[request_language(request, lang)]
    opened = _opened(token, request, session, note=True)
    if opened is None:
        return _page(say, "holder_unknown", status_code=404)
    if not opened.usable:
        ended = opened.link.revoked_reason or opened.right.revoked_reason or ""
        return _page(say, END_WORDS.get(ended, "holder_dead_revoked"), status_code=410)
    right, event = opened.right, opened.event
    try:
        made = rotation.material(
            session, right=right, event=event, passphrase=settings.key_passphrase
        )
    except Conflict:  # no rotation key (or signing key) at the venue yet
        session.rollback()
        return _page(say, "holder_not_ready", status_code=503)
    session.commit()  # the opening noted
    venue = session.get(Venue, event.venue_id)
    assert venue is not None
    names = {z.code: z.name for z in layouts.zones_of(session, layouts.of_event(session, event))}
    material = {
        "rkid": made.rkid,
        "secret": made.secret.hex().upper(),
        "credential": made.credential,
        "period_s": rotating.PERIOD_S,
        "digits": rotating.DIGITS,
        "server_ms": int(datetime.now(UTC).timestamp() * 1000),
        "clock_url": f"{holder_links.PATH}{token}/clock",
        "clock_every_s": CLOCK_EVERY_S,
        "words": {key: str(say.t(key, by="{by}")) for key in PAGE_WORDS},
        "ages": {key: AGES[key][say.language] for key in ("age_s", "age_min")},
    }
    return _page(
        say,
        None,
        material=_json_script(material),
        venue_name=venue.name,
        event_name=event.name,
        starts_at=datetime.fromtimestamp(event.starts_at, UTC),
        timezone=venue.timezone,
        zone_names=[names.get(z, z) for z in right.zones],
        seat=right.seat,
        display_name=right.display_name,
        period_s=rotating.PERIOD_S,
        here=f"{holder_links.PATH}{token}",
    )


def _opened(
    token: str, request: Request, session: SessionDep, *, note: bool
) -> holder_links.Opened | None:
    """The link, or None for a token that names none (counted as a guess per address)."""
    client = request.client.host if request.client else ""
    guesses().check(client)
    if not _is_token(token):
        guesses().failed(client)
        return None
    opened = holder_links.open_link(session, token, note=note)
    if opened is None:
        guesses().failed(client)
    return opened


def _is_token(token: str) -> bool:
    return len(token) == holder_links.TOKEN_LENGTH and all(
        c.isascii() and (c.isalnum() or c in "-_") for c in token
    )


def _json_script(data: dict[str, Any]) -> Markup:
    """Data for the page's script, safe inside ``<script type="application/json">``."""
    text = json.dumps(data, ensure_ascii=True).replace("<", "\\u003c").replace(">", "\\u003e")
    return Markup(text)  # noqa: S704 (JSON with every < and > escaped)


def _page(
    say: render.Speaker, ended: str | None, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    html = render.page(
        "holder.html",
        say=say,
        ended=ended,
        languages=list(Language),
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=HEADERS)
