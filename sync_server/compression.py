"""HTTP content encoding of the change feed (issue 19): zstd where the gate accepts it, gzip
otherwise, the plain bytes for a gate that asks for neither. Negotiated from the request's
``Accept-Encoding`` (RFC 9110 §12.5.3: q-values, ``q=0`` refuses a coding, ``*`` stands for any
other), never assumed: a gate of an older release asked for gzip only (httpx without zstandard)
and gets it.

A feed page is JSON in which every row repeats its field names and most of its values (events,
zones, validity): compressed, a right costs about a sixth of its JSON (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import gzip

import zstandard

ZSTD = "zstd"
GZIP = "gzip"
PREFERRED = (ZSTD, GZIP)
"""What this server encodes, best first."""
ZSTD_LEVEL = 3
GZIP_LEVEL = 6
SMALLEST = 1024
"""Bodies shorter than this go as they are: compressing them costs more than it saves."""


def negotiate(accept_encoding: str | None) -> str | None:
    """The coding to answer in (``zstd`` or ``gzip``), or None for the body as it is."""
    if not accept_encoding:
        return None
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        name, _, params = item.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights[name] = weight
    best: tuple[float, str] | None = None
    for coding in PREFERRED:  # the server's order breaks ties
        weight = weights.get(coding, weights.get("*", 0.0))
        if weight > 0 and (best is None or weight > best[0]):
            best = (weight, coding)
    return None if best is None else best[1]


def encode(body: bytes, coding: str) -> bytes:
    if coding == ZSTD:
        return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(body)
    if coding == GZIP:
        return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
    raise ValueError(f"not a coding of this server: {coding!r}")


def encoded(body: bytes, accept_encoding: str | None) -> tuple[bytes, dict[str, str]]:
    """``body`` in the coding the request accepts, and the headers that say so (``Vary``
    always: a cache between must not hand one gate's coding to another)."""
    headers = {"Vary": "Accept-Encoding"}
    coding = negotiate(accept_encoding) if len(body) >= SMALLEST else None
    if coding is None:
        return body, headers
    return encode(body, coding), {**headers, "Content-Encoding": coding}
