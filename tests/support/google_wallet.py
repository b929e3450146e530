"""Google's own field list of the Wallet API (its discovery document, ``walletobjects`` v1,
revision 20260806, as shipped in google-api-python-client 2.202.0 at
``googleapiclient/discovery_cache/documents/walletobjects.v1.json``; SHA-256 ``dfd19499...``),
and a strict check of a JSON value against one of its schemas: no field Google does not define,
each of the type it says, enum values current (not the deprecated aliases), and every field it
marks "Required." present."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DISCOVERY = Path(__file__).parents[1] / "data" / "google" / "walletobjects.v1.json"
DISCOVERY_SHA256 = "dfd194996f006282fdc9c67b0f50cd8479ed178100967bbd11c61bdecd7c8245"


@cache
def schemas() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DISCOVERY.read_text(encoding="utf-8"))
    return dict(document["schemas"])


def problems(value: Any, schema: str) -> list[str]:
    """What in ``value`` does not fit Google's schema ``schema`` (empty: it fits)."""
    found: list[str] = []
    _check(value, {"$ref": schema}, schema, found)
    return found


def _check(value: Any, spec: dict[str, Any], where: str, found: list[str]) -> None:
    if "$ref" in spec:
        definition = schemas()[spec["$ref"]]
        if not isinstance(value, dict):
            found.append(f"{where}: an object ({spec['$ref']}) expected")
            return
        fields = definition.get("properties", {})
        for name in sorted(set(value) - set(fields)):
            found.append(f"{where}.{name}: no such field in {spec['$ref']}")
        for name, field in fields.items():
            if name in value:
                _check(value[name], field, f"{where}.{name}", found)
            elif field.get("description", "").startswith("Required."):
                found.append(f"{where}.{name}: required by {spec['$ref']}")
        return
    kind = spec.get("type")
    if kind == "string":
        if not isinstance(value, str):
            found.append(f"{where}: a string expected, not {value!r}")
        elif "enum" in spec:
            old = spec.get("enumDeprecated", [False] * len(spec["enum"]))
            current = [v for v, gone in zip(spec["enum"], old, strict=True) if not gone]
            if value not in current:
                found.append(f"{where}: {value!r} is none of {current}")
        elif spec.get("format") == "int64" and not value.lstrip("-").isdigit():
            found.append(f"{where}: an int64 (as a string) expected, not {value!r}")
    elif kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            found.append(f"{where}: an integer expected, not {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            found.append(f"{where}: a boolean expected")
    elif kind == "array":
        if not isinstance(value, list):
            found.append(f"{where}: an array expected")
            return
        for i, item in enumerate(value):
            _check(item, spec.get("items", {}), f"{where}[{i}]", found)
