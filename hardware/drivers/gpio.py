"""Relays and a passage sensor on the kiosk's own GPIO pins, through gpiozero.

Each channel is one output pin driving a relay module input. Most opto-isolated modules
energise when their input is pulled LOW: set ``active_low``. The passage sensor is one input
pin; with ``active_low`` (the default) it is pulled up inside and the sensor shorts it to
ground when someone passes. Tests pass gpiozero's ``MockFactory`` as ``pin_factory``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hardware.clock import Clock
from hardware.errors import (
    DriverUnavailable,
    HardwareConfigError,
    HardwareError,
    RelayBusy,
    RelayDisconnected,
    RelayNotFound,
    RelayPermissionDenied,
    SensorError,
)
from hardware.relay import Relay
from hardware.sensor import PassageSensor


class GpioRelay(Relay):
    """Relays driven by GPIO pins, channel 1 on ``pins[0]``."""

    driver = "gpio"

    def __init__(
        self,
        pins: Sequence[int],
        *,
        active_low: bool = False,
        pin_factory: Any = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(channels=len(pins), clock=clock)
        gpiozero = _gpiozero()
        self.pins = tuple(pins)
        self.active_low = active_low
        self._outputs: list[Any] = []
        try:
            for pin in self.pins:
                self._outputs.append(
                    _device(
                        gpiozero.DigitalOutputDevice,
                        pin,
                        active_high=not active_low,
                        initial_value=False,
                        pin_factory=pin_factory,
                    )
                )
        except HardwareError:
            self._close()
            raise

    def describe(self) -> str:
        level = "LOW" if self.active_low else "HIGH"
        pins = ", ".join(f"GPIO{pin}" for pin in self.pins)
        return f"GPIO relays on {pins} (energised when {level})"

    def _switch(self, channel: int, on: bool) -> None:
        output = self._outputs[channel - 1]
        try:
            if on:
                output.on()
            else:
                output.off()
        except Exception as exc:  # gpiozero's errors have no common base
            raise RelayDisconnected(f"GPIO{self.pins[channel - 1]}: {exc}") from exc

    def _read(self, channel: int) -> bool:
        return bool(self._outputs[channel - 1].value)

    def _close(self) -> None:
        for output in self._outputs:
            output.close()


class GpioSensor(PassageSensor):
    """A passage sensor on one GPIO input; edges are caught by callback, not only by polling."""

    driver = "gpio"

    def __init__(self, pin: int, *, active_low: bool = True, pin_factory: Any = None) -> None:
        super().__init__()
        gpiozero = _gpiozero()
        self.pin = pin
        self.active_low = active_low
        self._input = _device(
            gpiozero.DigitalInputDevice, pin, pull_up=active_low, pin_factory=pin_factory
        )
        self._input.when_activated = lambda: self._observe(True)
        self._input.when_deactivated = lambda: self._observe(False)
        self._observe(bool(self._input.is_active))

    def describe(self) -> str:
        level = "LOW" if self.active_low else "HIGH"
        return f"GPIO{self.pin} input (active when {level})"

    def _level(self) -> bool:
        try:
            return bool(self._input.is_active)
        except Exception as exc:  # gpiozero's errors have no common base
            raise SensorError(f"GPIO{self.pin}: {exc}") from exc

    def _close(self) -> None:
        self._input.close()


def _device(cls: Any, pin: int, **kwargs: Any) -> Any:
    """Create a gpiozero device, turning its errors into ones an installer can act on."""
    exc_module = _gpiozero().exc
    try:
        return cls(pin, **kwargs)
    except exc_module.BadPinFactory as exc:
        raise RelayNotFound(f"no GPIO on this machine ({exc})") from exc
    except exc_module.GPIOPinInUse as exc:
        raise RelayBusy(f"GPIO{pin} is already in use: {exc}") from exc
    except (exc_module.PinInvalidPin, exc_module.PinFixedPull) as exc:
        raise HardwareConfigError(f"GPIO{pin}: {exc}") from exc
    except PermissionError as exc:
        raise RelayPermissionDenied(
            f"not allowed to use GPIO{pin}: add this user to the gpio group ({exc})"
        ) from exc


def _gpiozero() -> Any:
    try:
        import gpiozero  # optional: only this driver needs it
        import gpiozero.exc
    except ImportError as exc:
        raise DriverUnavailable(
            "the gpio driver needs gpiozero: pip install 'entrix-gate[hardware]'"
        ) from exc
    return gpiozero
