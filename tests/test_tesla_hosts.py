"""A Tesla credential goes only to Tesla's documented hosts or to the host the user configured: a
421 or a region answer naming anything else is refused, and the configuration keeps its host."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from amber_tesla_sync.accounts.fleet import _region
from amber_tesla_sync.tesla.hosts import is_documented, is_trusted
from e2ekit import E2E, assert_failed
from stubserver import stub_server


@pytest.mark.parametrize(
    ("url", "documented"),
    [
        ("https://fleet-api.prd.na.vn.cloud.tesla.com", True),
        ("https://fleet-api.prd.eu.vn.cloud.tesla.com/", True),
        ("https://FLEET-API.prd.cn.vn.cloud.tesla.cn", True),
        ("https://api.teslemetry.com", False),  # Teslemetry's, not Tesla's
        ("http://fleet-api.prd.na.vn.cloud.tesla.com", False),  # plain http
        ("https://fleet-api.prd.na.vn.cloud.tesla.com:8443", False),
        ("https://fleet-api.prd.na.vn.cloud.tesla.com.evil.example", False),
        ("https://evil.example/fleet-api.prd.na.vn.cloud.tesla.com", False),
        ("https://user@evil.example", False),
        ("fleet-api.prd.na.vn.cloud.tesla.com", False),
        ("https://[::1", False),  # unparsable
    ],
)
def test_documented_hosts(url: str, documented: bool) -> None:
    assert is_documented(url) is documented


def test_a_token_never_crosses_between_tesla_and_teslemetry() -> None:
    assert is_documented("https://api.teslemetry.com", "teslemetry")
    assert not is_documented("https://fleet-api.prd.na.vn.cloud.tesla.com", "teslemetry")
    assert not is_trusted("https://api.teslemetry.com", (), "fleet")


def test_a_configured_origin_is_trusted_and_nothing_else() -> None:
    configured = ("http://127.0.0.1:8080/fleet/eu",)
    assert is_trusted("http://127.0.0.1:8080/fleet/na", configured)
    assert not is_trusted("http://127.0.0.1:8081/fleet/na", configured)  # another port
    assert not is_trusted("https://127.0.0.1:8080/fleet/na", configured)  # another scheme
    assert not is_trusted("http://localhost:8080/fleet/na", configured)  # another host name


def _answer_421(target: str) -> Any:
    def answer(method: str, path: str) -> tuple[int, Any]:
        return 421, {
            "response": None,
            "error": f"user out of region, use base URL: {target}, see the docs",
            "error_description": "",
        }

    return answer


def test_a_421_naming_another_host_is_refused(e2e: E2E) -> None:
    e2e.seed_amber()
    e2e.seed_fleet()
    with (
        stub_server(lambda method, path: (200, {"response": {}})) as elsewhere,
        stub_server(_answer_421(elsewhere.url + "/")) as configured,
    ):
        e2e.configure({"tesla.fleet_api_url": configured.url})
        before = e2e.config_text()
        result = e2e.run("sync")
        assert_failed(result, 8, "421", "not one of Tesla's documented hosts", "refused")
        assert configured.seen, "the configured host was asked"
        assert all(seen.headers.get("Authorization") for seen in configured.seen)
        # the other host received nothing, certainly no Authorization header
        assert not any("Authorization" in seen.headers for seen in elsewhere.seen)
        assert elsewhere.seen == []
        assert e2e.config_text() == before
        assert f'fleet_api_url = "{configured.url}"' in before


def test_a_421_naming_a_plain_http_tesla_host_is_refused(e2e: E2E) -> None:
    e2e.seed_amber()
    e2e.seed_fleet()
    with stub_server(_answer_421("http://fleet-api.prd.na.vn.cloud.tesla.com")) as configured:
        e2e.configure({"tesla.fleet_api_url": configured.url})
        result = e2e.run("sync")
        assert_failed(result, 8, "http://fleet-api.prd.na.vn.cloud.tesla.com", "refused")
        assert "fleet-api.prd.na" not in e2e.config_text()


def test_a_region_answer_naming_another_host_is_not_saved(
    e2e: E2E, caplog: pytest.LogCaptureFixture
) -> None:
    e2e.seed_amber()
    tokens = e2e.seed_fleet()
    with (
        stub_server(lambda method, path: (200, {"response": {}})) as elsewhere,
        stub_server(
            lambda method, path: (
                200,
                {"response": {"region": "eu", "fleet_api_base_url": elsewhere.url}},
            )
        ) as configured,
    ):
        e2e.configure({"tesla.fleet_api_url": configured.url})
        with caplog.at_level(logging.WARNING):
            region = _region(e2e.context(), tokens.access_token)
        assert "fleet_api_base_url" not in region
        assert "not one of Tesla's documented hosts" in caplog.text
        assert f'fleet_api_url = "{configured.url}"' in e2e.config_text()
        assert elsewhere.seen == []
