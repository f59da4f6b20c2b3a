"""End to end: where secrets live and where they must never appear.

The OS keyring (missing here, and a working file-backed stand-in: tests/fake_keyring.py), the file
store, read-only overrides (environment variables, systemd credentials), file modes, and a full
session whose every output, config, state and history file is searched for secrets.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from amber_tesla_sync.store.secrets import (
    AMBER_TOKEN,
    FLEET_CLIENT_SECRET,
    FLEET_PRIVATE_KEY,
    FLEET_TOKENS,
    TESLEMETRY_TOKEN,
)
from amber_tesla_sync.tariff import validate_request_body
from e2ekit import (
    BROWSER,
    E2E,
    TOKEN_PATH,
    assert_failed,
    assert_no_secret_in,
    files_under,
    mode_of,
    secret_pieces,
)
from sandboxkit import SRC, free_port

DOMAIN = "amber-tesla-sync.example"


# -- the OS keyring --------------------------------------------------------------------------


def test_keyring_store_without_an_os_keyring_explains_the_file_store(e2e: E2E) -> None:
    e2e.configure({"secrets.store": "keyring"})
    login = e2e.login_amber()
    assert_failed(
        login,
        7,
        "no OS keyring is available",
        "`amber-tesla-sync config set secrets.store file`",
        "mode 0600",
        "unencrypted",
        "environment variables or systemd credentials",
    )
    assert not e2e.site.secrets_file.exists()  # never a silent plaintext fallback
    e2e.configure({"amber.site_id": e2e.sandbox.amber_site_id})
    tariff = e2e.run("tariff", "--json", "--timezone", "Australia/Sydney")
    assert_failed(tariff, 7, "no OS keyring is available")


def test_a_working_keyring_holds_the_secrets(e2e: E2E, tmp_path: Path) -> None:
    ring = tmp_path / "keyring.json"
    env = {"PYTHON_KEYRING_BACKEND": "fake_keyring.FileKeyring", "FAKE_KEYRING_FILE": str(ring)}
    e2e.configure({"secrets.store": "keyring"})
    login = e2e.run(
        "login",
        "amber",
        "--token-stdin",
        "--site",
        e2e.sandbox.amber_site_id,
        input=e2e.credentials.amber_token,
        env=env,
    )
    assert login.returncode == 0, login.stderr
    assert "Token saved in OS keyring (fake_keyring.FileKeyring)" in login.stderr
    assert json.loads(ring.read_text()) == {
        "amber-tesla-sync/amber_token": e2e.credentials.amber_token
    }
    assert not e2e.site.secrets_file.exists()
    tariff = e2e.run("tariff", "--json", "--timezone", "Australia/Sydney", env=env)
    assert tariff.returncode == 0, tariff.stderr
    logout = e2e.run("logout", "amber", env=env)
    assert "Removed: amber_token." in logout.stderr
    assert json.loads(ring.read_text()) == {}


# -- read-only overrides -----------------------------------------------------------------------


def test_environment_variables_are_used_read_only(e2e: E2E) -> None:
    e2e.configure(
        {
            "amber.site_id": e2e.sandbox.amber_site_id,
            "tesla.energy_site_id": e2e.sandbox.energy_site_id,
        }
    )
    env = {
        "AMBER_TOKEN": e2e.credentials.amber_token,
        "TESLEMETRY_TOKEN": e2e.credentials.teslemetry_token,
    }
    result = e2e.run("tariff", "--json", env=env)  # the time zone from the Powerwall
    assert result.returncode == 0, result.stderr
    assert not e2e.site.secrets_file.exists()
    counts = e2e.sandbox.request_counts()["by_service"]
    assert counts["amber"] == 2 and counts["teslemetry"] == 1  # sites, prices; site_info
    logout = e2e.run("logout", "amber", env=env)
    assert logout.returncode == 0
    assert "Nothing to remove." in logout.stderr
    assert "amber_token (from environment variable AMBER_TOKEN)" in logout.stderr

    # the client secret from TESLA_CLIENT_SECRET logs in but is not copied into the store
    env = {"TESLA_CLIENT_SECRET": e2e.credentials.client_secret, **e2e.browser_env()}
    fleet = e2e.run(
        "login", "fleet", "--client-id", e2e.credentials.client_id, "--timeout", "20", env=env
    )
    assert fleet.returncode == 0, fleet.stderr
    assert set(e2e.stored()) == {FLEET_TOKENS}
    assert e2e.run("keygen").returncode == 0
    public = (e2e.site.config.parent / "com.tesla.3p.public-key.pem").read_text()
    e2e.sandbox.host_public_key(DOMAIN, public)
    register = e2e.run("register", "--domain", DOMAIN, env=env)
    assert register.returncode == 0, register.stderr
    assert "matches ours" in register.stderr


def credentials_dir(tmp_path: Path, **secrets: str) -> Path:
    directory = tmp_path / "credentials"
    directory.mkdir()
    for name, value in secrets.items():
        (directory / name).write_text(value + "\n")
        (directory / name).chmod(0o400)
    directory.chmod(0o500)
    return directory


def test_systemd_credentials_are_used_read_only(e2e: E2E, tmp_path: Path) -> None:
    e2e.configure(
        {
            "amber.site_id": e2e.sandbox.amber_site_id,
            "tesla.energy_site_id": e2e.sandbox.energy_site_id,
        }
    )
    directory = credentials_dir(
        tmp_path,
        amber_token=e2e.credentials.amber_token,
        teslemetry_token=e2e.credentials.teslemetry_token,
    )
    before = files_under(directory)
    result = e2e.run("tariff", "--json", env={"CREDENTIALS_DIRECTORY": str(directory)})
    assert result.returncode == 0, result.stderr
    assert files_under(directory) == before
    assert not e2e.site.secrets_file.exists()
    assert e2e.sandbox.request_counts()["by_token_kind"] == {"amber": 2, "teslemetry": 1}


def test_read_only_fleet_tokens_cannot_be_refreshed(e2e: E2E, tmp_path: Path) -> None:
    e2e.seed_amber()
    e2e.seed_fleet()
    tokens = json.loads(e2e.stored()[FLEET_TOKENS])
    e2e.site.secrets_file.unlink()  # the tokens now come only from the credential
    directory = credentials_dir(
        tmp_path,
        fleet_tokens=json.dumps({**tokens, "expires_at": time.time() - 60}),
        amber_token=e2e.credentials.amber_token,
    )
    e2e.sandbox.clear_requests()
    result = e2e.run("tariff", "--json", env={"CREDENTIALS_DIRECTORY": str(directory)})
    assert_failed(
        result,
        7,
        "read-only source (systemd credential fleet_tokens)",
        "rotate",
        "writable store",
    )
    assert e2e.count("POST", TOKEN_PATH) == 0  # refused before burning the refresh token
    assert not e2e.site.secrets_file.exists()


def test_a_damaged_secret_file_says_what_to_do(e2e: E2E) -> None:
    e2e.configure({"amber.site_id": e2e.sandbox.amber_site_id})
    e2e.site.secrets_file.write_text("{not json")
    result = e2e.run("tariff", "--json", "--timezone", "Australia/Sydney")
    assert_failed(result, 7, "not valid JSON", "log in again")


# -- a whole session: modes, and no secret anywhere but the store ------------------------------


class Session:
    """The CLI in a fresh HOME (platform default config and state directories) against the
    ``amber-tesla-sync sandbox`` command running in its own process."""

    def __init__(self, home: Path, port: int, callback_port: int) -> None:
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("AMBER_TESLA_SYNC_CONFIG", "AMBER_TESLA_SYNC_STATE_DIR")
        }
        self.env["PYTHONPATH"] = str(SRC)
        self.config_dir = home / ".config" / "amber-tesla-sync"
        self.state_dir = home / ".local" / "state" / "amber-tesla-sync"
        self.sandbox = subprocess.Popen(
            [sys.executable, "-m", "amber_tesla_sync", "sandbox", "--port", str(port),
             "--callback-port", str(callback_port), "--seed", "5"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env,
        )  # fmt: skip
        assert self.sandbox.stdout is not None
        banner = [self.sandbox.stdout.readline()]
        while banner[-1] and "Ctrl+C" not in banner[-1]:
            banner.append(self.sandbox.stdout.readline())
        assert f"listening on http://127.0.0.1:{port}" in banner[0], banner
        self.control = f"http://127.0.0.1:{port}/_sandbox"
        self.info = httpx.get(f"{self.control}/info").json()
        self.transcript: list[str] = []

    def run(
        self, *args: str, input: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "amber_tesla_sync", "-vv", *args],
            input=input, capture_output=True, text=True, env={**self.env, **env}, timeout=60,
            check=False,
        )  # fmt: skip
        self.transcript += [result.stdout, result.stderr]
        assert result.returncode == 0, (args, result.stdout + result.stderr)
        return result

    def control_post(self, path: str, body: object) -> None:
        httpx.post(f"{self.control}/{path}", json=body).raise_for_status()

    def stop(self) -> None:
        self.sandbox.send_signal(signal.SIGINT)
        self.sandbox.communicate(timeout=10)


def test_a_fresh_home_against_the_sandbox_command(isolated: Path, tmp_path: Path) -> None:
    """The whole set-up as a user does it, every command at -vv; then file modes, and no secret
    anywhere but the secret store: not in any output, the config, the public key or the state
    and history files."""
    session = Session(isolated, free_port(), free_port())
    try:
        urls, c = session.info["urls"], session.info["credentials"]
        session.config_dir.mkdir(parents=True)
        (session.config_dir / "config.toml").write_text(
            f'[amber]\nbase_url = "{urls["amber"]}"\n\n'
            f'[tesla]\nauthorize_url = "{urls["tesla_auth"]}/oauth2/v3/authorize"\n'
            f'token_url = "{urls["tesla_auth"]}/oauth2/v3/token"\n'
            f'fleet_api_url = "{urls["fleet_na"]}"\nteslemetry_url = "{urls["teslemetry"]}"\n'
            f'redirect_uri = "{c["redirect_uri"]}"\n'
        )
        session.run("config", "set", "secrets.store", "file")
        five_minute = session.info["amber_site_ids"][0]
        session.run("login", "amber", "--token-stdin", "--site", five_minute,
                    input=c["amber_token"])  # fmt: skip
        session.run("login", "teslemetry", "--token-stdin", input=c["teslemetry_token"])
        session.run("keygen")
        public_file = session.config_dir / "com.tesla.3p.public-key.pem"
        session.control_post("public_keys", {"domain": DOMAIN, "pem": public_file.read_text()})
        registered = session.run(
            "register", "--domain", DOMAIN, "--client-id", c["client_id"],
            "--client-secret-stdin", input=c["client_secret"] + "\n",
        )  # fmt: skip
        assert "matches ours" in registered.stderr
        browser = tmp_path / "browser.jsonl"
        fleet = session.run(  # the client secret saved by register
            "login", "fleet", "--timeout", "20",
            BROWSER=BROWSER, FAKE_BROWSER_LOG=str(browser),
        )  # fmt: skip
        assert "Tesla Fleet API: logged in (region na" in fleet.stderr
        tariff = session.run("tariff", "--json")
        assert validate_request_body(json.loads(tariff.stdout)["tesla_request"]) == []
        session.control_post("tokens", {"expire_access_tokens": True})
        status = session.run("status")
        assert "refreshed the Fleet access token" in status.stderr  # after a 401
        session.run("sync", "--force")
        session.control_post("switches", {"billing_disabled": True})
        assert "payment required" in session.run("status").stdout  # a failure, shown
        session.control_post("switches", {"billing_disabled": False})
        secrets_file = session.config_dir / "secrets.json"
        stored = json.loads(secrets_file.read_text())
        fleet_tokens = json.loads(stored[FLEET_TOKENS])
        fleet_tokens["expires_at"] = time.time()  # due: the next run refreshes ahead of expiry
        stored[FLEET_TOKENS] = json.dumps(fleet_tokens)
        secrets_file.write_text(json.dumps(stored))
        assert "refreshed the Fleet access token" in session.run("sync", "--force").stderr
        counts = httpx.get(f"{session.control}/requests").json()["counts"]["by_path"]
        posts = httpx.get(f"{session.control}/tariff_posts").json()["posts"]
    finally:
        session.stop()

    # code exchange, partner token, two refreshes; two pushes, both valid
    assert counts[f"POST {TOKEN_PATH}"] == 4
    assert [post["problems"] for post in posts] == [[], []]
    extra = {json.loads(browser.read_text())["code"]}  # the authorization code
    extra |= {fleet_tokens["access_token"], fleet_tokens["refresh_token"]}  # replaced since
    check_secrets_at_rest(session, c, extra)


def check_secrets_at_rest(session: Session, c: dict[str, str], extra: set[str]) -> None:
    secrets_file = session.config_dir / "secrets.json"
    public_file = session.config_dir / "com.tesla.3p.public-key.pem"
    stored = json.loads(secrets_file.read_text())
    assert set(stored) == {
        AMBER_TOKEN, TESLEMETRY_TOKEN, FLEET_TOKENS, FLEET_CLIENT_SECRET, FLEET_PRIVATE_KEY
    }  # fmt: skip
    # modes: the secrets and the state private, the public key public
    state = session.state_dir
    assert mode_of(secrets_file) == 0o600
    assert mode_of(public_file) == 0o644
    assert mode_of(state) == 0o700
    for name in ("state.json", "sync.lock"):
        assert mode_of(state / name) == 0o600, name
    assert mode_of(session.config_dir / "secrets.json.lock") == 0o600
    # the secrets: the sandbox's credentials, every token the store has held, the key, the code
    secrets = {c["amber_token"], c["teslemetry_token"], c["client_secret"]}
    for value in stored.values():
        secrets |= secret_pieces(value)
    secrets |= extra
    assert len(secrets) >= 12
    outside = {f"output {n}": text.encode() for n, text in enumerate(session.transcript)}
    outside |= files_under(session.config_dir, skip=[secrets_file])
    outside |= files_under(state)
    assert {"config.toml", "com.tesla.3p.public-key.pem", "state.json", "history.sqlite3"} <= {
        Path(name).name for name in outside
    }
    assert_no_secret_in(secrets, outside)
    with pytest.raises(AssertionError):  # the search does find them where they are
        assert_no_secret_in(secrets, {"store": secrets_file.read_bytes()})
