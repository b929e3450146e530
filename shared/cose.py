"""COSE_Sign1 (RFC 9052, section 4.2) with EdDSA over Ed25519, the only algorithm EG1 uses.

A single algorithm is a few lines over cbor2 and cryptography; a general COSE library would add
per-message overhead on the gate's hot path and algorithms we must then refuse anyway.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.errors import InvalidSignature, MalformedCredential, shown

COSE_SIGN1_TAG = 18
HEADER_ALG = 1
HEADER_CRIT = 2
HEADER_KID = 4
ALG_EDDSA = -8
ED25519_SIGNATURE_LENGTH = 64

# What cbor2 raises on hostile input: its own errors and a few builtins from inside the decoder.
# The list stays closed so that a genuine bug elsewhere is never mistaken for a malformed code.
_CBOR_FAILURES = (
    cbor2.CBORError,
    ValueError,
    TypeError,
    LookupError,
    OverflowError,
    RecursionError,
    MemoryError,
    EOFError,
)


def loads_cbor(data: bytes) -> Any:
    """Decode one CBOR item, refusing trailing bytes and mapping every decoder failure."""
    stream = io.BytesIO(data)
    try:
        item = cbor2.CBORDecoder(stream).decode()
    except _CBOR_FAILURES as exc:
        raise MalformedCredential(f"not valid CBOR: {str(exc)[:200]}") from exc
    if stream.tell() != len(data):
        raise MalformedCredential("trailing bytes after the CBOR item")
    return item


def sig_structure(protected: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """The bytes actually signed: ``["Signature1", protected, external_aad, payload]``."""
    return cbor2.dumps(["Signature1", protected, external_aad, payload])


@dataclass(frozen=True, slots=True)
class Sign1Message:
    """A decoded COSE_Sign1 message. ``protected_bytes`` is kept verbatim: it is what was signed."""

    protected_bytes: bytes
    protected: dict[int, Any]
    unprotected: dict[Any, Any]
    payload: bytes
    signature: bytes

    def as_item(self) -> cbor2.CBORTag:
        """The message as the CBOR item it was decoded from."""
        return cbor2.CBORTag(
            COSE_SIGN1_TAG, [self.protected_bytes, self.unprotected, self.payload, self.signature]
        )

    @property
    def alg(self) -> Any:
        return self.protected.get(HEADER_ALG)

    @property
    def kid(self) -> bytes | None:
        kid = self.protected.get(HEADER_KID, self.unprotected.get(HEADER_KID))
        return kid if isinstance(kid, bytes) else None

    def to_be_signed(self, external_aad: bytes = b"") -> bytes:
        return sig_structure(self.protected_bytes, self.payload, external_aad)

    def verify(self, public_key: Ed25519PublicKey, external_aad: bytes = b"") -> None:
        """Raise :class:`InvalidSignature` unless the signature is the key's over this message."""
        if type(self.alg) is not int or self.alg != ALG_EDDSA:  # not -8.0, not a bignum
            raise MalformedCredential(
                f"unsupported COSE algorithm {shown(self.alg)}, expected EdDSA (-8)"
            )
        try:
            public_key.verify(self.signature, self.to_be_signed(external_aad))
        except _CryptoInvalidSignature as exc:
            raise InvalidSignature("the signature does not match the content") from exc

    def encode(self) -> bytes:
        return cbor2.dumps(
            cbor2.CBORTag(
                COSE_SIGN1_TAG,
                [self.protected_bytes, self.unprotected, self.payload, self.signature],
            )
        )


def decode_sign1(data: bytes) -> Sign1Message:
    """Parse a tagged COSE_Sign1 message; any deviation from RFC 9052's shape is malformed."""
    item = loads_cbor(data)
    if not isinstance(item, cbor2.CBORTag) or item.tag != COSE_SIGN1_TAG:
        raise MalformedCredential("not a COSE_Sign1 message (CBOR tag 18 expected)")
    value = item.value
    # cbor2 decodes the content of a tag as immutable containers (tuple, frozendict).
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise MalformedCredential("COSE_Sign1 must be an array of 4 items")
    protected_bytes, unprotected, payload, signature = value
    if not isinstance(protected_bytes, bytes):
        raise MalformedCredential("COSE protected header must be a byte string")
    if not isinstance(unprotected, Mapping):
        raise MalformedCredential("COSE unprotected header must be a map")
    if not isinstance(payload, bytes):
        raise MalformedCredential("COSE payload must be an attached byte string")
    if not isinstance(signature, bytes) or len(signature) != ED25519_SIGNATURE_LENGTH:
        raise MalformedCredential("COSE signature must be 64 bytes (Ed25519)")
    protected: Any = loads_cbor(protected_bytes) if protected_bytes else {}
    if not isinstance(protected, Mapping):
        raise MalformedCredential("COSE protected header must encode a map")
    return Sign1Message(protected_bytes, dict(protected), dict(unprotected), payload, signature)


def sign1(payload: bytes, private_key: Ed25519PrivateKey, *, kid: bytes) -> Sign1Message:
    """Sign ``payload`` as COSE_Sign1, protected header ``{1: -8, 4: kid}``, none unprotected."""
    protected_bytes = cbor2.dumps({HEADER_ALG: ALG_EDDSA, HEADER_KID: kid})
    signature = private_key.sign(sig_structure(protected_bytes, payload))
    return Sign1Message(
        protected_bytes, {HEADER_ALG: ALG_EDDSA, HEADER_KID: kid}, {}, payload, signature
    )
