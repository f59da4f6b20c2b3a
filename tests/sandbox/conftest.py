"""Fixtures for the sandbox tests: a running sandbox on a frozen clock and clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from amber_tesla_sync.sandbox import Sandbox

from .helpers import T0, login


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=7) as sb:
        sb.set_time(T0)
        yield sb


@pytest.fixture
def amber(sandbox: Sandbox) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {sandbox.credentials.amber_token}"}
    with httpx.Client(base_url=sandbox.amber_base_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def user_token(http: httpx.Client, sandbox: Sandbox) -> str:
    """A user access token with the energy scopes, partner account registered."""
    sandbox.register_partner("na")
    token: str = login(http, sandbox)["access_token"]
    return token
