"""Malformed Amber answers through `sync` against the sandbox: a body that is not JSON (cut
short, an HTML page with status 200, empty, nested absurdly deep) or JSON of the wrong type is
bad data (exit 4) with a message that says so, never "Amber may be having problems" (exit 8) or
a crash; nothing is written to Tesla and the Powerwall keeps its last good tariff."""

from __future__ import annotations

import json
from typing import Any

import pytest

from amber_tesla_sync.errors import ExitCode
from synckit import Synced

DEEP = "[" * 100_000 + "]" * 100_000
NOT_JSON = {
    "truncated": '[{"type": "ForecastInterval", "duration": 30, "endTime": "2026-01-15T06:',
    "html": "<html><head><title>Amber</title></head><body><h1>Maintenance</h1></body></html>",
    "empty": "",
    "deep-array": DEEP,
    "deep-object": '{"a":' * 100_000 + "1" + "}" * 100_000,
}
WRONG_TYPE: dict[str, Any] = {
    "object": {"prices": []},
    "error-object": {"message": "Internal server error"},
    "string": "[]",  # JSON text inside a JSON string
    "number": 42,
    "null": None,
    "true": True,
    "array-of-numbers": [1, 2, 3],
    "array-of-arrays": [[{"type": "ForecastInterval"}]],
    "deep-inside-array": [json.loads("[" * 500 + "]" * 500)],
}


def serve_raw(synced: Synced, body: Any, content_type: str | None = None) -> None:
    """Every price request of the run (three attempts) gets ``body`` with status 200: a string
    is sent as it is, anything else as JSON."""
    headers = {"Content-Type": content_type} if content_type else {}
    synced.sandbox.add_fault(
        f"/amber/v1/sites/{synced.sandbox.amber_site_id}/prices/current",
        "status",
        status=200,
        body=body,
        headers=headers,
        count=3,
    )


def refused_as_bad_data(synced: Synced, before: Any, needle: str) -> None:
    result = synced.sync()
    text = result.stdout + result.stderr
    assert result.code == ExitCode.BAD_DATA, text
    assert needle in text
    assert "Amber may be having problems" not in text
    assert "Traceback" not in text
    assert "keeps its tariff" in text
    assert len(synced.sandbox.tariff_posts()) == 1
    assert not [r for r in synced.tesla_requests() if r.get("method") == "POST"]
    assert synced.sandbox.stored_tariff() == before
    summary = synced.sync_json()
    assert summary["_code"] == ExitCode.BAD_DATA
    assert needle in summary["sites"][0]["error"]


@pytest.mark.parametrize("name", list(NOT_JSON))
def test_a_body_that_is_not_json_is_bad_data(pushed: Synced, name: str) -> None:
    before = pushed.sandbox.stored_tariff()
    content_type = "text/html" if name == "html" else "application/json"
    serve_raw(pushed, NOT_JSON[name], content_type)
    serve_raw(pushed, NOT_JSON[name], content_type)  # the second run (--json) meets the same
    refused_as_bad_data(pushed, before, "Amber's price response is not JSON")


@pytest.mark.parametrize("name", list(WRONG_TYPE))
def test_json_of_the_wrong_type_is_bad_data(pushed: Synced, name: str) -> None:
    before = pushed.sandbox.stored_tariff()
    body = WRONG_TYPE[name]
    if isinstance(body, str) or body is None:
        body = json.dumps(body)  # sent as JSON text, not as a raw body
    serve_raw(pushed, body, "application/json")
    serve_raw(pushed, body, "application/json")
    refused_as_bad_data(pushed, before, "Amber's price response")
