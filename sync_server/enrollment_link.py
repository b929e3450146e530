"""What a new terminal needs to enroll: the server's URL as the gates reach it, the pins of its
TLS certificate, and the one-time code, as one link (and its QR code). ``gate-admin`` prints it
and the back office's gate page shows it; both build it here."""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

from shared.pinning import EnrollmentLink, is_pin, spki_pin

PLAIN_HTTP = "none (plain HTTP: put TLS in front, docs/deploy.md)"


class PinError(ValueError):
    """A pin given is not one, or the server's certificate cannot be read."""


def pins_for(url: str, given: list[str] | None = None) -> tuple[list[str], str]:
    """The pins gates will trust for ``url``, and where they came from: those given, else the
    certificate the server at ``url`` presents to this machine (none over plain HTTP)."""
    pins = list(given or [])
    bad = [p for p in pins if not is_pin(p)]
    if bad:
        raise PinError(f"{bad[0][:60]!r}: a pin is sha256/ and 32 bytes in base64")
    if pins:
        return pins, "given"
    parts = urlsplit(url)
    if parts.scheme != "https":
        return [], PLAIN_HTTP
    try:
        pem = ssl.get_server_certificate((parts.hostname or "", parts.port or 443), timeout=10)
    except OSError as exc:
        raise PinError(f"cannot read the certificate of {url}: {exc}") from exc
    return [spki_pin(pem.encode())], f"the certificate {url} presents to this machine"


def link(url: str, code: str, pins: list[str]) -> str:
    return EnrollmentLink(url.rstrip("/"), code, tuple(pins)).text()
