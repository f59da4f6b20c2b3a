"""Injected faults: status, delay past the client's timeout, malformed bodies, dropped sockets."""

from __future__ import annotations

import json

import httpx
import pytest

from amber_tesla_sync.sandbox import Sandbox


def test_status_fault_for_the_next_n_requests(amber: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.add_fault(
        "/amber/v1/sites", status=502, body={"message": "Internal server error"}, count=2
    )
    first, second, third = (amber.get("/sites") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (502, 502, 200)
    assert first.json() == {"message": "Internal server error"}
    assert sandbox.faults() == []
    log = sandbox.requests()
    assert [e["fault"] for e in log] == ["status", "status", None]


def test_fault_path_prefix_and_method(amber: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.add_fault("/amber/v1/sites/", status=500, method="GET")
    assert amber.get("/sites").status_code == 200  # the prefix does not match "/sites"
    sandbox.clear_faults()
    sandbox.add_fault("/amber/v1/sites", status=503, method="POST")
    assert amber.get("/sites").status_code == 200
    assert len(sandbox.faults()) == 1


def test_status_fault_with_text_body_and_headers(amber: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.add_fault("/amber", status=429, body="slow down", headers={"Retry-After": "7"})
    response = amber.get("/sites")
    assert response.status_code == 429
    assert response.text == "slow down" and response.headers["Retry-After"] == "7"


def test_delay_past_the_client_timeout(amber: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.add_fault("/amber/v1/sites", "delay", delay_seconds=1.0)
    with pytest.raises(httpx.ReadTimeout):
        amber.get("/sites", timeout=0.2)
    assert amber.get("/sites", timeout=5).status_code == 200


def test_delayed_response_still_arrives_for_a_patient_client(
    amber: httpx.Client, sandbox: Sandbox
) -> None:
    sandbox.add_fault("/amber/v1/sites", "delay", delay_seconds=0.3)
    response = amber.get("/sites", timeout=5)
    assert response.status_code == 200 and response.json()


def test_truncated_json(amber: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.add_fault("/amber/v1/sites", "malformed", malformed="truncated")
    response = amber.get("/sites")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert "RateLimit-Remaining" in response.headers


def test_wrong_shape_and_not_json(amber: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.add_fault("/amber/v1/sites", "malformed", malformed="wrong_shape")
    assert isinstance(amber.get("/sites").json(), dict)  # a list was expected
    sandbox.add_fault("/amber/v1/sites", "malformed", malformed="not_json")
    response = amber.get("/sites")
    assert response.headers["content-type"].startswith("text/html")
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_dropped_connection(amber: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.add_fault("/amber/v1/sites", "drop")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        amber.get("/sites")
    assert amber.get("/sites").status_code == 200


def test_faults_on_fleet_and_token_endpoints(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.add_fault("/auth/oauth2/v3/token", status=503, body={"error": "unavailable"})
    assert http.post(sandbox.token_url, data={"grant_type": "refresh_token"}).status_code == 503
    sandbox.add_fault("/fleet/na/api/1/energy_sites", "drop")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        http.get(f"{sandbox.fleet_na_base_url}/api/1/energy_sites/1/site_info")


def test_faults_through_the_control_api(
    http: httpx.Client, sandbox: Sandbox, amber: httpx.Client
) -> None:
    url = f"{sandbox.control_base_url}/faults"
    added = http.post(url, json=[
        {"path": "/amber/v1/sites", "kind": "status", "status": 500, "count": 1},
        {"path": "/teslemetry", "kind": "malformed", "malformed": "truncated"},
    ])  # fmt: skip
    assert added.status_code == 200
    assert len(added.json()["faults"]) == 2
    assert amber.get("/sites").status_code == 500
    assert http.post(url, json={"path": "amber", "kind": "status"}).status_code == 400
    assert http.post(url, json={"path": "/x", "kind": "explode"}).status_code == 400
    assert http.delete(url).json() == {"faults": []}
    assert sandbox.faults() == []
