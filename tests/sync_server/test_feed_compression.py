"""The change feed compressed (issue 19), on SQLite and PostgreSQL: zstd or gzip as the gate
asks (never assumed), the same bytes once decoded, and replicas pulled compressed and plain
identical row for row."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
import pytest
import zstandard

from sync_server import compression
from tests.support.server import RunningServer
from tests.support.site import Site, ok, replica_rows


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, None),
        ("", None),
        ("identity", None),
        ("gzip", "gzip"),
        ("gzip, deflate, br, zstd", "zstd"),
        ("zstd;q=0.5, gzip", "gzip"),
        ("zstd;q=0, gzip;q=0", None),
        ("*", "zstd"),
        ("*;q=0.1, zstd;q=0", "gzip"),
        ("ZSTD", "zstd"),
        ("br", None),
        ("gzip;q=banana", None),
        (" , ;q=1, gzip ;q=0.8", "gzip"),
    ],
)
def test_the_coding_is_what_the_gate_accepts(accept: str | None, chosen: str | None) -> None:
    assert compression.negotiate(accept) == chosen


def test_compressed_and_plain_feeds_build_the_same_replica(
    server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    rows = "\n".join(f"{site.event},NORD,fan-{i},,,N-{i}" for i in range(1500))
    body = f"event,zones,holder,policy,kind,seat\n{rows}\n".encode()
    ok(site.admin.post("/rights/import", content=body, headers={"content-type": "text/csv"}))
    gates = {
        coding: site.terminal(
            "NORD-1", tmp_path / coding, accept_encoding=coding, use_snapshot=False
        )  # the feed itself, each time
        for coding in ("zstd, gzip", "gzip", "identity")
    }
    for gate in gates.values():
        gate.close()
    built = {coding: replica_rows(gate.replica.path) for coding, gate in gates.items()}
    assert sum(len(r) for r in built["identity"].values()) > 1500
    assert built["zstd, gzip"] == built["gzip"] == built["identity"]
    wire = {coding: gate.sync.feed_bytes for coding, gate in gates.items()}
    assert wire["zstd, gzip"] < wire["identity"] / 3 and wire["gzip"] < wire["identity"] / 3


def test_the_server_says_its_coding_and_the_bytes_are_the_feeds(
    server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    for i in range(40):
        site.right(seat=f"N-{i}")
    gate = site.terminal("NORD-1", tmp_path)
    auth = {"Authorization": f"Bearer {gate.sync.token}", "Entrix-Protocol": "3"}
    gate.close()
    url = f"{server.url}/api/v1/gate/changes"

    def raw(accept: str) -> tuple[httpx.Headers, bytes]:
        with httpx.Client() as client:  # the bytes as they came: not decoded by httpx
            request = client.build_request("GET", url, headers={**auth, "Accept-Encoding": accept})
            answer = client.send(request, stream=True)
            return answer.headers, b"".join(answer.iter_raw())

    plain_headers, plain = raw("identity")
    assert "content-encoding" not in plain_headers and plain_headers["vary"] == "Accept-Encoding"
    assert plain.startswith(b'{"since":0')
    zstd_headers, zstd = raw("zstd")
    assert zstd_headers["content-encoding"] == "zstd"
    assert zstandard.ZstdDecompressor().decompressobj().decompress(zstd) == plain
    gzip_headers, gzipped = raw("gzip;q=1, zstd;q=0")
    assert gzip_headers["content-encoding"] == "gzip"
    assert gzip.decompress(gzipped) == plain
    assert len(zstd) < len(plain) / 3
