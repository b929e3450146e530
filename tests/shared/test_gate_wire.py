"""The gate-server wire models, shared by both sides (issue 13): the gate builds its requests
with them, so the limits are declared once and an odd scan never costs a whole batch."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from shared.gate_wire import (
    DETAIL_MAX,
    STATE_MAX,
    UPLOAD_MAX,
    Heartbeat,
    ScanIn,
    ScanUpload,
)
from shared.model import Direction, ScanRecord


def record(**fields: object) -> ScanRecord:
    values: dict[str, object] = {
        "scan_id": str(uuid.uuid4()),
        "gate": "NORD-1",
        "direction": Direction.IN,
        "reason": "malformed",
        "scanned_at_ms": 1_800_000_000_000,
        **fields,
    }
    return ScanRecord(**values)  # type: ignore[arg-type]


def test_a_scan_of_the_log_travels_field_for_field() -> None:
    scan = record(right_id=bytes(range(16)), event="DERBY", zone="NORD", latency_ms=1.5,
                  operator="leila", detail="ok", annuls=str(uuid.uuid4()))  # fmt: skip
    sent = ScanIn.from_record(scan).model_dump(mode="json")
    assert sent["right_id"] == bytes(range(16)).hex() and sent["direction"] == "in"
    assert {k: sent[k] for k in ("event", "zone", "operator", "detail", "annuls")} == {
        "event": "DERBY", "zone": "NORD", "operator": "leila", "detail": "ok",
        "annuls": scan.annuls,
    }  # fmt: skip
    assert ScanIn.model_validate(sent) == ScanIn.from_record(scan)


def test_a_long_or_nul_detail_is_cut_not_refused() -> None:
    scan = record(detail="A\x00" + "x" * 5_000)
    sent = ScanIn.from_record(scan)
    assert len(sent.detail) == DETAIL_MAX
    assert sent.detail.startswith("A\ufffdx")
    # the server reads the same model: what the gate sends, it takes
    assert ScanIn.model_validate(sent.model_dump(mode="json")).detail == sent.detail


def test_a_device_state_is_cut_to_the_wires_limit() -> None:
    beat = Heartbeat(camera="error: " + "no frames " * 50, relay="ok")
    assert len(beat.camera) == STATE_MAX and beat.relay == "ok"


@pytest.mark.parametrize(
    "bad",
    [
        {"scan_id": "not-a-uuid"},
        {"reason": ""},
        {"right_id": "00"},
        {"scanned_at_ms": -1},
        {"extra_field": 1},
        {"gate": "G" * 201},
    ],
)
def test_what_is_not_a_scan_is_still_refused(bad: dict[str, object]) -> None:
    good = ScanIn.from_record(record()).model_dump(mode="json")
    with pytest.raises(ValidationError):
        ScanIn.model_validate({**good, **bad})


def test_an_upload_has_a_ceiling() -> None:
    one = ScanIn.from_record(record()).model_dump(mode="json")
    ScanUpload.model_validate({"scans": [one] * UPLOAD_MAX})
    with pytest.raises(ValidationError):
        ScanUpload.model_validate({"scans": [one] * (UPLOAD_MAX + 1)})
