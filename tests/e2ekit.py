"""Helpers for the end-to-end tests of logins, clients and secrets against the sandbox.

:class:`E2E` wraps a ``site`` (see sandboxkit): it runs the CLI in real processes (recording every
output for the leak checks), plays the browser for ``login fleet``, and sets up logins in-process
where a test is about something else.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import secrets
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from amber_tesla_sync.accounts.amber import login_amber
from amber_tesla_sync.accounts.teslemetry import login_teslemetry
from amber_tesla_sync.settings.edit import update_config
from amber_tesla_sync.settings.load import load_config
from amber_tesla_sync.store.secrets import FLEET_CLIENT_SECRET, FLEET_TOKENS
from amber_tesla_sync.sync.context import AppContext
from amber_tesla_sync.tesla.oauth import TokenEndpoint, TokenSet, authorize_url, new_pkce
from sandboxkit import SandboxSite

TESTS = Path(__file__).resolve().parent
BROWSER = f"{sys.executable} {TESTS / 'fake_browser.py'} %s"
TOKEN_PATH = "/auth/oauth2/v3/token"


class NoUi:
    """A Ui for in-process flows: records what is said, refuses to ask anything."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def say(self, text: str) -> None:
        self.said.append(text)

    def secret(self, prompt: str) -> str:
        raise AssertionError(f"unexpected prompt {prompt!r}")

    def text(self, prompt: str) -> str:
        raise AssertionError(f"unexpected prompt {prompt!r}")

    def choose(self, title: str, options: Sequence[str]) -> int:
        raise AssertionError(f"unexpected choice {title!r}")

    def waiting(self, message: str) -> AbstractContextManager[None]:
        @contextmanager
        def nothing() -> Iterator[None]:
            yield

        return nothing()


def assert_failed(result: Any, code: int, *needles: str) -> None:
    """A clean failure: the exit code, one message with a next step, no traceback."""
    output = result.stdout + result.stderr
    got = result.returncode if hasattr(result, "returncode") else result.code  # process or cli
    assert got == code, (got, output)
    assert "Traceback" not in output, output
    assert "what to do:" in output, output
    for needle in needles:
        assert needle in output, (needle, output)


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


class E2E:
    """A sandbox site, the CLI run against it, and everything it printed."""

    def __init__(self, site: SandboxSite) -> None:
        self.site = site
        self.sandbox = site.sandbox
        self.credentials = site.sandbox.credentials
        self.transcript: list[str] = []
        self.seen_secrets: set[str] = set()

    # -- running the CLI ---------------------------------------------------------------------

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**self.site.env, **(extra or {})}

    def run(
        self,
        *args: str,
        input: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "amber_tesla_sync", *args],
            input=input,
            capture_output=True,
            text=True,
            env=self.env(env),
            timeout=timeout,
            check=False,
        )
        self.record(result.stdout, result.stderr)
        return result

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "amber_tesla_sync", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env({"PYTHONUNBUFFERED": "1", **(env or {})}),
        )

    def record(self, *outputs: str) -> None:
        self.transcript.extend(outputs)
        self.remember_secrets()

    def login_amber(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.run(
            *extra,
            "login",
            "amber",
            "--token-stdin",
            "--site",
            self.sandbox.amber_site_id,
            input=self.credentials.amber_token + "\n",
        )

    def login_teslemetry(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.run(
            *extra,
            "login",
            "teslemetry",
            "--token-stdin",
            input=self.credentials.teslemetry_token + "\n",
        )

    def browser_env(self, mode: str = "", log: Path | None = None) -> dict[str, str]:
        env = {"BROWSER": BROWSER, "FAKE_BROWSER_MODE": mode}
        if log is not None:
            env["FAKE_BROWSER_LOG"] = str(log)
        return env

    def login_fleet(
        self,
        *extra: str,
        mode: str = "",
        log: Path | None = None,
        env: dict[str, str] | None = None,
        secret: str | None = None,
        verbose: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """``login fleet`` with the scripted browser approving at once."""
        return self.run(
            *(["-vv"] if verbose else []),
            "login",
            "fleet",
            "--client-id",
            self.credentials.client_id,
            "--client-secret-stdin",
            "--timeout",
            "20",
            *extra,
            input=(secret or self.credentials.client_secret) + "\n",
            env={**self.browser_env(mode, log), **(env or {})},
        )

    # -- in-process set-up -------------------------------------------------------------------

    def context(self) -> AppContext:
        return AppContext(load_config(self.site.config))

    def configure(self, updates: dict[str, Any]) -> None:
        update_config(load_config(self.site.config), updates)

    def seed_amber(self) -> None:
        """Log in to Amber in-process (one ``GET /sites``)."""
        login_amber(
            self.context(), self.credentials.amber_token, self.sandbox.amber_site_id, NoUi()
        )
        self.remember_secrets()

    def seed_teslemetry(self) -> None:
        login_teslemetry(self.context(), self.credentials.teslemetry_token, None, NoUi())
        self.remember_secrets()

    def authorize(self, *, prompt_missing_scopes: bool = True) -> str:
        """A browser approving at once, in-process: returns the issued tokens as saved JSON."""
        c = self.credentials
        pkce = new_pkce()
        state = secrets.token_urlsafe(12)
        url = authorize_url(
            self.sandbox.authorize_url,
            c.client_id,
            c.redirect_uri,
            state,
            pkce,
            prompt_missing_scopes=prompt_missing_scopes,
        )
        response = httpx.get(url, follow_redirects=False)
        assert response.status_code == 302, response.text
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(response.headers["location"]).query)
        assert query["state"] == [state]
        tokens = TokenEndpoint(self.sandbox.token_url).exchange_code(
            c.client_id,
            c.client_secret,
            query["code"][0],
            pkce.verifier,
            c.redirect_uri,
            self.sandbox.fleet_na_base_url,
        )
        return tokens.to_json()

    def seed_fleet(self, *, prompt_missing_scopes: bool = True) -> TokenSet:
        """Log in to the Fleet API in-process: tokens and client secret saved, site configured."""
        saved = self.authorize(prompt_missing_scopes=prompt_missing_scopes)
        ctx = self.context()
        ctx.store.set(FLEET_TOKENS, saved)
        ctx.store.set(FLEET_CLIENT_SECRET, self.credentials.client_secret)
        ctx.update(
            {
                "tesla.client_id": self.credentials.client_id,
                "tesla.energy_site_id": self.sandbox.energy_site_id,
            }
        )
        self.remember_secrets()
        return TokenSet.from_json(saved)

    # -- inspection --------------------------------------------------------------------------

    def stored(self) -> dict[str, str]:
        """The file store's contents ({} when there is no file)."""
        try:
            data: dict[str, str] = json.loads(self.site.secrets_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return data

    def fleet_tokens(self) -> TokenSet:
        return TokenSet.from_json(self.stored()[FLEET_TOKENS])

    def set_fleet_expiry(self, expires_at: float) -> TokenSet:
        """Rewrite the stored tokens' ``expires_at`` (e.g. to make them due for a refresh)."""
        data = self.stored()
        tokens = json.loads(data[FLEET_TOKENS])
        tokens["expires_at"] = expires_at
        data[FLEET_TOKENS] = json.dumps(tokens)
        self.site.secrets_file.write_text(json.dumps(data), encoding="utf-8")
        return TokenSet.from_json(data[FLEET_TOKENS])

    def count(self, method: str, path: str) -> int:
        by_path: dict[str, int] = self.sandbox.request_counts()["by_path"]
        return by_path.get(f"{method} {path}", 0)

    def prices_path(self) -> str:
        return f"/amber/v1/sites/{self.sandbox.amber_site_id}/prices/current"

    def config_text(self) -> str:
        return self.site.config.read_text(encoding="utf-8")

    # -- secrets -----------------------------------------------------------------------------

    def remember_secrets(self) -> None:
        """Every secret value that has been in the store so far (tokens rotate)."""
        try:
            values = self.stored()
        except (ValueError, OSError):  # a test damaged the file on purpose
            values = {}
        if not isinstance(values, dict):
            values = {}
        for value in values.values():
            self.seen_secrets.update(secret_pieces(value))

    def all_secrets(self) -> set[str]:
        c = self.credentials
        self.remember_secrets()
        return self.seen_secrets | {c.amber_token, c.teslemetry_token, c.client_secret}

    def assert_nothing_leaked(self) -> None:
        """No secret the test met in any recorded output, the config directory (but the secret
        file) or the state directory."""
        texts = {f"output {n}": text.encode() for n, text in enumerate(self.transcript)}
        texts |= files_under(self.site.config.parent, skip=[self.site.secrets_file])
        if self.site.state.exists():
            texts |= files_under(self.site.state)
        assert_no_secret_in(self.all_secrets(), texts)


@pytest.fixture
def e2e(site: SandboxSite) -> Iterator[E2E]:
    """A logged-out sandbox site to drive through the CLI; at the end, no secret has leaked."""
    session = E2E(site)
    yield session
    session.assert_nothing_leaked()


def assert_no_secret_in(secrets: set[str], texts: dict[str, bytes]) -> None:
    """No secret appears in any of ``texts`` (name → content)."""
    found = [
        (name, secret[:8] + "…")
        for name, content in texts.items()
        for secret in secrets
        if secret.encode() in content
    ]
    assert not found, f"secrets found outside the secret store: {found}"


def secret_pieces(value: str) -> set[str]:
    """The parts of a stored secret worth searching for: the value, the tokens inside the saved
    Fleet token JSON, and the base64 lines of a PEM private key."""
    pieces = {value.strip()}
    try:
        data = json.loads(value)
    except ValueError:
        data = None
    if isinstance(data, dict):
        pieces |= {v for k, v in data.items() if k.endswith("token") and isinstance(v, str)}
    if "PRIVATE KEY" in value:
        pieces |= {line for line in value.splitlines() if len(line) > 20 and "-----" not in line}
    return {p for p in pieces if len(p) >= 16}


def files_under(*roots: Path, skip: Sequence[Path] = ()) -> dict[str, bytes]:
    """Every file below ``roots`` (except ``skip``), by path."""
    found: dict[str, bytes] = {}
    for root in roots:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            if path not in skip:
                found[str(path)] = path.read_bytes()
    return found


def mode_of(path: Path) -> int:
    return path.stat().st_mode & 0o777


# -- many processes refreshing at once ----------------------------------------------------------


def _refresh_child(config: str, state: str, work: str) -> None:
    """One process: build an AppContext from the config, wait for the start signal, ask for a
    token, write it down."""
    os.environ["AMBER_TESLA_SYNC_CONFIG"] = config
    os.environ["AMBER_TESLA_SYNC_STATE_DIR"] = state
    ctx = AppContext(load_config(Path(config)))
    folder = Path(work)
    (folder / "ready" / str(os.getpid())).touch()
    while not (folder / "go").exists():
        time.sleep(0.002)
    token = ctx.fleet_tokens().token()
    (folder / "tokens" / str(os.getpid())).write_text(token, encoding="utf-8")


def refresh_in_processes(config: Path, state: Path, work: Path, count: int) -> list[str]:
    """``count`` processes, started together, each asking for a Fleet token; their tokens."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["amber_tesla_sync.sync.context", "e2ekit"])
    for name in ("ready", "tokens"):
        (work / name).mkdir()
    processes = [
        context.Process(target=_refresh_child, args=(str(config), str(state), str(work)))
        for _ in range(count)
    ]
    for process in processes:
        process.start()
    try:
        wait_until(lambda: len(list((work / "ready").iterdir())) == count, timeout=60)
        (work / "go").touch()
        for process in processes:
            process.join(timeout=60)
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
    assert [p.exitcode for p in processes] == [0] * count
    return [path.read_text(encoding="utf-8") for path in sorted((work / "tokens").iterdir())]
