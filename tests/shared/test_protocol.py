"""The protocol version a gate states, and what the server answers to it."""

from __future__ import annotations

import pytest

from shared import protocol


def test_the_server_serves_its_protocol_and_the_one_before() -> None:
    # and protocol 1, which is protocol 2's wire without the header
    served = [protocol.PROTOCOL - 2, protocol.PROTOCOL - 1, protocol.PROTOCOL]
    assert list(protocol.SERVED) == served
    assert protocol.PROTOCOL - 2 == protocol.UNSTATED
    assert protocol.refusal(str(protocol.PROTOCOL)) is None
    assert protocol.refusal(str(protocol.PROTOCOL - 1)) is None


def test_a_gate_of_release_0_1_0_states_nothing_and_is_served() -> None:
    assert protocol.stated(None) == protocol.UNSTATED == 1
    assert protocol.refusal(None) is None


@pytest.mark.parametrize(
    ("header", "says"),
    [
        ("0", "too old for this server"),
        (str(protocol.PROTOCOL + 1), "upgrade the server first"),
        ("two", "is not a protocol version"),
        ("", "is not a protocol version"),
        ("-1", "is not a protocol version"),
        ("9" * 40, "is not a protocol version"),
    ],
)
def test_what_cannot_be_served_says_what_to_do(header: str, says: str) -> None:
    why = protocol.refusal(header)
    assert why is not None and says in why
    assert len(why) < 300  # a hostile header is not echoed whole
