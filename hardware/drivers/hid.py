"""dcttech USB HID relays ("USBRelay1/2/4/8", VID 0x16C0, PID 0x05DF), through hidapi.

Switching is a 9-byte feature report: report id 0, then ``FF n`` (energise channel n) or
``FD n`` (release it), zero-padded. Reading asks for feature report 1: the board answers
8 bytes, its 5-character ID first and the relay states as a bit mask in byte 7 (bit 0 is
channel 1). The channel count is in the product string ("USBRelay4").
"""

from __future__ import annotations

from typing import Any, Protocol

from hardware.clock import Clock
from hardware.errors import (
    DriverUnavailable,
    HardwareConfigError,
    HardwareError,
    RelayDisconnected,
    RelayNotFound,
    RelayPermissionDenied,
    RelayProtocolError,
)
from hardware.relay import Relay

VENDOR_ID = 0x16C0
PRODUCT_ID = 0x05DF
PRODUCT_PREFIX = "USBRelay"
ON, OFF = 0xFF, 0xFD
STATUS_REPORT = 1
REPORT_LENGTH = 9


class HidDevice(Protocol):
    """The part of ``hid.device`` the driver uses (tests pass a stand-in board)."""

    def send_feature_report(self, buff: list[int]) -> int: ...

    def get_feature_report(self, report_num: int, max_length: int) -> list[int]: ...

    def close(self) -> None: ...


def command(channel: int, on: bool) -> list[int]:
    """The feature report that switches ``channel``: ``00 FF|FD n 00 00 00 00 00 00``."""
    return [0x00, ON if on else OFF, channel] + [0x00] * (REPORT_LENGTH - 3)


class HidRelay(Relay):
    """A dcttech HID relay board; ``device`` is an open hidapi device (see ``open_board``)."""

    driver = "hid"

    def __init__(
        self, device: HidDevice, *, channels: int, board_id: str = "", clock: Clock | None = None
    ) -> None:
        super().__init__(channels=channels, clock=clock)
        self.device = device
        self.board_id = board_id

    def describe(self) -> str:
        name = f" {self.board_id}" if self.board_id else ""
        return f"USB HID relay{name} (USBRelay{self.channel_count})"

    def _switch(self, channel: int, on: bool) -> None:
        try:
            written = self.device.send_feature_report(command(channel, on))
        except (OSError, ValueError) as exc:
            raise RelayDisconnected(f"{self.describe()}: {exc}") from exc
        if written < 0:
            raise RelayDisconnected(f"{self.describe()} refused the command (unplugged?)")

    def _read(self, channel: int) -> bool:
        return bool(self.read_mask() & (1 << (channel - 1)))

    def read_mask(self) -> int:
        """The board's state byte: bit n-1 set while channel n is energised."""
        report = _status_report(self.device, self.describe())
        return report[7]

    def _close(self) -> None:
        self.device.close()


def _status_report(device: HidDevice, name: str) -> list[int]:
    try:
        report = list(device.get_feature_report(STATUS_REPORT, REPORT_LENGTH))
    except (OSError, ValueError) as exc:
        raise RelayDisconnected(f"{name}: {exc}") from exc
    if len(report) < 8:
        raise RelayProtocolError(f"{name} answered {len(report)} status bytes, expected 8")
    return report


def board_id(device: HidDevice) -> str:
    """The 5-character ID a dcttech board keeps in its status report (printed by hw-test)."""
    report = _status_report(device, "USB HID relay")
    return bytes(report[:5]).decode("ascii", "replace").rstrip("\x00")


def open_board(*, serial: str = "", clock: Clock | None = None) -> HidRelay:
    """Find and open the board: the only one plugged in, or the one whose ID is ``serial``."""
    hid = _hid_module()
    boards = [
        info
        for info in hid.enumerate(VENDOR_ID, PRODUCT_ID)
        if str(info.get("product_string") or "").startswith(PRODUCT_PREFIX)
    ]
    if not boards:
        raise RelayNotFound(
            "no USB HID relay found (16c0:05df USBRelayN): is it plugged in? (lsusb | grep 16c0)"
        )
    seen: list[str] = []
    for info in boards:
        device = _open_path(hid, info["path"])
        try:
            found = board_id(device)
            channels = _channel_count(str(info["product_string"]))
        except HardwareError:
            device.close()
            raise
        if (serial and found == serial) or (not serial and len(boards) == 1):
            return HidRelay(device, channels=channels, board_id=found, clock=clock)
        device.close()
        seen.append(found)
    if serial:
        raise RelayNotFound(f"no USB HID relay with ID {serial!r}; plugged in: {', '.join(seen)}")
    raise HardwareConfigError(
        f"{len(boards)} USB HID relays are plugged in ({', '.join(seen)}): set serial = one of them"
    )


def _channel_count(product: str) -> int:
    digits = product[len(PRODUCT_PREFIX) :]
    if not digits.isdigit() or int(digits) < 1:
        raise RelayProtocolError(f"cannot tell the channel count from product name {product!r}")
    return int(digits)


def _open_path(hid: Any, path: bytes) -> HidDevice:
    device = hid.device()
    try:
        device.open_path(path)
    except OSError as exc:
        raise RelayPermissionDenied(
            f"found a USB HID relay but could not open it ({exc}): install the udev rule "
            "from docs/hardware.md, then unplug and replug the board"
        ) from exc
    opened: HidDevice = device
    return opened


def _hid_module() -> Any:
    try:
        import hid  # optional: only this driver needs it
    except ImportError as exc:
        raise DriverUnavailable(
            "the hid driver needs hidapi: pip install 'entrix-gate[hardware]'"
        ) from exc
    return hid
