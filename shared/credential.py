"""The EG1 credential: ``EG1:`` + base45(COSE_Sign1(Ed25519, CWT claims)).

The byte layout is in docs/credential-format.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import UnionType
from typing import Any

import base45
import cbor2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shared.cose import ALG_EDDSA, HEADER_CRIT, HEADER_KID, decode_sign1, loads_cbor, sign1
from shared.errors import MalformedCredential, UnknownKey, shown
from shared.model import AccessRight, EntryPolicy, RightKind

PREFIX = "EG1:"
MAX_CODE_LENGTH = 4296
"""The most characters a QR code holds in alphanumeric mode; anything longer is not ours."""
KID_LENGTH = 8
RIGHT_ID_LENGTH = 16

# CWT claim keys (RFC 8392) and our private claims (negative keys).
CLAIM_ISS = 1
CLAIM_EXP = 4
CLAIM_NBF = 5
CLAIM_IAT = 6
CLAIM_CTI = 7
CLAIM_EVENT = -1
CLAIM_ZONES = -2
CLAIM_HOLDER = -3
CLAIM_POLICY = -4
CLAIM_KIND = -5
CLAIM_SEAT = -6
CLAIM_NAME = -7
CLAIM_ROTATING = -8
"""``true``: the right is shown only as a rotating code (``shared.rotating``); its static code
is refused (``static_code``). Absent otherwise. Gates older than protocol 3 ignore it."""


@dataclass(frozen=True, slots=True)
class Credential:
    """The content of an EG1 code: who issued it, when, and the access right it carries."""

    issuer: str
    issued_at: int
    right: AccessRight

    def to_claims(self) -> dict[int, Any]:
        r = self.right
        claims: dict[int, Any] = {
            CLAIM_ISS: self.issuer,
            CLAIM_EXP: r.expires,
            CLAIM_NBF: r.not_before,
            CLAIM_IAT: self.issued_at,
            CLAIM_CTI: r.right_id,
            CLAIM_EVENT: r.event,
            CLAIM_ZONES: list(r.zones),
            CLAIM_POLICY: int(r.policy),
            CLAIM_KIND: int(r.kind),
        }
        if r.holder is not None:
            claims[CLAIM_HOLDER] = r.holder
        if r.seat is not None:
            claims[CLAIM_SEAT] = r.seat
        if r.display_name is not None:
            claims[CLAIM_NAME] = r.display_name
        if r.rotating:
            claims[CLAIM_ROTATING] = True
        return claims

    @classmethod
    def from_claims(cls, claims: Mapping[Any, Any]) -> Credential:
        """Validate a decoded claims map strictly; unknown claims are ignored (forward compat)."""
        right_id = _claim(claims, CLAIM_CTI, bytes)
        if len(right_id) != RIGHT_ID_LENGTH:
            raise MalformedCredential(f"claim cti must be {RIGHT_ID_LENGTH} bytes")
        zones = _claim(claims, CLAIM_ZONES, list | tuple)
        if not zones or not all(isinstance(z, str) and z for z in zones):
            raise MalformedCredential("claim -2 (zones) must be a non-empty list of zone codes")
        try:
            policy = EntryPolicy(_claim(claims, CLAIM_POLICY, int))
            kind = RightKind(_claim(claims, CLAIM_KIND, int))
        except ValueError as exc:
            detail = str(exc)[:80]
            raise MalformedCredential(f"unknown entry policy or right kind: {detail}") from exc
        right = AccessRight(
            right_id=right_id,
            event=_claim(claims, CLAIM_EVENT, str),
            zones=tuple(zones),
            not_before=_claim(claims, CLAIM_NBF, int),
            expires=_claim(claims, CLAIM_EXP, int),
            policy=policy,
            kind=kind,
            holder=_claim(claims, CLAIM_HOLDER, bytes, optional=True),
            seat=_claim(claims, CLAIM_SEAT, str, optional=True),
            display_name=_claim(claims, CLAIM_NAME, str, optional=True),
            rotating=_rotating_claim(claims),
        )
        return cls(
            issuer=_claim(claims, CLAIM_ISS, str),
            issued_at=_claim(claims, CLAIM_IAT, int),
            right=right,
        )


def _claim(
    claims: Mapping[Any, Any], key: int, kind: type | UnionType, *, optional: bool = False
) -> Any:
    value = claims.get(key)
    if value is None and optional:
        return None
    # bool is an int in Python but never a valid claim value here.
    if not isinstance(value, kind) or isinstance(value, bool):
        raise MalformedCredential(f"claim {key} has the wrong type")
    # CBOR's integers fit in 64 bits; a larger one came as a bignum (tag 2 or 3): not an int.
    if isinstance(value, int) and not -(2**64) <= value < 2**64:
        raise MalformedCredential(f"claim {key} is a bignum, not a CBOR integer")
    return value


def _rotating_claim(claims: Mapping[Any, Any]) -> bool:
    value = claims.get(CLAIM_ROTATING)
    if value is not None and value is not True:
        raise MalformedCredential(f"claim {CLAIM_ROTATING} (rotating) is true or absent")
    return value is True


def key_id(public_key: Ed25519PublicKey | bytes) -> bytes:
    """kid = first 8 bytes of SHA-256 of the raw 32-byte public key."""
    raw = public_key if isinstance(public_key, bytes) else raw_public_key(public_key)
    return hashlib.sha256(raw).digest()[:KID_LENGTH]


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


class KeyRing:
    """Public keys a gate trusts, by kid. Several may be valid at once (rotation)."""

    def __init__(self, keys: Iterable[Ed25519PublicKey | bytes] = ()) -> None:
        self._keys: dict[bytes, Ed25519PublicKey] = {}
        for key in keys:
            self.add(key)

    def add(self, key: Ed25519PublicKey | bytes) -> bytes:
        if isinstance(key, bytes):
            try:
                key = Ed25519PublicKey.from_public_bytes(key)
            except ValueError as exc:
                raise ValueError("an Ed25519 public key is 32 raw bytes") from exc
        kid = key_id(key)
        self._keys[kid] = key
        return kid

    def remove(self, kid: bytes) -> None:
        self._keys.pop(kid, None)

    def get(self, kid: bytes) -> Ed25519PublicKey | None:
        return self._keys.get(kid)

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def issue(credential: Credential, private_key: Ed25519PrivateKey) -> str:
    """Sign a credential and return the text to put in a QR code (server side only)."""
    kid = key_id(private_key.public_key())
    payload = cbor2.dumps(credential.to_claims(), canonical=True)
    encoded: bytes = base45.b45encode(sign1(payload, private_key, kid=kid).encode())
    return PREFIX + encoded.decode("ascii")


def is_eg1(code: str) -> bool:
    return code.startswith(PREFIX)


def verify(code: str | bytes, keyring: KeyRing) -> Credential:
    """Turn scanned text into a trusted credential, or raise a :class:`CredentialError`.

    Order: shape, deterministic encoding and algorithm (malformed) → key (unknown_key) →
    signature (invalid_signature) → claims (malformed). Whitespace a scanner adds around the
    code is the caller's to strip. Claims are read only after the signature holds, so a forged
    payload never reaches the parser that trusts it.
    """
    text = _as_text(code)
    if not text.startswith(PREFIX):
        raise MalformedCredential("an EG1 code starts with 'EG1:'")
    body = text[len(PREFIX) :]
    if not BASE45_ALPHABET.issuperset(body):
        raise MalformedCredential("an EG1 code is the base45 alphabet only (no newline, no a-z)")
    try:
        raw = base45.b45decode(body)
    except (ValueError, KeyError, IndexError) as exc:
        raise MalformedCredential(f"not valid base45: {str(exc)[:200]}") from exc
    message = decode_sign1(raw)
    # One encoding for one message: duplicate keys (the last would win, for alg too), indefinite
    # or longer-than-needed lengths, unsorted keys, bignums standing for integers are refused.
    _deterministic(raw, "the COSE message", message.as_item())
    _deterministic(message.protected_bytes, "the protected header", message.protected)
    _integer_keys(message.protected, "protected header")
    if message.unprotected:
        raise MalformedCredential("an EG1 code carries nothing in the unprotected header")
    if type(message.alg) is not int or message.alg != ALG_EDDSA:  # not -8.0, not a bignum
        raise MalformedCredential(f"EG1 is signed with EdDSA (-8), not {shown(message.alg)}")
    if HEADER_CRIT in message.protected:
        # RFC 9052 3.1: a verifier must understand every critical label; EG1 defines none.
        raise MalformedCredential("critical header parameters are not supported")
    kid = message.protected.get(HEADER_KID)
    if not isinstance(kid, bytes) or len(kid) != KID_LENGTH:
        raise MalformedCredential("an EG1 protected header carries an 8-byte kid (label 4)")
    public_key = keyring.get(kid)
    if public_key is None:
        raise UnknownKey(f"no trusted key with kid {kid.hex()}")
    message.verify(public_key)
    claims = _deterministic(message.payload, "the claims")
    if not isinstance(claims, Mapping):
        raise MalformedCredential("the payload must be a CWT claims map")
    _integer_keys(claims, "claims")
    return Credential.from_claims(claims)


BASE45_ALPHABET = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def _deterministic(data: bytes, what: str, decoded: Any = None) -> Any:
    """The item ``data`` encodes (``decoded``, if already known), which must be its
    deterministic encoding (RFC 8949 4.2.1, as our issuer writes it)."""
    item = loads_cbor(data) if decoded is None else decoded
    try:
        again = cbor2.dumps(item, canonical=True)
    except (cbor2.CBOREncodeError, TypeError, ValueError) as exc:
        raise MalformedCredential(f"{what}: not re-encodable CBOR") from exc
    if again != data:
        raise MalformedCredential(f"{what} is not in deterministic CBOR")
    return item


def _integer_keys(mapping: Mapping[Any, Any], what: str) -> None:
    if any(type(key) is not int for key in mapping):  # not 1.0, not true
        raise MalformedCredential(f"the {what} map has keys that are not integers")


def _as_text(code: str | bytes) -> str:
    if isinstance(code, bytes):
        try:
            code = code.decode("ascii")
        except UnicodeDecodeError as exc:
            raise MalformedCredential("an EG1 code is ASCII text") from exc
    if len(code) > MAX_CODE_LENGTH:
        raise MalformedCredential(f"code longer than {MAX_CODE_LENGTH} characters")
    return code
