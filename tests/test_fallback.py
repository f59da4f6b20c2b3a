"""Fleet → Teslemetry in the same run: Fleet faults injected in the sandbox with Teslemetry
working; the outcome says which backend did the work. And what doctor says about each backend."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from amber_tesla_sync.errors import ExitCode
from synckit import Synced, fleet_login


def with_fleet(synced: Synced, timeout: float | None = None) -> None:
    fleet_login(synced.site)
    if timeout is not None:
        text = synced.site.config.read_text().replace(
            "timeout_seconds = 2.0", f"timeout_seconds = {timeout}"
        )
        synced.site.config.write_text(text)
    synced.sandbox.clear_requests()


def fleet_path(synced: Synced) -> str:
    return f"/fleet/na/api/1/energy_sites/{synced.sandbox.energy_site_id}"


def services(synced: Synced, method: str) -> list[str]:
    return [r["service"] for r in synced.tesla_requests() if r["method"] == method]


def logged_eventually(synced: Synced, service: str, method: str) -> bool:
    """Whether the sandbox logs a ``method`` request to ``service`` within 5 s: a request the
    client gave up on (a timeout) is logged when the sandbox's delayed answer is done."""
    deadline = time.monotonic() + 5
    while service not in services(synced, method):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


FAULTS: list[tuple[str, dict[str, Any]]] = [
    ("500", {"kind": "status", "status": 500}),
    ("503", {"kind": "status", "status": 503}),
    ("402 billing off", {"kind": "status", "status": 402, "body": {"error": "payment required"}}),
    ("429 rate limited", {"kind": "status", "status": 429, "body": {"error": "too many"}}),
    ("connection dropped", {"kind": "drop"}),
    ("timeout", {"kind": "delay", "delay_seconds": 3.0}),
]


@pytest.mark.parametrize(("name", "fault"), FAULTS, ids=[name for name, _ in FAULTS])
def test_fleet_faults_are_routed_through_teslemetry(
    synced: Synced, name: str, fault: dict[str, Any]
) -> None:
    # a total deadline per request: wide enough for Teslemetry on a loaded machine
    with_fleet(synced, timeout=1.0 if fault["kind"] == "delay" else None)
    kind = fault.pop("kind")
    synced.sandbox.add_fault(fleet_path(synced), kind, count=20, **fault)
    summary = synced.sync_json()
    assert summary["_code"] == 0, summary
    site = summary["sites"][0]
    assert site["outcome"] == "verified"
    assert site["backend"] == "teslemetry"
    assert summary["fleet_fallback"] and "Fleet API" in summary["fleet_fallback"]
    assert services(synced, "POST") == ["teslemetry"]  # the push went through Teslemetry
    assert logged_eventually(synced, "fleet", "GET")  # Fleet was tried first
    assert len(synced.sandbox.tariff_posts()) == 1
    text = synced.sync("--force")
    assert "the Fleet API failed" in text.stdout and "via Teslemetry" in text.stdout


def test_fleet_works_and_does_the_work(synced: Synced) -> None:
    with_fleet(synced)
    summary = synced.sync_json()
    assert summary["sites"][0]["backend"] == "fleet"
    assert summary["fleet_fallback"] is None
    assert set(services(synced, "GET") + services(synced, "POST")) == {"fleet"}


def test_a_dead_fleet_login_falls_back_and_says_so(synced: Synced) -> None:
    with_fleet(synced)
    synced.sandbox.revoke_refresh_tokens()
    synced.sandbox.expire_access_tokens()
    summary = synced.sync_json()
    assert summary["_code"] == 0
    assert summary["sites"][0]["backend"] == "teslemetry"
    assert "login" in summary["fleet_fallback"] or "expired" in summary["fleet_fallback"]


def test_failures_teslemetry_would_share_are_not_retried_there(synced: Synced) -> None:
    with_fleet(synced)
    synced.sandbox.add_fault(
        fleet_path(synced), "status", status=404, body={"error": "not found"}, count=5
    )
    summary = synced.sync_json()
    assert summary["_code"] == ExitCode.SERVICE
    assert summary["fleet_fallback"] is None
    assert "teslemetry" not in services(synced, "GET")


def test_without_teslemetry_a_fleet_failure_fails_the_run(synced: Synced) -> None:
    with_fleet(synced)
    assert synced.run("logout", "teslemetry").code == 0
    synced.sandbox.add_fault(fleet_path(synced), "status", status=503, count=20)
    summary = synced.sync_json()
    assert summary["_code"] == ExitCode.SERVICE
    assert summary["sites"][0]["backend"] == "fleet"


def test_doctor_fails_a_dead_fleet_login_even_when_teslemetry_works(synced: Synced) -> None:
    with_fleet(synced)
    synced.sandbox.revoke_refresh_tokens()
    synced.sandbox.expire_access_tokens()
    result = synced.run("doctor", "--json")
    assert result.code == ExitCode.CHECKS_FAILED
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    key = synced.sandbox.amber_site_id
    fleet = checks[f"Tesla via the Fleet API ({key})"]
    assert not fleet["ok"] and fleet["used"] == "fleet" and "login fleet" in fleet["fix"]
    teslemetry = checks[f"Tesla via Teslemetry ({key})"]
    assert teslemetry["ok"] and teslemetry["used"] == "teslemetry"
    assert checks[f"Powerwall ({key})"]["used"] == "teslemetry"
    text = synced.run("doctor").stdout
    assert "✗ Tesla via the Fleet API" in text and "✓ Tesla via Teslemetry" in text
