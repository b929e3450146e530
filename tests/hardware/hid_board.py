"""A dcttech USB HID relay as the hidapi device object the driver talks to.

It accepts only the reports the real firmware understands (9 bytes: report id 0, then FF n,
FD n, FE or FC, zero-padded) and answers feature report reads as the board does: 8 bytes, the
5-character board ID, two zeros, then the relay bit mask.
"""

from __future__ import annotations

ON, ALL_ON, OFF, ALL_OFF = 0xFF, 0xFE, 0xFD, 0xFC


class DcttechBoard:
    def __init__(self, channels: int = 2, board_id: str = "QAAMZ") -> None:
        self.channels = channels
        self.board_id = board_id
        self.product_string = f"USBRelay{channels}"
        self.reports: list[list[int]] = []
        """Every feature report sent to the board, byte for byte."""
        self.reads: list[tuple[int, int]] = []
        self.violations: list[str] = []
        self.mask = 0
        self.unplugged = False
        self.closed = False

    def send_feature_report(self, buff: list[int]) -> int:
        if self.unplugged:
            return -1  # what hidapi returns when the device is gone
        data = list(buff)
        self.reports.append(data)
        if len(data) != 9 or data[0] != 0x00 or any(data[3:]):
            self.violations.append(f"malformed report {data}")
            return len(data)
        command, channel = data[1], data[2]
        if command in (ON, OFF) and not 1 <= channel <= self.channels:
            self.violations.append(f"no channel {channel}: {data}")
        elif command == ON:
            self.mask |= 1 << (channel - 1)
        elif command == OFF:
            self.mask &= ~(1 << (channel - 1))
        elif command == ALL_ON:
            self.mask = (1 << self.channels) - 1
        elif command == ALL_OFF:
            self.mask = 0
        else:
            self.violations.append(f"unknown command {command:02x}: {data}")
        return len(data)

    def get_feature_report(self, report_num: int, max_length: int) -> list[int]:
        if self.unplugged:
            raise OSError("read error")  # hidapi raises IOError (OSError) when it cannot read
        self.reads.append((report_num, max_length))
        answer = [*self.board_id.encode("ascii"), 0x00, 0x00, self.mask]
        return answer[:max_length]

    def get_product_string(self) -> str:
        return self.product_string

    def close(self) -> None:
        self.closed = True

    def energised(self, channel: int) -> bool:
        return bool(self.mask & (1 << (channel - 1)))
