"""A TCP proxy between a gate and the real server that can misbehave on demand.

Modes: ``pass`` (forward), ``down`` (refuse: close every connection at once), ``slow`` (hold each
answer ``delay_s`` before sending it), ``truncate`` (send half of each answer, then cut),
``garbage`` (answer every request with ``200 OK`` and bytes that are not what was asked),
``budget`` (forward until ``budget_bytes`` have gone to the gate, then cut the link mid-answer and
refuse every connection after: a link that drops half-way through a download).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from tests.support.postgres import free_port

GARBAGE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 23\r\n"
    b'connection: close\r\n\r\n{"since": 0, "cursor":'
)


class FaultProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.mode = "pass"
        self.delay_s = 0.0
        self.budget_bytes = 0
        self._budget_lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        mode = self.mode
        with contextlib.closing(client):
            if mode == "down" or (mode == "budget" and self.budget_bytes <= 0):
                return
            if mode == "garbage":
                with contextlib.suppress(OSError):
                    client.recv(65536)
                    client.sendall(GARBAGE)
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                return  # the server itself is down: the gate sees a closed connection
            with contextlib.closing(upstream):
                forward = threading.Thread(
                    target=self._pump, args=(client, upstream, "pass"), daemon=True
                )
                forward.start()
                self._pump(upstream, client, mode)

    def _pump(self, source: socket.socket, sink: socket.socket, mode: str) -> None:
        source.settimeout(60)
        with contextlib.suppress(OSError):
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                if mode == "slow":
                    time.sleep(self.delay_s)
                if mode == "truncate":
                    sink.sendall(chunk[: max(1, len(chunk) // 2)])
                    break
                if mode == "budget":
                    with self._budget_lock:
                        allowed = max(0, min(len(chunk), self.budget_bytes))
                        self.budget_bytes -= len(chunk)
                    if allowed < len(chunk):
                        sink.sendall(chunk[:allowed])
                        break
                sink.sendall(chunk)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
