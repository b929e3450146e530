"""QR decoders behind one interface: ``decode(gray) -> list[str]``, chosen by name in config.

zxing-cpp is the default: on the team's corpus of real photos and on synthetic 720p frames it
decodes more codes, several times faster (figures in docs/BENCHMARKS.md). pyzbar stays available
for comparison, with a hazard: some payloads make libzbar abort or double-free, which kills the
whole process and cannot be caught in Python. Never make it a kiosk's decoder without isolating it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Protocol

import zxingcpp

from scanner_app.config import DEFAULT_DECODER
from scanner_app.frames import GrayImage

log = logging.getLogger(__name__)


class DecoderError(Exception):
    """A decoder cannot be used (unknown name, missing system library)."""


class UnknownDecoder(DecoderError, ValueError):
    """No decoder has this name."""


class DecoderUnavailable(DecoderError, ImportError):
    """The decoder's library is not installed; the message says which package to install."""


class Decoder(Protocol):
    """Finds the QR codes in a grayscale image and returns their text, each once."""

    name: str

    def decode(self, gray: GrayImage) -> list[str]: ...


def payload_text(data: bytes) -> str:
    """A code's bytes as text: UTF-8, else ISO 8859-1 (QR's default, and never fails)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _check_gray(gray: GrayImage) -> None:
    if gray.ndim != 2:
        # pyzbar would silently read the first channel of a colour image: refuse instead.
        raise ValueError(f"decoders take 2-D grayscale images, not shape {gray.shape}")


def _unique(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(texts))


_QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


class ZxingDecoder:
    """zxing-cpp (self-contained wheel): fast on empty frames, reads rotated and inverted codes."""

    name = "zxing-cpp"

    def decode(self, gray: GrayImage) -> list[str]:
        _check_gray(gray)
        # Plain, not the default HRI mode: HRI rewrites control characters as "<GS>" and the like.
        found = zxingcpp.read_barcodes(gray, formats=_QR_ONLY, text_mode=zxingcpp.TextMode.Plain)
        return _unique(_zxing_text(barcode) for barcode in found)


def _zxing_text(barcode: zxingcpp.Barcode) -> str:
    # Binary content comes as ISO 8859-1 text; UTF-8 bytes without an ECI header are read as
    # UTF-8 here, as pyzbar does, so both decoders give the same text for the same code.
    if barcode.content_type == zxingcpp.ContentType.Binary:
        return payload_text(barcode.bytes)
    return barcode.text


class PyzbarDecoder:
    """pyzbar over Debian's libzbar0. Hazard: some payloads abort the process inside libzbar."""

    name = "pyzbar"

    def __init__(self) -> None:
        try:
            from pyzbar import pyzbar  # only when chosen: it needs libzbar0
        except ImportError as exc:
            raise DecoderUnavailable(
                f"pyzbar cannot load libzbar ({exc}): install the Debian package libzbar0 "
                "(make system-deps)"
            ) from exc
        self._decode = pyzbar.decode
        self._symbols = [pyzbar.ZBarSymbol.QRCODE]
        log.warning(
            "decoder pyzbar: libzbar runs in this process and some payloads abort it; "
            "use %s on a gate",
            DEFAULT_DECODER,
        )

    def decode(self, gray: GrayImage) -> list[str]:
        _check_gray(gray)
        # symbols: QR only, which is also what keeps libzbar from spamming warnings.
        found = self._decode(gray, symbols=self._symbols)
        return _unique(payload_text(symbol.data) for symbol in found)


DECODERS: dict[str, Callable[[], Decoder]] = {
    ZxingDecoder.name: ZxingDecoder,
    PyzbarDecoder.name: PyzbarDecoder,
}


def make_decoder(name: str = DEFAULT_DECODER) -> Decoder:
    """The decoder called ``name`` ("zxing-cpp" or "pyzbar")."""
    try:
        factory = DECODERS[name]
    except KeyError:
        known = ", ".join(DECODERS)
        raise UnknownDecoder(f"no decoder {name!r}: choose one of {known}") from None
    return factory()
