"""QR images of codes: error correction M, and alphanumeric mode for EG1 text (segno picks it)."""

from __future__ import annotations

import io
from typing import Literal

import segno

ImageKind = Literal["png", "svg"]


def render(code: str, kind: ImageKind, *, scale: int = 6) -> bytes:
    qr = segno.make_qr(code, error="m", boost_error=False)
    out = io.BytesIO()
    if kind == "png":
        qr.save(out, kind="png", scale=scale, border=4)
    else:
        qr.save(out, kind="svg", scale=scale, border=4, xmldecl=False)
    return out.getvalue()
