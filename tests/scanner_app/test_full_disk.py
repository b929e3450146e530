"""A full disk under a running gate (issue 14): the sync loop lives through it, says so, and
picks up by itself once there is space again. The disk is real: a small tmpfs the test mounts."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner_app.replica import Replica
from scanner_app.sync_loop import SyncState
from tests.scanner_app.test_sync_faults import RunningLoop, enroll_gate, scan_many, wait_for
from tests.support.server import RunningServer
from tests.support.site import Site


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB filesystem of its own (root and mount(8) needed: the reason is said otherwise)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(disk: Path) -> Path:
    """Take every free byte of the disk."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 512, 1):  # to the last byte: unbuffered, so nothing is left
            chunk = b"\0" * size
            while True:
                try:
                    os.write(fd, chunk)
                except OSError:
                    break
    finally:
        os.close(fd)
    return filler


def test_the_sync_loop_lives_through_a_full_disk_and_resumes_by_itself(
    server: RunningServer, small_disk: Path
) -> None:
    site = Site.create(server)
    config = enroll_gate(site, "NORD-1", small_disk / "gate", server.url)
    codes = [site.code(site.right()) for _ in range(3)]
    running = RunningLoop(config)
    try:
        scan_many(config, codes[:1])
        wait_for(lambda: running.loop.status.pushed == 1)
        filler = fill(small_disk)
        # A change on the server: the gate pulls it, and cannot write it.
        late = site.right(zones=["NORD"], seat="Z-99")
        running.loop.request_pull()
        wait_for(lambda: "local replica" in running.loop.status.last_error)
        assert running.loop.status.state is SyncState.OFFLINE
        assert running.thread.is_alive()
        os.unlink(filler)
        wait_for(lambda: running.loop.status.state is SyncState.ONLINE, timeout_s=40)
        with Replica(config.replica_path) as replica:
            assert replica.right(bytes.fromhex(late["right_id"])) is not None
        scan_many(config, codes[1:])  # the gate records again, and the loop uploads
        wait_for(lambda: running.loop.status.pushed == 3)
    finally:
        running.stop()
