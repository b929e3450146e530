"""A Modbus RTU relay module: pymodbus's own serial server on a pseudo-terminal RS485 "line".

Two pty pairs joined by a bridge thread stand for the RS485 cable: the driver opens one end
with pymodbus's client, pymodbus's server listens on the other. The bridge keeps every byte
each way, so tests can check the RTU frames themselves, and can cut the cable.
"""

from __future__ import annotations

import asyncio
import os
import select
import threading
import tty
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer
from pymodbus.simulator import DataType, SimData, SimDevice

COILS = 8
INPUTS = 8


def _pty() -> tuple[int, int, str]:
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    return master, slave, os.ttyname(slave)


class ModbusModule:
    """An 8-coil, 8-input relay module at ``unit``; the driver opens ``port``."""

    def __init__(self, unit: int = 1) -> None:
        self.unit = unit
        self._client_master, self._client_slave, self.port = _pty()
        self._module_master, self._module_slave, self._module_port = _pty()
        self.to_module = bytearray()
        """Every byte the driver put on the line."""
        self.to_driver = bytearray()
        self.cut = False
        """True: the cable is cut, nothing gets through either way."""
        self.refuse_coils: set[int] = set()
        """Coils whose writes the module answers with exception 04 (device failure)."""
        self._stop = threading.Event()
        self._bridge = threading.Thread(target=self._carry, daemon=True)
        self._bridge.start()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: Any = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._run(),))
        self._thread.daemon = True
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the pymodbus server did not start")

    async def _run(self) -> None:
        def bits() -> list[SimData]:
            return [SimData(0, count=COILS, values=False, datatype=DataType.BITS)]

        def registers() -> list[SimData]:
            return [SimData(0, count=1, values=0, datatype=DataType.REGISTERS)]

        device = SimDevice(
            id=self.unit, simdata=(bits(), bits(), registers(), registers()), action=self._action
        )
        self._server = ModbusSerialServer(
            device, port=self._module_port, baudrate=9600, framer=FramerType.RTU
        )
        await self._server.serve_forever(background=True)
        self._ready.set()
        await self._server.serving

    async def _action(
        self,
        function_code: int,
        _start: int,
        address: int,
        _count: int,
        _registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if function_code == 5 and values is not None and address in self.refuse_coils:
            return ExcCodes.DEVICE_FAILURE
        return None

    def coils(self) -> list[bool]:
        """The module's coils as its datastore holds them."""
        values = self._on_loop(self._server.async_getValues(self.unit, 1, 0, COILS))
        return [bool(value) for value in values]

    def set_input(self, address: int, active: bool) -> None:
        """Drive a discrete input (what the wired sensor does)."""
        self._on_loop(self._server.async_setValues(self.unit, 2, address, [active]))

    def _on_loop(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    def _carry(self) -> None:
        ends = {self._client_master: self._module_master, self._module_master: self._client_master}
        while not self._stop.is_set():
            ready, _, _ = select.select(list(ends), [], [], 0.02)
            for source in ready:
                try:
                    data = os.read(source, 1024)
                except OSError:
                    continue
                if self.cut:
                    continue
                (self.to_module if source == self._client_master else self.to_driver).extend(data)
                os.write(ends[source], data)

    def close(self) -> None:
        self._on_loop(self._server.shutdown())
        self._thread.join(10)
        self._loop.close()
        self._stop.set()
        self._bridge.join(10)
        for fd in (
            self._client_master,
            self._client_slave,
            self._module_master,
            self._module_slave,
        ):
            os.close(fd)
