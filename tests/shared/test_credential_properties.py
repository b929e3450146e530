"""Property tests of the EG1 credential: round trips, tampering, and hostile input."""

from __future__ import annotations

import base45
import cbor2
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shared.cose import decode_sign1, sig_structure
from shared.credential import (
    PREFIX,
    Credential,
    KeyRing,
    issue,
    key_id,
    raw_public_key,
    verify,
)
from shared.decision import decide
from shared.errors import CredentialError, InvalidSignature, MalformedCredential, UnknownKey
from shared.model import AccessRight, EntryPolicy, RightKind
from shared.reasons import Reason
from tests.support.world import GATES, KEY, KEY_FOREIGN, NOW, World

RING = KeyRing([KEY.public_key()])
BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
CREDENTIAL_ERRORS = (MalformedCredential, UnknownKey, InvalidSignature)

ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
short_text = st.text(min_size=1, max_size=24)
credentials = st.builds(
    Credential,
    issuer=short_text,
    issued_at=ints,
    right=st.builds(
        AccessRight,
        right_id=st.binary(min_size=16, max_size=16),
        event=short_text,
        zones=st.lists(short_text, min_size=1, max_size=5).map(tuple),
        not_before=ints,
        expires=ints,
        policy=st.sampled_from(EntryPolicy),
        kind=st.sampled_from(RightKind),
        holder=st.none() | st.binary(min_size=1, max_size=32),
        seat=st.none() | short_text,
        display_name=st.none() | st.text(max_size=40),
        secret=st.none(),
        rotating=st.booleans(),
    ),
)


@pytest.fixture(scope="module")
def valid_code() -> str:
    right = AccessRight(
        right_id=bytes(range(16)),
        event="DERBY",
        zones=("NORD-A",),
        not_before=1_795_000_000,
        expires=1_795_020_000,
        holder=b"\x01" * 8,
        seat="NORD-A-R12-7",
    )
    return issue(Credential("RADES", 1_794_990_000, right), KEY)


@given(credentials)
def test_any_credential_round_trips(credential: Credential) -> None:
    assert verify(issue(credential, KEY), RING) == credential


@given(credentials)
def test_codes_use_only_the_qr_alphanumeric_alphabet(credential: Credential) -> None:
    text = issue(credential, KEY)
    assert text.startswith(PREFIX)
    assert set(text) <= set(BASE45_ALPHABET)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(data=st.data())
def test_any_changed_character_is_refused(valid_code: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(min_value=0, max_value=len(valid_code) - 1))
    replacement = data.draw(st.characters().filter(lambda c: c != valid_code[position]))
    altered = valid_code[:position] + replacement + valid_code[position + 1 :]
    with pytest.raises(CREDENTIAL_ERRORS):
        verify(altered, RING)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(data=st.data())
def test_any_changed_byte_of_the_cose_message_is_refused(
    valid_code: str, data: st.DataObject
) -> None:
    raw = bytearray(base45.b45decode(valid_code[len(PREFIX) :]))
    position = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    raw[position] ^= data.draw(st.integers(min_value=1, max_value=255))
    altered = PREFIX + base45.b45encode(bytes(raw)).decode()
    with pytest.raises(CREDENTIAL_ERRORS):
        verify(altered, RING)


def test_every_single_byte_change_is_refused_exhaustively(valid_code: str) -> None:
    """Not only a sample: each byte of the message, each flipped bit."""
    raw = base45.b45decode(valid_code[len(PREFIX) :])
    for position in range(len(raw)):
        for bit in range(8):
            altered = bytearray(raw)
            altered[position] ^= 1 << bit
            with pytest.raises(CREDENTIAL_ERRORS):
                verify(PREFIX + base45.b45encode(bytes(altered)).decode(), RING)


def test_foreign_key_is_unknown_and_kid_is_sha256_prefix(valid_code: str) -> None:
    foreign = issue(verify(valid_code, RING), KEY_FOREIGN)
    with pytest.raises(UnknownKey) as caught:
        verify(foreign, RING)
    assert caught.value.reason is Reason.UNKNOWN_KEY
    kid = key_id(KEY_FOREIGN.public_key())
    assert len(kid) == 8
    assert kid.hex() in str(caught.value)
    assert key_id(raw_public_key(KEY_FOREIGN.public_key())) == kid


@given(st.text(max_size=4096))
@example("EG1:")
@example("EG1:" + "0" * 3)
def test_random_text_only_raises_our_errors(text: str) -> None:
    for candidate in (text, PREFIX + text):
        with pytest.raises(CREDENTIAL_ERRORS):
            verify(candidate, RING)


@given(st.binary(max_size=4096))
def test_random_bytes_only_raise_our_errors(data: bytes) -> None:
    with pytest.raises(CREDENTIAL_ERRORS):
        verify(data, RING)
    with pytest.raises(CREDENTIAL_ERRORS):
        verify(PREFIX + base45.b45encode(data).decode(), RING)


cbor_values = st.recursive(
    st.none() | st.booleans() | ints | st.binary(max_size=70) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(ints | st.text(max_size=5), children, max_size=5)
    ),
    max_leaves=20,
)


@given(
    protected=st.binary(max_size=40) | cbor_values.map(cbor2.dumps),
    unprotected=cbor_values,
    payload=cbor_values,
    signature=st.binary(min_size=64, max_size=64) | st.binary(max_size=80),
)
def test_structured_garbage_only_raises_our_errors(
    protected: bytes, unprotected: object, payload: object, signature: bytes
) -> None:
    """Well-formed CBOR of the wrong shape, tagged as COSE_Sign1, deep into the parser."""
    message = cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, payload, signature]))
    with pytest.raises(CREDENTIAL_ERRORS):
        verify(PREFIX + base45.b45encode(message).decode(), RING)


@settings(max_examples=200)
@given(st.text(max_size=4096) | st.binary(max_size=4096))
def test_decide_never_raises_on_garbage(scanned: str | bytes) -> None:
    world = World("memory")
    decision = decide(scanned, GATES[0].to_gate(), world.view, NOW)
    assert decision.reason in {Reason.MALFORMED, Reason.UNKNOWN_CODE}
    assert not decision.granted


def test_error_types_map_to_reason_codes() -> None:
    assert MalformedCredential.reason is Reason.MALFORMED
    assert UnknownKey.reason is Reason.UNKNOWN_KEY
    assert InvalidSignature.reason is Reason.INVALID_SIGNATURE
    assert issubclass(MalformedCredential, CredentialError)


def _resigned(protected: dict[int, object], payload: bytes) -> str:
    """A message signed by the trusted key but with the given protected header."""
    protected_bytes = cbor2.dumps(protected)
    signature = KEY.sign(sig_structure(protected_bytes, payload))
    message = cbor2.dumps(cbor2.CBORTag(18, [protected_bytes, {}, payload, signature]))
    return PREFIX + base45.b45encode(message).decode()


def test_other_algorithm_is_malformed_even_when_signed_by_a_trusted_key(valid_code: str) -> None:
    payload = decode_sign1(base45.b45decode(valid_code[len(PREFIX) :])).payload
    kid = key_id(KEY.public_key())
    with pytest.raises(MalformedCredential, match="EdDSA"):
        verify(_resigned({1: -7, 4: kid}, payload), RING)  # ES256 label, Ed25519 signature
    with pytest.raises(MalformedCredential, match="critical"):
        verify(_resigned({1: -8, 2: [99], 4: kid}, payload), RING)
    with pytest.raises(MalformedCredential, match="kid"):
        verify(_resigned({1: -8}, payload), RING)
    assert verify(_resigned({1: -8, 4: kid}, payload), RING).right.event == "DERBY"


def test_validly_signed_bad_claims_are_malformed(valid_code: str) -> None:
    """An issuer bug (a zone list that is a string) is refused after the signature holds."""
    claims = dict(cbor2.loads(decode_sign1(base45.b45decode(valid_code[4:])).payload))
    claims[-2] = "NORD-A"
    bad = _resigned({1: -8, 4: key_id(KEY.public_key())}, cbor2.dumps(claims))
    with pytest.raises(MalformedCredential, match="-2"):
        verify(bad, RING)


@pytest.mark.parametrize("value", [False, 1, "true"])
def test_the_rotating_claim_is_true_or_absent(valid_code: str, value: object) -> None:
    claims = dict(cbor2.loads(decode_sign1(base45.b45decode(valid_code[4:])).payload))
    assert verify(valid_code, RING).right.rotating is False  # absent
    claims[-8] = True
    signed = _resigned({1: -8, 4: key_id(KEY.public_key())}, cbor2.dumps(claims, canonical=True))
    assert verify(signed, RING).right.rotating is True
    claims[-8] = value
    bad = _resigned({1: -8, 4: key_id(KEY.public_key())}, cbor2.dumps(claims, canonical=True))
    with pytest.raises(MalformedCredential, match="-8"):
        verify(bad, RING)


@pytest.mark.parametrize(
    "alg",
    [10**4400, -(10**4400), -8.0, True, "EdDSA"],
    ids=["bignum", "negative-bignum", "float", "bool", "text"],
)
def test_an_alg_that_is_not_the_integer_minus_8_is_malformed_and_said_briefly(
    valid_code: str, alg: object
) -> None:
    """A 1,800-byte bignum ``alg`` made the error message itself raise ValueError (Python will
    not print an integer of over 4,300 digits), which escaped decide() and stopped ``check -``;
    ``-8.0`` was taken for -8."""
    payload = decode_sign1(base45.b45decode(valid_code[len(PREFIX) :])).payload
    hostile = _resigned({1: alg, 4: key_id(KEY.public_key())}, payload)
    with pytest.raises(MalformedCredential) as refused:
        verify(hostile, RING)
    assert len(str(refused.value)) < 120
    decision = decide(hostile, GATES[0].to_gate(), World("memory").view, NOW)
    assert decision.reason is Reason.MALFORMED


def test_a_bignum_claim_is_not_an_integer(valid_code: str) -> None:
    claims = dict(cbor2.loads(decode_sign1(base45.b45decode(valid_code[4:])).payload))
    claims[4] = 2**70  # exp, as a bignum: never expires
    bad = _resigned({1: -8, 4: key_id(KEY.public_key())}, cbor2.dumps(claims))
    with pytest.raises(MalformedCredential, match="bignum"):
        verify(bad, RING)


def _signed_raw(protected_bytes: bytes, payload: bytes, unprotected: bytes = b"\xa0") -> str:
    """A message signed by the trusted key over these exact bytes (the outer array by hand)."""
    signature = KEY.sign(sig_structure(protected_bytes, payload))
    message = (
        b"\xd2\x84"  # tag 18, array(4)
        + cbor2.dumps(protected_bytes)
        + unprotected
        + cbor2.dumps(payload)
        + cbor2.dumps(signature)
    )
    return PREFIX + base45.b45encode(message).decode()


def _parts(valid_code: str) -> tuple[bytes, bytes]:
    message = decode_sign1(base45.b45decode(valid_code[len(PREFIX) :]))
    return message.protected_bytes, message.payload


def test_the_genuine_code_is_deterministic_cbor(valid_code: str) -> None:
    protected, payload = _parts(valid_code)
    assert verify(_signed_raw(protected, payload), RING).right.event == "DERBY"


@pytest.mark.parametrize(
    ("how", "says"),
    [
        ("alg twice, the second EdDSA", "deterministic"),
        ("kid before alg", "deterministic"),
        ("an integer in a longer form than needed", "deterministic"),
        ("an indefinite-length claims map", "deterministic"),
        ("a claim key written 1.0", "not integers"),
        ("a claim key written true", "deterministic"),
        ("something in the unprotected header", "unprotected"),
    ],
)
def test_one_message_has_one_encoding(valid_code: str, how: str, says: str) -> None:
    """Issue 14: the parser was lenient where the format is strict (the last duplicate won, for
    alg too; 1.0 and true stood for claim 1)."""
    protected, payload = _parts(valid_code)
    kid = key_id(KEY.public_key())
    claims = cbor2.loads(payload)
    unprotected = b"\xa0"
    if how == "alg twice, the second EdDSA":
        protected = b"\xa3\x01\x26\x01\x27\x04\x48" + kid  # {1: -7, 1: -8, 4: kid}
    elif how == "kid before alg":
        protected = b"\xa2\x04\x48" + kid + b"\x01\x27"
    elif how == "an integer in a longer form than needed":
        protected = b"\xa2\x01\x38\x07\x04\x48" + kid  # -8 as a 1-byte argument
    elif how == "an indefinite-length claims map":
        payload = b"\xbf" + payload[1:] + b"\xff"
    elif how == "a claim key written 1.0":
        claims[1.0] = claims.pop(1)
        payload = cbor2.dumps(claims, canonical=True)
    elif how == "a claim key written true":
        payload = payload.replace(b"\x01", b"\xf5", 1)  # issuer claim 1 -> true
    else:
        unprotected = b"\xa1\x04\x48" + kid  # {4: kid}
    hostile = _signed_raw(protected, payload, unprotected)
    with pytest.raises(MalformedCredential, match=says) as refused:
        verify(hostile, RING)
    assert len(str(refused.value)) < 120


def test_a_valid_code_followed_by_a_newline_is_malformed(valid_code: str) -> None:
    """The format allows the base45 alphabet only; a scanner's newline is the caller's to strip."""
    with pytest.raises(MalformedCredential, match="base45 alphabet"):
        verify(valid_code + "\n", RING)
    assert verify(valid_code, RING).right.event == "DERBY"
