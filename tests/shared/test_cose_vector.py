"""Interop: the COSE working group's Ed25519 COSE_Sign1 example verifies with our code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.cose import ALG_EDDSA, decode_sign1, sig_structure
from shared.errors import InvalidSignature


@pytest.fixture(scope="module")
def vector(team_shared: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (team_shared / "vectors" / "cose" / "eddsa-sig-01.json").read_text()
    )
    return data


def _public_key(vector: dict[str, Any]) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(
        bytes.fromhex(vector["input"]["sign0"]["key"]["x_hex"])
    )


def test_vector_verifies(vector: dict[str, Any]) -> None:
    message = decode_sign1(bytes.fromhex(vector["output"]["cbor"]))
    assert message.alg == ALG_EDDSA
    assert message.kid == b"11"  # in the unprotected header, as the vector puts it
    assert message.payload == vector["input"]["plaintext"].encode()
    message.verify(_public_key(vector))


def test_our_sig_structure_is_the_vectors_to_be_signed(vector: dict[str, Any]) -> None:
    message = decode_sign1(bytes.fromhex(vector["output"]["cbor"]))
    expected = bytes.fromhex(vector["intermediates"]["ToBeSign_hex"])
    assert message.to_be_signed() == expected
    assert sig_structure(message.protected_bytes, message.payload) == expected


def test_our_signature_equals_the_vectors(vector: dict[str, Any]) -> None:
    """Ed25519 is deterministic: signing the vector's Sig_structure gives its exact signature."""
    private = Ed25519PrivateKey.from_private_bytes(
        bytes.fromhex(vector["input"]["sign0"]["key"]["d_hex"])
    )
    message = decode_sign1(bytes.fromhex(vector["output"]["cbor"]))
    assert private.sign(message.to_be_signed()) == message.signature


def test_reencoding_is_byte_identical(vector: dict[str, Any]) -> None:
    raw = bytes.fromhex(vector["output"]["cbor"])
    assert decode_sign1(raw).encode() == raw


def test_every_flipped_byte_of_payload_or_signature_fails(vector: dict[str, Any]) -> None:
    raw = bytes.fromhex(vector["output"]["cbor"])
    message = decode_sign1(raw)
    public_key = _public_key(vector)
    payload_at = raw.index(message.payload)
    signature_at = raw.index(message.signature)
    positions = [*range(payload_at, payload_at + len(message.payload))]
    positions += [*range(signature_at, signature_at + len(message.signature))]
    for position in positions:
        altered = bytearray(raw)
        altered[position] ^= 0x01
        with pytest.raises(InvalidSignature):
            decode_sign1(bytes(altered)).verify(public_key)
