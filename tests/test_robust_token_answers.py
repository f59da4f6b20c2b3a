"""The Fleet token endpoint's answers that cannot be used (nested deeper than the parser follows,
not JSON, an ``expires_in`` that is no number of seconds) and saved tokens so damaged: each ends
as a clear error with its exit code (8: Tesla's sign-in service answered with something
unusable; 6: log in again), never an internal error. Over loopback: a stub token endpoint, and
the sandbox's for a whole ``sync``."""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from amber_tesla_sync.errors import AppError, ExitCode
from amber_tesla_sync.store.secrets import FLEET_TOKENS
from amber_tesla_sync.support.http import NetworkPolicy
from amber_tesla_sync.tesla.oauth import TokenEndpoint
from amber_tesla_sync.tesla.tokens import FleetTokens
from stubserver import Stub, stub_server
from synckit import Synced, fleet_login

POLICY = NetworkPolicy(timeout=5.0, attempts=2, backoff=0.0)
TOKENS = '{"access_token": "a1", "refresh_token": "r1", "expires_in": %s}'


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@contextlib.contextmanager
def token_endpoint(status: int, body: str) -> Iterator[Stub]:
    with stub_server(lambda method, path: (status, body)) as stub:
        yield stub


def refreshed(stub: Stub) -> AppError:
    endpoint = TokenEndpoint(stub.url + "/oauth2/v3/token", POLICY)
    with pytest.raises(AppError) as failed:
        endpoint.refresh("client-id", "the-refresh-token")
    assert len(stub.seen) == POLICY.attempts  # asked again, as any garbled answer
    return failed.value


def test_a_refresh_answer_nested_too_deep_is_a_malformed_answer() -> None:
    with token_endpoint(200, nested(100_000)) as stub:
        error = refreshed(stub)
    assert error.exit_code == ExitCode.SERVICE == 8
    assert "refreshing the Fleet token failed" in error.message
    assert "malformed response (nested too deeply)" in error.message
    assert error.hint and "try again later" in error.hint


def test_a_refresh_answer_that_is_not_json_is_a_malformed_answer() -> None:
    with token_endpoint(200, "<html><body>Service Unavailable</body></html>") as stub:
        error = refreshed(stub)
    assert error.exit_code == ExitCode.SERVICE
    assert "malformed response (not JSON)" in error.message


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400", "-5", "true", '"8h"'])
def test_an_expires_in_that_is_no_number_of_seconds(value: str) -> None:
    with token_endpoint(200, TOKENS % value) as stub:
        error = refreshed(stub)
    assert error.exit_code == ExitCode.SERVICE
    assert "no valid expires_in" in error.message


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ('{"refresh_token": "r1", "expires_in": 28800}', "access_token"),
        ('{"access_token": "a1", "refresh_token": "", "expires_in": 28800}', "refresh_token"),
        ('{"access_token": ["a1"], "refresh_token": "r1"}', "access_token"),
    ],
)
def test_a_token_answer_without_its_tokens_is_a_malformed_answer(body: str, missing: str) -> None:
    with token_endpoint(200, body) as stub:
        error = refreshed(stub)
    assert error.exit_code == ExitCode.SERVICE
    assert f"Tesla's token response has no {missing}" in error.message


def test_a_refusal_nested_too_deep_is_still_a_refusal() -> None:
    with token_endpoint(400, nested(100_000)) as stub:
        endpoint = TokenEndpoint(stub.url + "/oauth2/v3/token", POLICY)
        with pytest.raises(AppError) as failed:
            endpoint.refresh("client-id", "the-refresh-token")
    assert failed.value.exit_code == ExitCode.AUTH == 6
    assert "Tesla refused it (HTTP 400)" in failed.value.message
    assert len(stub.seen) == 1  # a refusal is not asked again


@dataclass
class Found:
    value: str
    writable: bool = True
    origin: str = "the test"


class OneSecret:
    """A secret store holding only the Fleet tokens (what FleetTokens.load reads)."""

    def __init__(self, value: str) -> None:
        self.value = value

    def find(self, name: str) -> Found | None:
        return Found(self.value) if name == FLEET_TOKENS else None


@pytest.mark.parametrize(
    "saved",
    [
        '{"tokens": ' + nested(100_000) + "}",
        nested(100_000),
        '{"access_token": "a", "refresh_token": "r", "expires_at": NaN}',
        "not json at all",
    ],
    ids=["nested object", "nested list", "NaN expiry", "not JSON"],
)
def test_saved_tokens_so_damaged_ask_for_a_new_login(saved: str) -> None:
    store: Any = OneSecret(saved)
    tokens = FleetTokens(store, TokenEndpoint("http://127.0.0.1:9/token"), "client-id")
    with pytest.raises(AppError) as failed:
        tokens.token()
    assert failed.value.exit_code == ExitCode.AUTH
    assert failed.value.message == "the saved Fleet tokens are damaged"
    assert failed.value.hint == "run `amber-tesla-sync login fleet`"


@pytest.mark.parametrize(
    ("body", "detail"),
    [(nested(100_000), "nested too deeply"), ("<html>busy</html>", "not JSON")],
)
def test_a_sync_whose_token_refresh_is_answered_unreadably(
    synced: Synced, body: str, detail: str
) -> None:
    fleet_login(synced.site)
    assert synced.run("logout", "teslemetry").code == 0  # no other route to the Powerwall
    synced.sandbox.expire_access_tokens()  # Tesla answers 401: the token must be refreshed
    token_path = urllib.parse.urlsplit(synced.sandbox.token_url).path
    synced.sandbox.add_fault(token_path, "status", status=200, body=body, count=10)
    result = synced.sync()
    assert result.code == ExitCode.SERVICE, result.stderr
    assert f"refreshing the Fleet token failed: Tesla sent a malformed response ({detail})" in (
        result.stderr
    )
    assert "internal error" not in result.stderr
    assert synced.sandbox.tariff_posts() == []
