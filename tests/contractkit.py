"""Run the official Tesla client (``tesla-fleet-api``) against the sandbox.

The library has Tesla's and Teslemetry's hosts built in (the token endpoint cannot be
configured), so its aiohttp session maps those hosts onto the sandbox's loopback prefixes, the way
a user's reverse proxy or hosts file would. Any other address is refused: nothing leaves the
machine.
"""

from __future__ import annotations

import warnings
from typing import Any

import aiohttp

from amber_tesla_sync.sandbox import Sandbox


def tesla_routes(sandbox: Sandbox) -> dict[str, str]:
    """Real base URLs → the sandbox's."""
    return {
        "https://fleet-auth.prd.vn.cloud.tesla.com": sandbox.tesla_auth_base_url,
        "https://auth.tesla.com": sandbox.tesla_auth_base_url,
        "https://fleet-api.prd.na.vn.cloud.tesla.com": sandbox.fleet_na_base_url,
        "https://fleet-api.prd.eu.vn.cloud.tesla.com": sandbox.fleet_eu_base_url,
        "https://api.teslemetry.com": sandbox.teslemetry_base_url,
        "https://na.teslemetry.com": sandbox.teslemetry_base_url,
    }


def to_sandbox(url: str, routes: dict[str, str]) -> str:
    """``url`` with a real host replaced by the sandbox (AssertionError for anything else)."""
    for real, local in routes.items():
        if url.startswith(real + "/") or url == real:
            url = local + url[len(real) :]
            break
    if not url.startswith("http://127.0.0.1:"):
        raise AssertionError(f"refused to leave the machine: {url}")
    return url


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)

    class LoopbackSession(aiohttp.ClientSession):
        """An aiohttp session whose requests go to the sandbox."""

        def __init__(self, routes: dict[str, str]) -> None:
            super().__init__()
            self.routes = routes

        def _request(self, method: str, str_or_url: Any, **kwargs: Any) -> Any:
            return super()._request(method, to_sandbox(str(str_or_url), self.routes), **kwargs)
