"""Pinning the server a gate enrolled with (issue 15): the SHA-256 of its certificate's public
key (SPKI), as ``sha256/<base64>`` (the form HPKP and curl's ``--pinnedpubkey`` use), and the
enrollment link an installer shows to the terminal (a QR code of server, code and pins)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PIN_PREFIX = "sha256/"
LINK_PREFIX = "ENTRIX-ENROLL:"
SEPARATOR = "#"


def spki_pin(certificate: bytes) -> str:
    """The pin of a certificate (DER or PEM): its public key's SHA-256."""
    cert = (
        x509.load_pem_x509_certificate(certificate)
        if certificate.lstrip().startswith(b"-----BEGIN")
        else x509.load_der_x509_certificate(certificate)
    )
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return PIN_PREFIX + base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


def is_pin(text: str) -> bool:
    if not text.startswith(PIN_PREFIX):
        return False
    try:
        return len(base64.b64decode(text[len(PIN_PREFIX) :], validate=True)) == 32
    except ValueError:
        return False


@dataclass(frozen=True)
class EnrollmentLink:
    server: str
    code: str
    pins: tuple[str, ...] = ()

    def text(self) -> str:
        return LINK_PREFIX + SEPARATOR.join((self.server, self.code, *self.pins))

    @classmethod
    def parse(cls, text: str) -> EnrollmentLink:
        if not text.startswith(LINK_PREFIX):
            raise ValueError(f"an enrollment link starts with {LINK_PREFIX}")
        server, code, *pins = text[len(LINK_PREFIX) :].strip().split(SEPARATOR)
        if not server.startswith(("https://", "http://")) or not code:
            raise ValueError("an enrollment link holds the server's URL and a code")
        bad = [p for p in pins if not is_pin(p)]
        if bad:
            raise ValueError(f"not a pin: {bad[0][:60]!r} (sha256/ and 32 bytes in base64)")
        return cls(server, code, tuple(pins))
