"""Schemathesis against the real uvicorn server: whatever it is sent, no operation answers 5xx.

The schema is the one the running server serves at ``/openapi.json``. Every operation gets valid
and invalid requests (schemathesis' positive and negative generation); back-office paths carry the
admin token and the gate API an enrolled device's token, so requests get past authentication into
the code that could break. Deterministic (derandomized, no example database) and bounded, so CI
runs the same examples every time.

(``schemathesis.pytest.from_fixture`` would be the short way, but it needs ``Node._nodeid``, which
pytest 9 removed; the operation strategies with ``hypothesis.given`` do the same job.)
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import BaseSchema, Case, GenerationMode
from schemathesis.checks import not_a_server_error

from sync_server.api.main import API_PREFIX, create_app
from tests.support.server import RunningServer
from tests.support.site import ok

MAX_EXAMPLES = 20
GATE_API = f"{API_PREFIX}/gate/"
# The event stream never ends: the sync tests cover it; it cannot be fuzzed request by request.
NOT_FUZZED = {("GET", f"{API_PREFIX}/gate/stream")}
_PATHS = create_app().openapi()["paths"]
OPERATIONS = sorted(
    (method.upper(), path)
    for path, methods in _PATHS.items()
    for method in methods
    if (method.upper(), path) not in NOT_FUZZED
)
# Invalid requests need an input to spoil: operations without parameters or body get valid ones.
CASES = [
    pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE
    or {"parameters", "requestBody"} & set(_PATHS[path][method.lower()])
]


@pytest.fixture(scope="module")
def device_token(server: RunningServer) -> str:
    """An enrolled gate, so the gate API is fuzzed behind its authentication too."""
    venue = f"FUZZ-{uuid.uuid4().hex[:8]}"
    zones = [{"code": "NORD", "name": "Nord"}]
    with server.client("admin") as admin:
        ok(admin.post("/venues", json={"code": venue, "name": "Fuzz", "zones": zones}), 201)
        ok(admin.post("/gates", json={"venue": venue, "name": "G1", "zones": ["NORD"]}), 201)
        code = ok(admin.post(f"/venues/{venue}/gates/G1/enrollment"), 201)["code"]
        token: str = ok(admin.post("/gate/enroll", json={"code": code}), 201)["token"]
    return token


@pytest.fixture(scope="module")
def api_schema(server: RunningServer) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json")


def test_served_schema_has_every_operation(api_schema: BaseSchema) -> None:
    """The fuzzed list comes from the app; the running server must serve the same operations."""
    served = {
        (method.upper(), path)
        for path, methods in api_schema.raw_schema["paths"].items()
        for method in methods
    }
    assert served - NOT_FUZZED == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_no_server_error(
    api_schema: BaseSchema,
    server: RunningServer,
    device_token: str,
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    operation = api_schema[path][method]
    token = device_token if path.startswith(GATE_API) else server.tokens["admin"]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=False,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )
    def no_server_error(case: Case[Any]) -> None:
        case.call_and_validate(
            base_url=server.url,
            headers={"Authorization": f"Bearer {token}"},
            checks=[not_a_server_error],
            timeout=30,
        )

    no_server_error()
