"""The dcttech HID driver against a board object that records every feature report."""

from __future__ import annotations

from typing import Any

import pytest

from hardware.clock import FakeClock
from hardware.drivers import hid as hid_driver
from hardware.drivers.hid import HidRelay, open_board
from hardware.errors import (
    HardwareConfigError,
    RelayDisconnected,
    RelayNotFound,
    RelayProtocolError,
)
from tests.hardware.hid_board import DcttechBoard


def relay_on(board: DcttechBoard, clock: FakeClock) -> HidRelay:
    return HidRelay(board, channels=board.channels, board_id=board.board_id, clock=clock)


def test_on_and_off_are_the_documented_feature_reports(clock):
    board = DcttechBoard(channels=2)
    relay = relay_on(board, clock)
    relay.hold_open(1)
    relay.hold_open(2)
    relay.release(1)
    assert board.reports == [
        [0x00, 0xFF, 0x01, 0, 0, 0, 0, 0, 0],
        [0x00, 0xFF, 0x02, 0, 0, 0, 0, 0, 0],
        [0x00, 0xFD, 0x01, 0, 0, 0, 0, 0, 0],
    ]
    assert board.mask == 0b10
    assert board.violations == []


def test_state_comes_from_byte_seven_of_the_status_report(clock):
    board = DcttechBoard(channels=4)
    relay = relay_on(board, clock)
    relay.hold_open(3)
    assert relay.state(3) is True
    assert relay.state(1) is False
    board.mask = 0b0001  # someone pressed the board's own switch
    assert relay.state(1) is True
    assert relay.state(3) is False
    assert board.reads == [(1, 9)] * 4


def test_a_pulse_is_on_then_off(clock):
    board = DcttechBoard(channels=1)
    relay = relay_on(board, clock)
    relay.pulse(1, 0.2)
    assert [report[1:3] for report in board.reports] == [[0xFF, 1], [0xFD, 1]]
    assert clock.slept == [0.2]
    assert board.mask == 0


def test_an_unplugged_board_fails_loudly(clock):
    board = DcttechBoard(channels=2)
    relay = relay_on(board, clock)
    board.unplugged = True
    with pytest.raises(RelayDisconnected):
        relay.hold_open(1)
    with pytest.raises(RelayDisconnected, match="read error"):
        relay.state(1)


def test_a_short_status_report_is_a_protocol_error(clock):
    class Truncating(DcttechBoard):
        def get_feature_report(self, report_num: int, max_length: int) -> list[int]:
            return super().get_feature_report(report_num, max_length)[:5]

    relay = relay_on(Truncating(channels=2), clock)
    with pytest.raises(RelayProtocolError, match="5 status bytes"):
        relay.state(1)


class FakeHidModule:
    """``hid`` as far as ``open_board`` uses it: enumerate, and devices opened by path."""

    def __init__(self, *boards: DcttechBoard) -> None:
        self.boards = {f"/dev/hidraw{n}".encode(): board for n, board in enumerate(boards)}
        self.opened: list[bytes] = []

    def enumerate(self, vendor_id: int, product_id: int) -> list[dict[str, Any]]:
        assert (vendor_id, product_id) == (0x16C0, 0x05DF)
        return [
            {"path": path, "product_string": board.product_string}
            for path, board in self.boards.items()
        ]

    def device(self) -> Any:
        module = self

        class Device:
            board: DcttechBoard

            def open_path(self, path: bytes) -> None:
                module.opened.append(path)
                self.board = module.boards[path]

            def __getattr__(self, name: str) -> Any:
                return getattr(self.board, name)

        return Device()


def test_open_board_finds_the_only_board_and_its_channel_count(monkeypatch, clock):
    board = DcttechBoard(channels=4, board_id="ABCDE")
    monkeypatch.setattr(hid_driver, "_hid_module", lambda: FakeHidModule(board))
    relay = open_board(clock=clock)
    assert relay.channel_count == 4
    assert relay.board_id == "ABCDE"
    relay.hold_open(4)
    assert board.energised(4)


def test_open_board_picks_the_configured_board_among_several(monkeypatch, clock):
    first, second = DcttechBoard(board_id="AAAAA"), DcttechBoard(board_id="BBBBB")
    monkeypatch.setattr(hid_driver, "_hid_module", lambda: FakeHidModule(first, second))
    relay = open_board(serial="BBBBB", clock=clock)
    relay.hold_open(1)
    assert (first.mask, second.mask) == (0, 1)
    assert first.closed is True


def test_several_boards_and_no_serial_is_a_config_error(monkeypatch, clock):
    boards = DcttechBoard(board_id="AAAAA"), DcttechBoard(board_id="BBBBB")
    monkeypatch.setattr(hid_driver, "_hid_module", lambda: FakeHidModule(*boards))
    with pytest.raises(HardwareConfigError, match="AAAAA, BBBBB"):
        open_board(clock=clock)
    assert all(board.closed for board in boards)


def test_a_wrong_serial_names_the_boards_present(monkeypatch, clock):
    monkeypatch.setattr(
        hid_driver, "_hid_module", lambda: FakeHidModule(DcttechBoard(board_id="AAAAA"))
    )
    with pytest.raises(RelayNotFound, match="'ZZZZZ'; plugged in: AAAAA"):
        open_board(serial="ZZZZZ", clock=clock)


def test_no_board_on_this_machine_is_relay_not_found(clock):
    # The real hidapi enumerates the real USB bus: no relay is plugged into a CI machine.
    import hid

    if hid.enumerate(0x16C0, 0x05DF):
        pytest.skip("a USB HID relay is plugged into this machine")
    with pytest.raises(RelayNotFound, match="16c0:05df"):
        open_board(clock=clock)
