"""Both decoders on the team's real QR photos, on synthetic 720p frames and on awkward payloads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import segno

from bench.decoders import Sample, load_corpus, qr_image, same_text, synthetic_frame
from scanner_app.decoders import (
    DECODERS,
    DEFAULT_DECODER,
    Decoder,
    PyzbarDecoder,
    UnknownDecoder,
    ZxingDecoder,
    make_decoder,
    payload_text,
)

# Floors below the measured rates (zxing-cpp 71/74, pyzbar 56/74, see docs/BENCHMARKS.md), with
# room for a library update, never tuned image by image.
SUCCESS_FLOOR = {"zxing-cpp": 0.90, "pyzbar": 0.70}
EG1_LIKE = "EG1:" + "6BFOXN*PZ6MN3KL$TL/Q-E:ZR%5M 0" * 9 + "ABC"  # 286 alphanumeric characters


@pytest.fixture(scope="module")
def corpus(team_shared: Path) -> list[Sample]:
    samples = load_corpus(team_shared / "corpus" / "qr")
    assert len(samples) >= 70, "the QR corpus is incomplete"
    return samples


@pytest.fixture(params=sorted(DECODERS))
def decoder(request: pytest.FixtureRequest) -> Decoder:
    return make_decoder(request.param)


def decoded(decoder: Decoder, sample: Sample) -> list[str]:
    return decoder.decode(sample.image)


def test_success_rate_on_real_photos(decoder: Decoder, corpus: list[Sample]) -> None:
    assert all(sample.expected is not None for sample in corpus)
    hits = sum(
        any(same_text(text, sample.expected or "") for text in decoded(decoder, sample))
        for sample in corpus
    )
    assert hits / len(corpus) >= SUCCESS_FLOOR[decoder.name]


def test_zxing_decodes_are_exact_to_the_byte(corpus: list[Sample]) -> None:
    """When zxing-cpp reads a photo, the expected text is among what it returns, CR LF included.

    (One photo holds a second code inside the first: both are returned.)"""
    decoder = ZxingDecoder()
    for sample in corpus:
        texts = decoded(decoder, sample)
        assert not texts or sample.expected in texts, sample.name


def test_pyzbar_misreads_only_non_ascii_text(corpus: list[Sample]) -> None:
    """libzbar guesses the charset of 8-bit text (often Shift-JIS, wrongly); ASCII is exact."""
    decoder = PyzbarDecoder()
    for sample in corpus:
        assert sample.expected is not None
        texts = decoded(decoder, sample)
        if texts and sample.expected.isascii():
            assert texts == [sample.expected], sample.name


def test_synthetic_720p_frames(decoder: Decoder) -> None:
    rng = np.random.default_rng(6)
    for module_px in (4, 5):
        frame = synthetic_frame(EG1_LIKE, rng, module_px=module_px)
        assert frame.shape == (720, 1280)
        assert decoder.decode(frame) == [EG1_LIKE]
    assert decoder.decode(synthetic_frame(None, rng)) == []


def test_the_default_is_zxing() -> None:
    assert DEFAULT_DECODER == "zxing-cpp"
    assert isinstance(make_decoder(), ZxingDecoder)


def test_unknown_decoder_lists_the_known_ones() -> None:
    with pytest.raises(UnknownDecoder, match="zxing-cpp, pyzbar"):
        make_decoder("zbar")


def test_colour_images_are_refused(decoder: Decoder) -> None:
    with pytest.raises(ValueError, match="grayscale"):
        decoder.decode(np.zeros((10, 10, 3), np.uint8))


def test_one_code_twice_in_a_frame_is_reported_once(decoder: Decoder) -> None:
    qr = qr_image("EG1:TWICE", module_px=4)
    frame = np.full((qr.shape[0], qr.shape[1] * 2), 255, np.uint8)
    frame[:, : qr.shape[1]] = qr
    frame[:, qr.shape[1] :] = qr
    assert decoder.decode(frame) == ["EG1:TWICE"]


# -- payloads that are not plain ASCII ------------------------------------------------------------


def image_of(payload: str | bytes, *, encoding: str | None = None, eci: bool = False) -> np.ndarray:
    qr = segno.make_qr(payload, error="m", boost_error=False, encoding=encoding, eci=eci)
    modules = np.pad(np.array(qr.matrix, dtype=np.uint8), 4)
    return np.repeat(np.repeat(np.where(modules == 1, 0, 255), 4, 0), 4, 1).astype(np.uint8)


def test_zxing_keeps_control_characters() -> None:
    """In its default HRI mode zxing-cpp would give "<SOH><DLE>" here."""
    assert ZxingDecoder().decode(image_of("\x01\x10AD:SUB;;")) == ["\x01\x10AD:SUB;;"]


def test_utf8_text_reads_the_same_with_both(decoder: Decoder) -> None:
    assert decoder.decode(image_of("Virage Nord – مرحبا", encoding="utf-8", eci=True)) == [
        "Virage Nord – مرحبا"
    ]


def test_binary_payloads_never_raise(decoder: Decoder) -> None:
    texts = decoder.decode(image_of(bytes([0, 1, 2, 0xFF, 0xFE, 0x80, 0x41])))
    assert len(texts) == 1
    assert texts[0].endswith("A")


def test_payload_text_falls_back_without_raising() -> None:
    assert payload_text("é".encode()) == "é"
    assert payload_text(b"\xff\xfeA") == "ÿþA"
    assert payload_text(bytes(range(256))) == bytes(range(256)).decode("latin-1")
