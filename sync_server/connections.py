"""The server's connections (issue 15): descriptors enough for every gate and stream, and no
socket that can sit on one forever.

- **Descriptors.** Debian's default soft limit is 1,024 open files, and neither Python nor
  uvicorn raises it: ~1,000 open event streams then stop the server from answering anything.
  At start the soft limit is raised to the hard one (``LimitNOFILE=`` in the unit sets that),
  logged, and a warning given below :data:`WANTED_FILES`.
- **Headers in time.** uvicorn closes an idle keep-alive connection, but not one that never
  finishes its request's headers (a slow-loris socket): :class:`HeaderTimeoutProtocol` closes a
  connection whose headers are not in within :data:`HEADER_TIMEOUT_S` of its opening or of its
  next request's first byte.
- **A share per address.** One address holds at most ``connections_per_address`` connections at
  once; beyond, a new one is closed as soon as it is accepted, so that a flood from one host
  never takes the descriptors the gates need. The reverse proxy's addresses
  (``FORWARDED_ALLOW_IPS``, which carry everyone's traffic) are not counted.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
from collections import Counter
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from sync_server.core.config import get_settings

log = logging.getLogger("entrix.server")

WANTED_FILES = 4_096
HEADER_TIMEOUT_S = 10.0
IDLE_TIMEOUT_S = 5
"""uvicorn's keep-alive: an idle connection between two requests is closed after this."""


def raise_file_limit() -> int:
    """Raise this process's open-files soft limit to its hard limit; returns the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the open-files limit from %d: %s", soft, exc)
    if soft < WANTED_FILES:
        log.warning(
            "open-files limit %d is below %d: a few hundred gates and dashboards can exhaust it "
            "(LimitNOFILE= in entrix-server.service, or ulimit -n)", soft, WANTED_FILES,
        )  # fmt: skip
    else:
        log.info("open-files limit: %d", soft)
    return soft


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, which also closes a connection whose request headers do not
    arrive in time."""

    _per_address: ClassVar[Counter[str]] = Counter()
    """Open connections per peer address, in this process (one event loop: no lock needed)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._address: str | None = None

    def _await_headers(self) -> None:
        self._stop_header_timer()
        self._header_timer = self.loop.call_later(HEADER_TIMEOUT_S, self._headers_late)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        peer = transport.get_extra_info("peername")
        address = peer[0] if isinstance(peer, tuple) and peer else None
        proxies = _proxies()
        if address is not None and address not in proxies and "*" not in proxies:
            if self._per_address[address] >= get_settings().connections_per_address:
                transport.abort()  # its descriptor is back at once
                return
            self._per_address[address] += 1
            self._address = address
        super().connection_made(transport)
        self._await_headers()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._await_headers()

    def on_headers_complete(self) -> None:
        self._stop_header_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        if self._address is not None:
            self._per_address[self._address] -= 1
            if self._per_address[self._address] <= 0:
                del self._per_address[self._address]
            self._address = None
        if self.transport is None:
            return  # refused at connection_made: uvicorn never knew it
        super().connection_lost(exc)


def _proxies() -> frozenset[str]:
    """The reverse proxies' addresses, as uvicorn is told them (``FORWARDED_ALLOW_IPS``)."""
    given = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
    return frozenset(part.strip() for part in given.split(",") if part.strip())
