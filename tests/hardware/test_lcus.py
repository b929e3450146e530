"""The LCUS driver against a pseudo-terminal board that checks every byte and answers FF."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from hardware.clock import FakeClock
from hardware.drivers.lcus import LcusRelay
from hardware.errors import (
    HardwareConfigError,
    RelayBusy,
    RelayDisconnected,
    RelayNotFound,
    RelayProtocolError,
    RelayTimeout,
)
from tests.hardware.lcus_board import COMPACT, LcusBoard

MakeBoard = Callable[..., LcusBoard]


@pytest.fixture
def relays() -> Iterator[Callable[..., LcusRelay]]:
    opened: list[LcusRelay] = []

    def make(board: LcusBoard, clock: FakeClock, **options: object) -> LcusRelay:
        options.setdefault("channels", board.channels)
        relay = LcusRelay(board.path, clock=clock, **options)  # type: ignore[arg-type]
        opened.append(relay)
        return relay

    yield make
    for relay in opened:
        relay.close()


def test_switching_sends_exactly_the_documented_frames(lcus_board: MakeBoard, relays, clock):
    board = lcus_board(4)
    relay = relays(board, clock)
    relay.hold_open(1)
    relay.release(1)
    relay.hold_open(2)
    relay.release(4)
    expected = bytes.fromhex("A0 01 01 A2  A0 01 00 A1  A0 02 01 A3  A0 04 00 A4")
    assert board.wait_for(len(expected)) == expected
    assert board.commands == [(1, True), (1, False), (2, True), (4, False)]
    assert board.energised == {1: False, 2: True, 3: False, 4: False}


def test_a_pulse_is_on_then_off_with_the_clock_slept_between(lcus_board: MakeBoard, relays, clock):
    board = lcus_board(2)
    relay = relays(board, clock)
    relay.pulse(2, 0.2)
    expected = bytes.fromhex("A0 02 01 A3 A0 02 00 A2")
    assert board.wait_for(len(expected)) == expected
    assert clock.slept == [0.2]
    assert board.energised[2] is False


def test_state_is_read_from_the_board_with_the_ff_query(lcus_board: MakeBoard, relays, clock):
    board = lcus_board(4)
    relay = relays(board, clock)
    relay.hold_open(3)
    assert relay.state(3) is True
    assert relay.state(1) is False
    assert board.queries == 2
    assert board.received == bytes.fromhex("A0 03 01 A4 FF FF")
    assert relay.read_all() == {1: False, 2: False, 3: True, 4: False}


def test_state_follows_the_board_not_the_last_command(lcus_board: MakeBoard, relays, clock):
    board = lcus_board(2)
    relay = relays(board, clock)
    relay.hold_open(1)
    relay.state(1)
    board.energised[1] = False  # the board dropped the relay (power dip, manual button)
    assert relay.state(1) is False


def test_compact_status_lines_from_clones_are_understood(lcus_board: MakeBoard, relays, clock):
    board = lcus_board(2, style=COMPACT)
    relay = relays(board, clock)
    relay.hold_open(2)
    assert relay.read_all() == {1: False, 2: True}


def test_a_board_that_stops_answering_times_out(lcus_board: MakeBoard, relays, clock):
    board = lcus_board(2, answers_status=False)
    relay = relays(board, clock, timeout_s=0.2)
    with pytest.raises(RelayTimeout, match="did not answer the status query") as caught:
        relay.state(1)
    assert isinstance(caught.value, TimeoutError)


def test_a_garbled_answer_is_a_protocol_error(lcus_board: MakeBoard, relays, clock):
    board = lcus_board(2)
    board.garbage = b"CH1: MAYBE\r\nCH2: OFF\r\n"
    relay = relays(board, clock)
    with pytest.raises(RelayProtocolError, match="MAYBE"):
        relay.state(1)


def test_answer_lines_out_of_order_are_refused(lcus_board: MakeBoard, relays, clock):
    board = lcus_board(2)
    board.garbage = b"CH3: OFF\r\nCH4: OFF\r\n"
    relay = relays(board, clock)
    with pytest.raises(RelayProtocolError, match="board_channels"):
        relay.state(1)


def test_one_channel_boards_are_not_queried(lcus_board: MakeBoard, relays, clock):
    board = lcus_board(1, answers_status=False)
    relay = relays(board, clock)
    assert relay.reads_back is False
    relay.hold_open(1)
    assert relay.state(1) is True
    relay.release(1)
    assert relay.state(1) is False
    expected = bytes.fromhex("A0 01 01 A2 A0 01 00 A1")
    assert board.wait_for(len(expected)) == expected
    assert board.queries == 0


def test_an_unknown_channel_sends_nothing(lcus_board: MakeBoard, relays, clock):
    board = lcus_board(2)
    relay = relays(board, clock)
    with pytest.raises(HardwareConfigError, match="channel 3"):
        relay.hold_open(3)
    relay.state(1)
    assert board.received == b"\xff"


def test_a_missing_port_is_relay_not_found(clock):
    with pytest.raises(RelayNotFound, match="/dev/ttyNOPE9") as caught:
        LcusRelay("/dev/ttyNOPE9", channels=2, clock=clock)
    assert isinstance(caught.value, FileNotFoundError)


def test_the_port_is_opened_exclusively(lcus_board: MakeBoard, relays, clock):
    board = lcus_board(2)
    relays(board, clock)
    with pytest.raises(RelayBusy, match="in use"):
        LcusRelay(board.path, channels=2, clock=clock)


def test_an_unplugged_board_is_a_disconnection(lcus_board: MakeBoard, relays, clock):
    board = lcus_board(2)
    relay = relays(board, clock)
    relay.hold_open(1)
    board.wait_for(4)
    board.unplug()
    with pytest.raises(RelayDisconnected, match="Input/output error"):
        relay.release(1)
    with pytest.raises(RelayDisconnected) as caught:
        relay.state(1)
    assert isinstance(caught.value, ConnectionError)


def test_frames_sent_back_to_back_are_spaced_for_the_board(lcus_board: MakeBoard, relays, clock):
    board = lcus_board(2)
    relay = relays(board, clock)
    relay.hold_open(1)
    relay.hold_open(2)
    assert clock.slept == [pytest.approx(0.05)]
    board.wait_for(8)
