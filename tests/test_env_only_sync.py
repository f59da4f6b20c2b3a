"""``sync`` with nothing but environment variables: no settings file, no OS keyring, no secrets
file. Real processes against the sandbox over loopback, in an environment built from nothing
(the variables below and a bare home): a Teslemetry setup and a Fleet setup push and verify a
tariff; a missing token names the variable to set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from amber_tesla_sync.store.fleet_env import SEED_FIELD
from amber_tesla_sync.tesla.oauth import TokenSet
from e2ekit import TOKEN_PATH, assert_failed
from sandboxkit import SRC, SandboxSite, fleet_tokens
from synckit import T0

TESTS = Path(__file__).resolve().parent
NO_KEYRING = "keyring.backends.fail.Keyring"


@dataclass
class Bare:
    """A home with nothing in it, and the variables that point the tool at the sandbox."""

    site: SandboxSite
    home: Path
    env: dict[str, str]

    @property
    def config_dir(self) -> Path:
        return self.home / ".config" / "amber-tesla-sync"

    def run(self, *args: str, **extra: str | None) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **{k: v for k, v in extra.items() if v is not None}}
        for name in [k for k, v in extra.items() if v is None]:
            env.pop(name, None)
        return subprocess.run(
            [sys.executable, "-m", "amber_tesla_sync", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    def sync(self, **extra: str | None) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
        result = self.run("sync", "--json", "--now", T0.isoformat(), **extra)
        document = json.loads(result.stdout) if result.stdout.strip() else {}
        return result, document

    def token_requests(self) -> int:
        return sum(TOKEN_PATH in r.get("path", "") for r in self.site.sandbox.requests())

    def fleet_tokens(self) -> TokenSet:
        """A Fleet login at the sandbox (authorize → code → tokens), kept nowhere."""
        return fleet_tokens(self.site.sandbox)


@pytest.fixture
def bare(site: SandboxSite, tmp_path: Path) -> Bare:
    sandbox = site.sandbox
    sandbox.set_time(T0)
    sandbox.set_amber_rate_limit(None)
    sandbox.set_teslemetry_rate_limit(None)
    home = tmp_path / "bare-home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "PYTHONPATH": os.pathsep.join([str(SRC), str(TESTS)]),
        "PYTHON_KEYRING_BACKEND": NO_KEYRING,
        "COLUMNS": "100",
        "NO_COLOR": "1",
        "AMBER_TOKEN": sandbox.credentials.amber_token,
        "AMBER_TESLA_SYNC_AMBER__BASE_URL": sandbox.amber_base_url,
        "AMBER_TESLA_SYNC_AMBER__SITE_ID": sandbox.amber_site_id,
        "AMBER_TESLA_SYNC_TESLA__ENERGY_SITE_ID": str(sandbox.energy_site_id),
        "AMBER_TESLA_SYNC_TESLA__TESLEMETRY_URL": sandbox.teslemetry_base_url,
        "AMBER_TESLA_SYNC_TESLA__FLEET_API_URL": sandbox.fleet_na_base_url,
        "AMBER_TESLA_SYNC_TESLA__TOKEN_URL": sandbox.token_url,
        "AMBER_TESLA_SYNC_NETWORK__TIMEOUT_SECONDS": "2",
        "AMBER_TESLA_SYNC_NETWORK__BACKOFF_SECONDS": "0.01",
    }
    return Bare(site, home, env)


def assert_pushed_and_verified(bare: Bare, result: Any, document: dict[str, Any]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert document["sites"][0]["outcome"] == "verified", document
    assert len(bare.site.sandbox.tariff_posts()) == 1
    assert bare.site.sandbox.validation_problems() == []
    assert not (bare.config_dir / "config.toml").exists()  # no settings file, none made


def test_teslemetry_from_the_environment_alone(bare: Bare) -> None:
    teslemetry = bare.site.sandbox.credentials.teslemetry_token
    result, document = bare.sync(TESLEMETRY_TOKEN=teslemetry)  # tesla.backend: auto
    assert_pushed_and_verified(bare, result, document)
    assert "WARNING" not in result.stderr, result.stderr  # no keyring is no news
    assert not bare.config_dir.exists()  # no secrets file either
    requests = bare.site.sandbox.requests()
    assert {r["service"] for r in requests if r["service"] in ("fleet", "teslemetry")} == {
        "teslemetry"
    }
    status = bare.run("status", "--json", "--now", T0.isoformat(), TESLEMETRY_TOKEN=teslemetry)
    assert status.returncode == 0, status.stderr
    site = json.loads(status.stdout)["sites"][0]
    assert site["powerwall"]["error"] is None and site["last_sync"]["outcome"] == "verified"
    doctor = bare.run("doctor", TESLEMETRY_TOKEN=teslemetry)
    assert "✓ Tesla via Teslemetry" in doctor.stdout, doctor.stdout


def test_fleet_from_the_environment_alone(bare: Bare) -> None:
    tokens = bare.fleet_tokens()
    result, document = bare.sync(
        AMBER_TESLA_SYNC_TESLA__BACKEND="fleet",
        AMBER_TESLA_SYNC_TESLA__CLIENT_ID=bare.site.sandbox.credentials.client_id,
        TESLA_FLEET_ACCESS_TOKEN=tokens.access_token,
        TESLA_FLEET_REFRESH_TOKEN=tokens.refresh_token,
    )
    assert_pushed_and_verified(bare, result, document)
    assert {r["service"] for r in bare.site.sandbox.requests()} >= {"fleet"}
    for token in (tokens.access_token, tokens.refresh_token):
        assert token not in result.stdout + result.stderr


def test_a_fleet_access_token_alone_is_used_as_it_is(bare: Bare) -> None:
    tokens = bare.fleet_tokens()
    bare.site.sandbox.clear_requests()
    result, document = bare.sync(
        AMBER_TESLA_SYNC_TESLA__BACKEND="fleet",
        AMBER_TESLA_SYNC_TESLA__CLIENT_ID=bare.site.sandbox.credentials.client_id,
        TESLA_FLEET_ACCESS_TOKEN=tokens.access_token,
    )
    assert_pushed_and_verified(bare, result, document)
    assert bare.token_requests() == 0


def test_a_refresh_without_a_store_serves_the_run_and_says_so(bare: Bare) -> None:
    tokens = bare.fleet_tokens()
    bare.site.sandbox.clear_requests()
    result, document = bare.sync(
        AMBER_TESLA_SYNC_TESLA__BACKEND="fleet",
        AMBER_TESLA_SYNC_TESLA__CLIENT_ID=bare.site.sandbox.credentials.client_id,
        TESLA_FLEET_REFRESH_TOKEN=tokens.refresh_token,
    )
    assert_pushed_and_verified(bare, result, document)  # never fails for want of a store
    assert bare.token_requests() == 1
    assert "the refreshed Fleet tokens serve this run only" in result.stderr
    assert "TESLA_FLEET_REFRESH_TOKEN has been used" in result.stderr
    assert tokens.refresh_token not in result.stderr
    assert not bare.config_dir.exists()


def test_a_refresh_is_saved_where_a_store_can_keep_it(bare: Bare) -> None:
    tokens = bare.fleet_tokens()
    bare.site.sandbox.clear_requests()
    fleet = {
        "AMBER_TESLA_SYNC_TESLA__BACKEND": "fleet",
        "AMBER_TESLA_SYNC_TESLA__CLIENT_ID": bare.site.sandbox.credentials.client_id,
        "AMBER_TESLA_SYNC_SECRETS__STORE": "file",
        "TESLA_FLEET_REFRESH_TOKEN": tokens.refresh_token,
    }
    first, document = bare.sync(**fleet)
    assert_pushed_and_verified(bare, first, document)
    assert "WARNING" not in first.stderr, first.stderr
    assert bare.token_requests() == 1
    saved = json.loads(json.loads((bare.config_dir / "secrets.json").read_text())["fleet_tokens"])
    assert saved["refresh_token"] != tokens.refresh_token  # the rotated one
    assert saved[SEED_FIELD]
    assert saved["refresh_token"] in bare.site.sandbox.valid_refresh_tokens()

    bare.site.sandbox.clear_requests()
    second = bare.run("sync", "--now", T0.isoformat(), **fleet)  # the same, used-up variable
    assert second.returncode == 0, second.stderr
    assert bare.token_requests() == 0  # the saved tokens served, not the used variable


# -- a missing token says which variable to set -------------------------------------------------


def test_a_missing_tesla_token_without_a_store_names_the_variable(bare: Bare) -> None:
    result = bare.run("sync", "--now", T0.isoformat(), AMBER_TESLA_SYNC_TESLA__BACKEND="teslemetry")
    assert_failed(result, 7, "TESLEMETRY_TOKEN is not set", "no OS keyring is available")
    assert "set TESLEMETRY_TOKEN" in result.stdout + result.stderr
    auto = bare.run("sync", "--now", T0.isoformat())
    assert_failed(auto, 7, "neither TESLEMETRY_TOKEN nor TESLA_FLEET_REFRESH_TOKEN is set")
    assert bare.site.sandbox.tariff_posts() == []


def test_a_missing_amber_token_without_a_store_names_the_variable(bare: Bare) -> None:
    result = bare.run(
        "sync",
        "--now",
        T0.isoformat(),
        AMBER_TOKEN=None,
        TESLEMETRY_TOKEN=bare.site.sandbox.credentials.teslemetry_token,
    )
    assert_failed(result, 7, "AMBER_TOKEN is not set", "set AMBER_TOKEN")


def test_a_store_without_the_token_is_not_logged_in_and_names_the_variable(bare: Bare) -> None:
    result = bare.run(
        "sync",
        "--now",
        T0.isoformat(),
        AMBER_TESLA_SYNC_SECRETS__STORE="file",
        AMBER_TESLA_SYNC_TESLA__BACKEND="teslemetry",
    )
    assert_failed(result, 6, "no Teslemetry token", "or set TESLEMETRY_TOKEN")


def test_fleet_tokens_without_a_client_id_name_its_variable(bare: Bare) -> None:
    result = bare.run(
        "sync",
        "--now",
        T0.isoformat(),
        AMBER_TESLA_SYNC_TESLA__BACKEND="fleet",
        TESLA_FLEET_REFRESH_TOKEN="a-refresh-token-from-somewhere",
    )
    assert_failed(result, 3, "tesla.client_id", "AMBER_TESLA_SYNC_TESLA__CLIENT_ID")
