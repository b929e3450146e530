"""The TLS a gate trusts (issue 15): the server it enrolled with, by the pins it was given.

Without pins, the system's certificate authorities, as any HTTPS client. With pins (``[gate]
server_pins``, from the installer's enrollment link), only a server whose certificate's public
key is one of them: the pins *are* the trust, given out of band by the back office, so a
certificate authority, a proxy on the way or a self-signed certificate changes nothing. Two pins
are allowed at once, for a certificate change without stranding gates (docs/deploy.md).
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence

from shared.pinning import spki_pin


class PinMismatch(ssl.SSLError):
    """The server's certificate is not one this gate was told to trust."""


def verify_for(pins: Sequence[str]) -> ssl.SSLContext | bool:
    """What httpx's ``verify`` takes for a server with these pins (True: the system's CAs)."""
    if not pins:
        return True
    context = ssl.create_default_context()
    context.check_hostname = False  # the pin names the server; a hostname check adds nothing
    context.verify_mode = ssl.CERT_NONE
    allowed = frozenset(pins)

    class Pinned(ssl.SSLSocket):
        def do_handshake(self, block: bool = False) -> None:
            super().do_handshake(block)
            presented = self.getpeercert(binary_form=True)
            pin = spki_pin(presented) if presented else "none"
            if pin not in allowed:
                self.close()
                raise PinMismatch(
                    f"the server's certificate ({pin}) is not one this gate enrolled with "
                    f"({', '.join(sorted(allowed))}): a wrong server, or a certificate changed "
                    "without its pin (docs/deploy.md, 'Changing the certificate')"
                )

    context.sslsocket_class = Pinned
    return context
