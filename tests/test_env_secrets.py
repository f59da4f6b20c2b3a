"""Secrets from the environment, in the secret store itself: Fleet tokens made from
``TESLA_FLEET_ACCESS_TOKEN``/``TESLA_FLEET_REFRESH_TOKEN``, a refresh kept for the run and saved
(marked) where a store can keep it, no store needed when the environment gives everything, and
the variable named when it does not."""

from __future__ import annotations

import base64
import json
import logging
import time
from pathlib import Path

import pytest

from amber_tesla_sync.errors import SecretsError
from amber_tesla_sync.store import secrets as secrets_module
from amber_tesla_sync.store.fleet_env import (
    ACCESS_VARIABLE,
    NOMINAL_LIFETIME,
    REFRESH_VARIABLE,
    SEED_FIELD,
    EnvironmentTokens,
    jwt_expiry,
)
from amber_tesla_sync.store.secrets import (
    AMBER_TOKEN,
    FLEET_TOKENS,
    TESLEMETRY_TOKEN,
    SecretStore,
)
from amber_tesla_sync.tesla.oauth import TokenSet

NO_KEYRING = "no OS keyring is available here (typical on a headless server)"


def jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}.c2lnbmF0dXJl"


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SecretStore:
    """A keyring store where no OS keyring exists (a container)."""

    def unavailable() -> None:
        raise SecretsError(NO_KEYRING, "choose the file store: `config set secrets.store file`")

    monkeypatch.setattr(secrets_module, "KeyringBackend", unavailable)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker / "cache"))  # no lock directory either
    return SecretStore("keyring", tmp_path / "secrets.json")


def refreshed(tokens: TokenSet, access: str, refresh: str) -> str:
    return TokenSet(
        access, refresh, time.time() + 3600, previous_refresh_token=tokens.refresh_token
    ).to_json()


def test_the_variables_make_a_token_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    access = jwt({"exp": 2_000_000_000})
    store = SecretStore("file", tmp_path / "secrets.json")
    monkeypatch.setenv(ACCESS_VARIABLE, access)
    monkeypatch.setenv(REFRESH_VARIABLE, "refresh-one-xyz")
    found = store.find(FLEET_TOKENS)
    assert found is not None and found.writable
    assert found.origin == f"environment variables {ACCESS_VARIABLE} and {REFRESH_VARIABLE}"
    tokens = TokenSet.from_json(found.value)
    assert (tokens.access_token, tokens.refresh_token) == (access, "refresh-one-xyz")
    assert tokens.expires_at == 2_000_000_000  # read from the token


def test_what_each_variable_alone_means() -> None:
    now = 1_700_000_000.0
    refresh_only = json.loads(EnvironmentTokens("", "r-123456789").token_set(now))
    assert refresh_only["expires_at"] == 0  # refresh at once
    access_only = json.loads(EnvironmentTokens("opaque-access", "").token_set(now))
    assert access_only["expires_at"] == now + NOMINAL_LIFETIME  # nothing to refresh with
    unreadable = json.loads(EnvironmentTokens("opaque-access", "r-123456789").token_set(now))
    assert unreadable["expires_at"] == 0
    assert jwt_expiry(jwt({"exp": 123})) == 123
    assert jwt_expiry(jwt({"exp": True})) is None
    assert jwt_expiry("not.a-jwt.at all") is None
    assert jwt_expiry("opaque") is None
    seeds = {EnvironmentTokens("a", "r1").seed, EnvironmentTokens("b", "r1").seed}
    assert len(seeds) == 1  # the refresh token is what a chain grows from
    assert EnvironmentTokens("a", "r2").seed not in seeds
    assert "r1" not in EnvironmentTokens("a", "r1").seed


def test_a_refresh_is_saved_marked_and_found_again_until_the_variable_changes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "secrets.json"
    monkeypatch.setenv(REFRESH_VARIABLE, "refresh-from-env-1")
    first = SecretStore("file", path)
    start = TokenSet.from_json(first.find(FLEET_TOKENS).value)  # type: ignore[union-attr]
    first.set(FLEET_TOKENS, refreshed(start, "access-2-abcdef", "refresh-2-abcdef"))
    stored = json.loads(json.loads(path.read_text())[FLEET_TOKENS])
    assert stored["refresh_token"] == "refresh-2-abcdef"
    assert stored[SEED_FIELD] == EnvironmentTokens("", "refresh-from-env-1").seed

    later = SecretStore("file", path).find(FLEET_TOKENS)  # the next run, same variable
    assert later is not None
    assert TokenSet.from_json(later.value).refresh_token == "refresh-2-abcdef"
    assert f"refreshed from environment variable {REFRESH_VARIABLE}" in later.origin

    monkeypatch.setenv(REFRESH_VARIABLE, "refresh-from-a-new-login")  # a new value wins again
    renewed = SecretStore("file", path).find(FLEET_TOKENS)
    assert renewed is not None
    assert TokenSet.from_json(renewed.value).refresh_token == "refresh-from-a-new-login"


def test_a_refresh_with_no_store_is_kept_for_the_run(
    monkeypatch: pytest.MonkeyPatch, no_keyring: SecretStore, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(REFRESH_VARIABLE, "refresh-from-env-1")
    start = no_keyring.find(FLEET_TOKENS)
    assert start is not None
    with caplog.at_level(logging.WARNING), no_keyring.locked():
        no_keyring.set(
            FLEET_TOKENS, refreshed(TokenSet.from_json(start.value), "access-2-x", "refresh-2-x")
        )
    assert "serve this run only" in caplog.text
    assert NO_KEYRING in caplog.text
    kept = no_keyring.find(FLEET_TOKENS)
    assert kept is not None and TokenSet.from_json(kept.value).refresh_token == "refresh-2-x"
    assert kept.origin.endswith("refreshed in this run")


def test_without_a_store_a_missing_secret_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, no_keyring: SecretStore
) -> None:
    monkeypatch.setenv("AMBER_TOKEN", "amber-token-from-env")
    found = no_keyring.find(AMBER_TOKEN)
    assert found is not None and found.origin == "environment variable AMBER_TOKEN"
    with pytest.raises(SecretsError) as caught:
        no_keyring.find(TESLEMETRY_TOKEN)
    assert caught.value.message == f"{NO_KEYRING}, and TESLEMETRY_TOKEN is not set"
    assert (caught.value.hint or "").startswith("set TESLEMETRY_TOKEN")
    # whether there are Fleet tokens decides a choice: a store that is not there holds none
    assert no_keyring.find(FLEET_TOKENS) is None
    named = no_keyring.unavailable_for(FLEET_TOKENS)
    assert named is not None and REFRESH_VARIABLE in named.message
    assert SecretStore("file", no_keyring.file_path).unavailable_for(FLEET_TOKENS) is None


def test_a_logout_forgets_what_the_run_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "secrets.json"
    monkeypatch.setenv(REFRESH_VARIABLE, "refresh-from-env-1")
    store = SecretStore("file", path)
    store.set(FLEET_TOKENS, TokenSet("a-123456789", "r-123456789", 0).to_json())
    store.delete(FLEET_TOKENS)
    assert FLEET_TOKENS not in json.loads(path.read_text())
    found = store.find(FLEET_TOKENS)
    assert found is not None and found.origin == f"environment variable {REFRESH_VARIABLE}"
