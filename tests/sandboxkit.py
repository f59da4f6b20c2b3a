"""Run the CLI against the built-in sandbox: a started sandbox, a config pointing at it, helpers.

Use ``from sandboxkit import ...`` and the ``site`` fixture (registered in conftest.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from amber_tesla_sync.sandbox import Sandbox
from amber_tesla_sync.tesla.oauth import TokenEndpoint, TokenSet, authorize_url, new_pkce

SRC = Path(__file__).resolve().parent.parent / "src"


def fleet_tokens(sandbox: Sandbox) -> TokenSet:
    """A Fleet login at the sandbox without a browser (authorize → code → tokens), kept nowhere."""
    c = sandbox.credentials
    pkce = new_pkce()
    url = authorize_url(sandbox.authorize_url, c.client_id, c.redirect_uri, "s", pkce)
    return TokenEndpoint(sandbox.token_url).exchange_code(
        c.client_id,
        c.client_secret,
        sandbox.approve(url),
        pkce.verifier,
        c.redirect_uri,
        sandbox.fleet_na_base_url,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sandbox_config(sandbox: Sandbox, *, fleet_url: str | None = None, extra: str = "") -> str:
    c = sandbox.credentials
    return f"""
[amber]
base_url = "{sandbox.amber_base_url}"

[tesla]
authorize_url = "{sandbox.authorize_url}"
token_url = "{sandbox.token_url}"
fleet_api_url = "{fleet_url or sandbox.fleet_na_base_url}"
teslemetry_url = "{sandbox.teslemetry_base_url}"
redirect_uri = "{c.redirect_uri}"

[secrets]
store = "file"

[network]
timeout_seconds = 2.0
attempts = 3
backoff_seconds = 0.01
{extra}
"""


@dataclass
class SandboxSite:
    """A sandbox and an isolated home whose config points at it."""

    sandbox: Sandbox
    config: Path
    state: Path
    env: dict[str, str]

    @property
    def secrets_file(self) -> Path:
        return self.config.parent / "secrets.json"

    def run(
        self, *args: str, input: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """The CLI in a real process (python -m amber_tesla_sync)."""
        return subprocess.run(
            [sys.executable, "-m", "amber_tesla_sync", *args],
            input=input,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            check=False,
        )

    def token_login(self, service: Literal["amber", "teslemetry"]) -> tuple[list[str], str]:
        """``login amber`` (the sandbox's site) or ``login teslemetry`` with the sandbox's token on
        standard input: the arguments and the input."""
        c = self.sandbox.credentials
        if service == "amber":
            site = self.sandbox.amber_site_id
            return ["login", "amber", "--token-stdin", "--site", site], c.amber_token + "\n"
        return ["login", "teslemetry", "--token-stdin"], c.teslemetry_token + "\n"

    def login_amber(self) -> subprocess.CompletedProcess[str]:
        args, token = self.token_login("amber")
        return self.run(*args, input=token)

    def login_teslemetry(self) -> subprocess.CompletedProcess[str]:
        args, token = self.token_login("teslemetry")
        return self.run(*args, input=token)


def sandbox_site(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SandboxSite:
    """A config file for ``sandbox`` and a state directory under ``tmp_path``, both in the
    environment of this process and of the CLI processes the site runs."""
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    config = config_dir / "config.toml"
    config.write_text(sandbox_config(sandbox))
    state = tmp_path / "state"
    monkeypatch.setenv("AMBER_TESLA_SYNC_CONFIG", str(config))
    monkeypatch.setenv("AMBER_TESLA_SYNC_STATE_DIR", str(state))
    env = {
        **os.environ,
        "AMBER_TESLA_SYNC_CONFIG": str(config),
        "AMBER_TESLA_SYNC_STATE_DIR": str(state),
        "PYTHONPATH": os.pathsep.join([str(SRC), str(Path(__file__).parent)]),
    }
    return SandboxSite(sandbox, config, state, env)


@pytest.fixture
def site(tmp_path: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxSite]:
    with Sandbox(seed=11, callback_port=free_port(), partner_registered=True) as sandbox:
        yield sandbox_site(sandbox, tmp_path, monkeypatch)
