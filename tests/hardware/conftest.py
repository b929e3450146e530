"""Stand-ins for the boards, started and stopped around each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from hardware.clock import FakeClock
from tests.hardware.lcus_board import LcusBoard
from tests.hardware.modbus_module import ModbusModule


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def lcus_board() -> Iterator[Callable[..., LcusBoard]]:
    """Make LCUS boards on pseudo-terminals; each must end with no protocol violation."""
    boards: list[LcusBoard] = []

    def make(channels: int = 4, **options: object) -> LcusBoard:
        board = LcusBoard(channels, **options)  # type: ignore[arg-type]
        boards.append(board)
        return board

    yield make
    for board in boards:
        board.close()
        assert board.violations == [], board.violations


@pytest.fixture
def modbus_module() -> Iterator[ModbusModule]:
    module = ModbusModule(unit=1)
    yield module
    module.close()


@pytest.fixture
def mock_pins() -> Iterator[MockFactory]:
    """gpiozero's mock pin factory, as the default for the test, reset afterwards."""
    previous = Device.pin_factory
    factory = MockFactory()
    Device.pin_factory = factory
    yield factory
    factory.reset()
    Device.pin_factory = previous
