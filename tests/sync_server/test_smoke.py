"""The server starts on each database, answers its health check and serves its OpenAPI."""

from __future__ import annotations

import httpx

from tests.support.server import RunningServer


def test_health_and_openapi(server: RunningServer) -> None:
    assert httpx.get(f"{server.url}/health").json()["status"] == "ok"
    schema = httpx.get(f"{server.url}/openapi.json").json()
    assert "/api/v1/gate/changes" in schema["paths"]
    assert httpx.get(f"{server.url}/docs").status_code == 200
