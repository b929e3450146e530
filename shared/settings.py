"""Settings read from a gate's TOML file, checked strictly: unknown keys and wrong types refused.

Every section of ``gate.toml`` (``[gate]``, ``[sync]``, ``[kiosk]``, ``[camera]``, ``[scanning]``,
``[wedge]``, ``[relay]``, ``[sensor]``) is a dataclass decorated with :data:`strict_settings`
and read with :func:`read_section`: pydantic checks each value against the field's type as TOML
gives it (a string is never taken for a number or a boolean, ``show_holder_name = "no"`` is
refused rather than read as a true value, a whole number stands for a float, a list for a
tuple), a key the section does not know is refused, and the message names the section and the
key. The dataclass's own ``__post_init__`` then checks ranges and combinations.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any, TypeVar

from pydantic import ConfigDict, TypeAdapter, ValidationError, with_config

_STRICT = ConfigDict(strict=True, extra="forbid")
strict_settings: Callable[[type[Any]], type[Any]] = with_config(_STRICT)
"""Decorates a settings dataclass (above ``@dataclass``): strict types, no unknown keys."""

T = TypeVar("T")

_EXPECTED = {
    "int_type": "int (a whole number)",
    "int_from_float": "int (a whole number)",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string, in quotes",
    "tuple_type": "a list, e.g. [17, 27]",
    "list_type": "a list, e.g. [17, 27]",
    "dict_type": "a table",
}


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _validate(cls: type[T], document: str) -> T:
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    validated: T = adapter.validate_json(document)
    return validated


def read_section(
    cls: type[T], values: object, section: str, error: Callable[[str], Exception]
) -> T:
    """``cls`` from the TOML table ``[section]``; anything wrong raises ``error(message)``."""
    if not isinstance(values, Mapping):
        raise error(f"[{section}] must be a table, not {values!r}")
    try:
        # JSON mode: TOML's values are JSON's (plus dates, which no setting takes), and strict
        # JSON validation takes a list for a tuple and a whole number for a float, nothing else.
        return _validate(cls, json.dumps(dict(values), default=str))
    except ValidationError as exc:
        raise error(_explain(exc, cls, section)) from None


def _explain(exc: ValidationError, cls: type[Any], section: str) -> str:
    unknown = [str(e["loc"][0]) for e in exc.errors() if e["type"] == "unexpected_keyword_argument"]
    if unknown:
        known = ", ".join(sorted(f.name for f in fields(cls) if f.init))
        return f"[{section}] has unknown setting(s) {', '.join(unknown)}; known: {known}"
    problems = []
    for e in exc.errors():
        key = ".".join(str(part) for part in e["loc"][:1])
        if e["type"] == "missing":
            problems.append(f"[{section}] needs {key}")
        elif e["type"] == "value_error":
            problems.append(str(e["msg"]).removeprefix("Value error, "))
        elif e["type"] in _EXPECTED:
            problems.append(f"[{section}] {key} must be {_EXPECTED[e['type']]}, not {e['input']!r}")
        else:
            problems.append(f"[{section}] {key}: {e['msg']}")
    return "; ".join(dict.fromkeys(problems))
