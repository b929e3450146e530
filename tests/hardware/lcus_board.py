"""An LCUS relay board as a pseudo-terminal peer: the driver opens the slave side with pyserial.

The peer checks every byte it receives against the board's protocol (4-byte frames starting
A0 with a correct checksum, or the FF status query) and answers FF as the multi-channel boards
do: one ASCII line per channel, "CH1: ON \\r\\n" or "CH1: OFF\\r\\n". Anything else is a violation.
"""

from __future__ import annotations

import os
import select
import threading
import tty

PADDED = "padded"
"""``CH1: ON \\r\\n``: "ON " padded to the width of "OFF" (LCUS-2/4 boards)."""
COMPACT = "compact"
"""``CH1:ON\\r\\n``: the spacing some clones use."""


class LcusBoard:
    def __init__(self, channels: int = 4, *, answers_status: bool = True, style: str = PADDED):
        self.channels = channels
        self.answers_status = answers_status
        self.style = style
        self.master, self._slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self.received = bytearray()
        """Every byte the board received, in order."""
        self.commands: list[tuple[int, bool]] = []
        """Every valid switching frame, as (channel, on)."""
        self.queries = 0
        self.violations: list[str] = []
        self.energised = dict.fromkeys(range(1, channels + 1), False)
        self.garbage: bytes | None = None
        """When set, the board answers FF with these bytes instead."""
        self._pending = bytearray()
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 5.0) -> bytes:
        """Wait until the board received ``count`` bytes (a sync point, not a timing check)."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.received) >= count, timeout)
            return bytes(self.received)

    def unplug(self) -> None:
        """The USB cable is pulled: the tty goes away under the driver."""
        self.close()

    def close(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join(timeout=5)
            os.close(self.master)
            os.close(self._slave)
        if self._pending:
            self.violations.append(f"incomplete frame at the end: {bytes(self._pending).hex(' ')}")

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.02)
            if not ready:
                continue
            try:
                data = os.read(self.master, 1024)
            except OSError:
                continue
            with self._changed:
                self.received.extend(data)
                self._pending.extend(data)
                self._parse()
                self._changed.notify_all()

    def _parse(self) -> None:
        while self._pending:
            first = self._pending[0]
            if first == 0xFF:
                del self._pending[0]
                self.queries += 1
                self._answer_status()
            elif first == 0xA0:
                if len(self._pending) < 4:
                    return
                self._frame(bytes(self._pending[:4]))
                del self._pending[:4]
            else:
                self.violations.append(f"unexpected byte {first:02x}")
                del self._pending[0]

    def _frame(self, frame: bytes) -> None:
        _, channel, operation, checksum = frame
        if checksum != (0xA0 + channel + operation) & 0xFF:
            self.violations.append(f"bad checksum in {frame.hex(' ')}")
        elif not 1 <= channel <= self.channels:
            self.violations.append(f"no channel {channel} in {frame.hex(' ')}")
        elif operation not in (0x00, 0x01):
            self.violations.append(f"bad operation in {frame.hex(' ')}")
        else:
            self.energised[channel] = operation == 0x01
            self.commands.append((channel, operation == 0x01))

    def _answer_status(self) -> None:
        if not self.answers_status:
            return
        if self.garbage is not None:
            os.write(self.master, self.garbage)
            return
        lines = []
        for channel, on in self.energised.items():
            if self.style == PADDED:
                lines.append(f"CH{channel}: {'ON ' if on else 'OFF'}\r\n")
            else:
                lines.append(f"CH{channel}:{'ON' if on else 'OFF'}\r\n")
        os.write(self.master, "".join(lines).encode("ascii"))
