"""End to end: the Amber and Tesla clients against the sandbox over loopback.

Retries and give-up on every injected fault (counting what the sandbox saw), the Fleet API's
status codes (421, 412, 401, 402, 403, ``result: false``), the fallback to Teslemetry, token
rotation under 50 concurrent processes, keygen and partner registration, and the live ``tariff``.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from amber_tesla_sync.accounts.registration import keygen
from amber_tesla_sync.errors import ServiceError
from amber_tesla_sync.sandbox.partners import public_key_hex
from amber_tesla_sync.store.secrets import FLEET_PRIVATE_KEY
from amber_tesla_sync.tariff import validate_request_body
from amber_tesla_sync.tesla import keys
from amber_tesla_sync.tesla.api import TeslaApi
from conftest import CliResult, CliRunner
from e2ekit import E2E, TOKEN_PATH, assert_failed, mode_of, refresh_in_processes, wait_until

TIMEOUT = 1.5  # the client's timeout in these tests (room for a loaded machine); a "delay"
# fault waits longer
DELAY = 3.0


def cli_in(cli: CliRunner, monkeypatch: pytest.MonkeyPatch, stdin: str, *args: str) -> CliResult:
    """The CLI in-process (for the long fault matrices), with ``stdin`` as standard input."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return cli(*args)


# -- faults: retried then success, or a clean give-up ----------------------------------------


@dataclass(frozen=True)
class Case:
    """An injected fault, how many requests it spoils, and what the client should then do."""

    name: str
    count: int
    ok: bool
    requests: int  # what the sandbox sees in all
    fault: dict[str, Any] = field(default_factory=dict)
    needle: str = ""  # in the give-up message
    min_seconds: float = 0.0  # a wait the server asked for
    code: int = 8  # the exit code of a give-up

    @property
    def id(self) -> str:
        return f"{self.name}-x{self.count}"


def status(code: int, **headers: str) -> dict[str, Any]:
    body = {"message": "Too Many Requests" if code == 429 else "Internal server error"}
    return {"kind": "status", "status": code, "headers": headers, "body": body}


SPOILED = {
    "truncated": {"kind": "malformed", "malformed": "truncated"},
    "not-json": {"kind": "malformed", "malformed": "not_json"},
    "wrong-shape": {"kind": "malformed", "malformed": "wrong_shape"},
}
SHARED = [
    Case("500", 2, True, 3, status(500)),
    Case("500", 3, False, 3, status(500), "500"),
    Case("502", 2, True, 3, status(502)),
    Case("502", 3, False, 3, status(502), "502"),
    Case("retry-after-1s", 1, True, 2, status(429, **{"Retry-After": "1"}), min_seconds=1),
    Case("retry-after-10min", 1, False, 1, status(429, **{"Retry-After": "600"}), "600 s"),
    Case("ratelimit-reset-10min", 1, False, 1, status(429, **{"RateLimit-Reset": "600"}), "600 s"),
    Case("delay", 1, True, 2, {"kind": "delay", "delay_seconds": DELAY}),
    Case("delay", 3, False, 3, {"kind": "delay", "delay_seconds": DELAY}, "timed out"),
    Case("drop", 2, True, 3, {"kind": "drop"}),
    Case("drop", 3, False, 3, {"kind": "drop"}, "connection failed"),
    *(Case(name, 2, True, 3, fault) for name, fault in SPOILED.items()),
    *(Case(name, 3, False, 3, fault, "malformed") for name, fault in SPOILED.items()),
]
AMBER_SPOILED = {
    "truncated": "Amber's price response is not JSON",
    "not-json": "Amber's price response is not JSON: an HTML page",
    "wrong-shape": "not an Amber price list",
}
# Amber: a 429 without a reset header is retried with backoff (bounded by the attempts)
AMBER_CASES = [
    # a spoiled body (not JSON, or JSON in the wrong shape), every time, is bad data (exit 4),
    # not an unavailable service
    *(
        Case(c.name, c.count, c.ok, c.requests, c.fault, AMBER_SPOILED[c.name], code=4)
        if c.name in AMBER_SPOILED and not c.ok
        else c
        for c in SHARED
    ),
    Case("ratelimit-reset-1s", 1, True, 2, status(429, **{"RateLimit-Reset": "1"}), min_seconds=1),
    Case("429", 2, True, 3, status(429)),
    # a server error's RateLimit-Reset is the window's end, not a reason to give up
    Case("500-with-ratelimit-reset", 2, True, 3, status(500, **{"RateLimit-Reset": "299"})),
    Case("429", 3, False, 3, status(429), "rate limit"),
]
# Tesla: a 429 without a reset header ends the run at once (Tesla bills every 429)
TESLA_CASES = [*SHARED, Case("429", 1, False, 1, status(429), "rate limited")]


def inject(e2e: E2E, path: str, case: Case) -> float:
    e2e.configure({"network.timeout_seconds": TIMEOUT})
    e2e.sandbox.clear_requests()
    fault = dict(case.fault)
    e2e.sandbox.add_fault(path, count=case.count, **fault)
    return time.monotonic()


def check(e2e: E2E, case: Case, path: str, result: CliResult, started: float, what: str) -> None:
    elapsed = time.monotonic() - started
    if case.ok:
        assert result.code == 0, result.stderr
        assert "Traceback" not in result.stderr
        assert "retrying" in result.stderr  # a warning for each retry, even without -v
    else:
        assert_failed(result, case.code, what if case.code == 8 else "", case.needle)
    assert elapsed >= case.min_seconds
    wait_until(lambda: e2e.count("GET", path) >= case.requests)
    if case.fault["kind"] == "delay":
        time.sleep(0.1)  # (a late request would show up now)
    assert e2e.count("GET", path) == case.requests
    assert e2e.sandbox.faults() == []  # every injected fault was met


@pytest.mark.parametrize("case", AMBER_CASES, ids=lambda c: c.id)
def test_amber_faults_through_tariff(e2e: E2E, cli: CliRunner, case: Case) -> None:
    e2e.seed_amber()
    e2e.configure({"site.timezone": "Australia/Sydney"})
    path = e2e.prices_path()
    started = inject(e2e, path, case)
    result = cli("tariff", "--json")
    check(e2e, case, path, result, started, "fetching Amber prices")
    if case.ok:
        assert validate_request_body(json.loads(result.stdout)["tesla_request"]) == []
    else:
        assert result.stdout == ""
        hint = "Amber may be having problems" if case.code == 8 else "Amber's API is sending bad"
        assert hint in result.stderr


@pytest.mark.parametrize("case", TESLA_CASES, ids=lambda c: c.id)
def test_teslemetry_faults_through_login(
    e2e: E2E, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, case: Case
) -> None:
    path = "/teslemetry/api/1/products"
    started = inject(e2e, path, case)
    token = e2e.credentials.teslemetry_token
    result = cli_in(cli, monkeypatch, token + "\n", "login", "teslemetry", "--token-stdin")
    check(e2e, case, path, result, started, "GET /api/1/products on Teslemetry")
    assert ("teslemetry_token" in e2e.stored()) == case.ok
    assert token not in result.stdout + result.stderr


FLEET_CASES = [c for c in TESLA_CASES if c.name in ("502", "drop", "truncated", "429")]


@pytest.mark.parametrize("case", FLEET_CASES, ids=lambda c: c.id)
def test_fleet_faults_through_tariff(e2e: E2E, cli: CliRunner, case: Case) -> None:
    """``tariff`` reads the site's time zone from the Powerwall when nothing has cached it."""
    e2e.seed_amber()
    e2e.seed_fleet()
    path = f"/fleet/na/api/1/energy_sites/{e2e.sandbox.energy_site_id}/site_info"
    started = inject(e2e, path, case)
    result = cli("tariff", "--json")
    what = f"GET /api/1/energy_sites/{e2e.sandbox.energy_site_id}/site_info on the Tesla Fleet API"
    check(e2e, case, path, result, started, what)
    assert e2e.count("POST", TOKEN_PATH) == 0  # a fault is not a reason to refresh


# -- the token endpoint: refresh under faults never burns the chain --------------------------


@pytest.mark.parametrize(
    ("name", "fault", "count", "ok"),
    [
        ("500", status(500), 2, True),
        ("drop", {"kind": "drop"}, 1, True),
        ("timeout, answered late", {"kind": "delay", "delay_seconds": DELAY}, 1, True),
        ("503", status(503), 3, False),
    ],
)
def test_refresh_under_faults_keeps_a_working_chain(
    e2e: E2E,
    caplog: pytest.LogCaptureFixture,
    name: str,
    fault: dict[str, Any],
    count: int,
    ok: bool,
) -> None:
    e2e.seed_fleet()
    e2e.configure({"network.timeout_seconds": TIMEOUT})
    before = e2e.set_fleet_expiry(time.time())  # due for a refresh
    e2e.sandbox.add_fault(TOKEN_PATH, count=count, **fault)
    tokens = e2e.context().fleet_tokens()
    if ok:
        access = tokens.token()
        assert access != before.access_token
    else:
        with pytest.raises(ServiceError, match="refreshing the Fleet token failed"):
            tokens.token()
        assert e2e.fleet_tokens() == before  # nothing half-saved
    wait_until(lambda: e2e.sandbox.faults() == [])
    time.sleep(DELAY if fault["kind"] == "delay" else 0)  # late answers land in the sandbox
    # whatever happened, the saved chain still refreshes and the API answers
    e2e.set_fleet_expiry(time.time())
    ctx = e2e.context()
    TeslaApi(ctx.fleet_connection()).site_info(e2e.sandbox.energy_site_id)
    assert e2e.fleet_tokens().refresh_token in e2e.sandbox.valid_refresh_tokens()
    # a late duplicate of the first refresh replaced the token we saved; the one before it
    # (still accepted for 24 h) rescued the chain
    rescued = "trying the one before it" in caplog.text
    assert rescued == (fault["kind"] == "delay")


# -- the Fleet API's answers, through the CLI --------------------------------------------------


def logged_in(e2e: E2E, *, fleet_scopes_prompt: bool = True) -> None:
    e2e.seed_amber()
    e2e.seed_fleet(prompt_missing_scopes=fleet_scopes_prompt)


def test_wrong_region_switches_host_and_saves_it(e2e: E2E) -> None:
    logged_in(e2e)
    e2e.configure({"tesla.fleet_api_url": e2e.sandbox.fleet_eu_base_url})
    result = e2e.run("status")
    assert result.returncode == 0, result.stderr
    assert "switching the Fleet API host" in result.stderr
    assert f'fleet_api_url = "{e2e.sandbox.fleet_na_base_url}"' in e2e.config_text()
    site_info = f"energy_sites/{e2e.sandbox.energy_site_id}/site_info"
    calls = [(r["path"], r["status"]) for r in e2e.sandbox.requests() if site_info in r["path"]]
    assert calls == [(f"/fleet/eu/api/1/{site_info}", 421), (f"/fleet/na/api/1/{site_info}", 200)]
    e2e.sandbox.clear_requests()
    assert e2e.run("status").returncode == 0  # the next run goes straight to the right host
    assert all("/fleet/eu/" not in r["path"] for r in e2e.sandbox.requests())


def test_unregistered_partner_account_says_register(e2e: E2E, cli: CliRunner) -> None:
    logged_in(e2e)
    e2e.sandbox.unregister_partner("na")
    result = cli("tariff", "--json")
    assert_failed(result, 6, "not registered", "amber-tesla-sync register")


def test_expired_access_token_is_refreshed_once_and_the_call_retried(
    e2e: E2E, cli: CliRunner
) -> None:
    logged_in(e2e)
    before = e2e.fleet_tokens()
    assert e2e.sandbox.expire_access_tokens() >= 1
    e2e.sandbox.clear_requests()
    result = cli("tariff", "--json")
    assert result.code == 0, result.stderr
    site_info = f"/fleet/na/api/1/energy_sites/{e2e.sandbox.energy_site_id}/site_info"
    calls = [(r["path"], r["status"]) for r in e2e.sandbox.requests() if r["service"] != "amber"]
    assert calls == [(site_info, 401), (TOKEN_PATH, 200), (site_info, 200)]
    after = e2e.fleet_tokens()
    assert after.access_token != before.access_token
    assert after.refresh_token in e2e.sandbox.valid_refresh_tokens()


def test_revoked_refresh_token_says_login_fleet(e2e: E2E, cli: CliRunner) -> None:
    logged_in(e2e)
    e2e.sandbox.expire_access_tokens()
    e2e.sandbox.revoke_refresh_tokens()
    result = cli("tariff", "--json")
    assert_failed(result, 6, "login_required", "`amber-tesla-sync login fleet`")
    assert result.stdout == ""


def test_billing_disabled_is_a_payment_message(e2e: E2E, cli: CliRunner) -> None:
    logged_in(e2e)
    e2e.sandbox.set_switches(billing_disabled=True)
    result = cli("tariff", "--json")
    assert_failed(result, 8, "payment required", "payment method", "developer.tesla.com")


def test_missing_scopes_then_login_again_grants_them(e2e: E2E) -> None:
    e2e.sandbox.set_switches(declined_scopes=["energy_cmds"])
    logged_in(e2e, fleet_scopes_prompt=False)  # the user unticked "energy commands"
    result = e2e.run("sync", "--force")
    assert_failed(result, 6, "lacks a needed permission", "login fleet", "missing scopes")
    assert e2e.sandbox.tariff_posts() == []
    relogin = e2e.login_fleet()  # asks with prompt_missing_scopes=true
    assert relogin.returncode == 0, relogin.stderr
    result = e2e.run("sync", "--force")
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(e2e.sandbox.tariff_posts()) == 1


def test_refused_command_gives_teslas_reason(e2e: E2E) -> None:
    logged_in(e2e)
    e2e.sandbox.set_switches(refuse_commands="Installer has locked this setting")
    result = e2e.run("sync", "--force")
    assert_failed(result, 8, "Tesla refused the command", "Installer has locked this setting")


def test_fleet_failing_for_registration_falls_back_to_teslemetry(e2e: E2E) -> None:
    logged_in(e2e)
    e2e.seed_teslemetry()
    e2e.sandbox.unregister_partner("na")
    e2e.sandbox.clear_requests()
    result = e2e.run("status", "--json")
    assert result.returncode == 0, result.stderr
    assert "falling back to Teslemetry" in result.stderr
    [shown] = json.loads(result.stdout)["sites"]
    assert shown["powerwall"]["error"] is None
    assert shown["powerwall"]["site_info"]["installation_time_zone"] == "Australia/Sydney"
    teslemetry = [r for r in e2e.sandbox.requests() if r["service"] == "teslemetry"]
    assert {r["status"] for r in teslemetry} == {200} and len(teslemetry) == 2


# -- token rotation under concurrency ----------------------------------------------------------


def test_fifty_processes_refreshing_at_once_leave_a_working_chain(e2e: E2E, tmp_path: Path) -> None:
    """50 processes (forked from a server that has the package imported, so that they start
    within moments of each other) each build an AppContext and ask for a token."""
    e2e.seed_fleet()
    before = e2e.set_fleet_expiry(time.time() + 5)  # inside the refresh margin: all want one
    e2e.sandbox.clear_requests()
    tokens = refresh_in_processes(e2e.site.config, e2e.site.state, tmp_path, 50)
    assert e2e.count("POST", TOKEN_PATH) == 1  # exactly one refresh reached Tesla
    saved = e2e.fleet_tokens()
    assert tokens == [saved.access_token] * 50 and saved.access_token != before.access_token
    assert saved.refresh_token != before.refresh_token
    assert saved.refresh_token in e2e.sandbox.valid_refresh_tokens()
    info = TeslaApi(e2e.context().fleet_connection()).site_info(e2e.sandbox.energy_site_id)
    assert info["installation_time_zone"] == "Australia/Sydney"
    e2e.set_fleet_expiry(time.time())  # and the chain goes on
    assert e2e.context().fleet_tokens().token() != saved.access_token
    assert e2e.count("POST", TOKEN_PATH) == 2


REJECTED = """
import os, sys, time
from pathlib import Path
from amber_tesla_sync.settings.load import load_config
from amber_tesla_sync.sync.context import AppContext
from amber_tesla_sync.tesla.api import TeslaApi

ready, go, site = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
ctx = AppContext(load_config(Path(os.environ["AMBER_TESLA_SYNC_CONFIG"])))
(ready / str(os.getpid())).touch()
while not go.exists():
    time.sleep(0.002)
TeslaApi(ctx.fleet_connection()).site_info(site)
print(ctx.fleet_tokens().load().access_token)
"""


def test_processes_rejected_at_once_refresh_once(e2e: E2E, tmp_path: Path) -> None:
    e2e.seed_fleet()
    e2e.sandbox.expire_access_tokens()  # still "valid" locally: each process meets a 401
    e2e.sandbox.clear_requests()
    ready, go = tmp_path / "ready", tmp_path / "go"
    ready.mkdir()
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", REJECTED, str(ready), str(go), str(e2e.sandbox.energy_site_id)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=e2e.env(),
        )
        for _ in range(8)
    ]
    try:
        wait_until(lambda: len(list(ready.iterdir())) == len(processes), timeout=60)
        go.touch()
        outputs = [process.communicate(timeout=60) for process in processes]
    finally:
        for process in processes:
            process.kill()
    assert [p.returncode for p in processes] == [0] * 8, [err for _, err in outputs]
    assert e2e.count("POST", TOKEN_PATH) == 1
    assert {out.strip() for out, _ in outputs} == {e2e.fleet_tokens().access_token}
    assert e2e.fleet_tokens().refresh_token in e2e.sandbox.valid_refresh_tokens()


# -- keygen and register -------------------------------------------------------------------

DOMAIN = "amber-tesla-sync.example"


@pytest.fixture
def keyed(e2e: E2E) -> Iterator[E2E]:
    """Logged in to the Fleet API, with a key pair (made in-process)."""
    e2e.seed_fleet()
    keygen(e2e.context(), force=False, output=None)
    e2e.remember_secrets()
    yield e2e


def test_keygen_stores_the_private_key_and_prints_the_public_one(e2e: E2E) -> None:
    result = e2e.run("keygen")
    assert result.returncode == 0, result.stderr
    public = e2e.site.config.parent / "com.tesla.3p.public-key.pem"
    private = e2e.stored()[FLEET_PRIVATE_KEY]
    assert "PRIVATE KEY" in private
    text = public.read_text()
    assert text.startswith("-----BEGIN PUBLIC KEY-----") and keys.public_key_pem(private) == text
    assert public_key_hex(text).startswith("04")  # an uncompressed prime256v1 point
    assert mode_of(public) == 0o644
    assert mode_of(e2e.site.secrets_file) == 0o600
    printed = e2e.transcript[-2:]  # stdout, stderr of keygen
    assert printed[0] == text
    assert "/.well-known/appspecific/com.tesla.3p.public-key.pem" in printed[1]
    assert str(public) in printed[1]
    assert private.splitlines()[1] not in "".join(printed)

    again = e2e.run("keygen")
    assert_failed(again, 2, "already exists", "--force")
    assert public.read_text() == text and e2e.stored()[FLEET_PRIVATE_KEY] == private

    elsewhere = e2e.site.config.parent / "out" / "key.pem"
    forced = e2e.run("keygen", "--force", "--output", str(elsewhere))
    assert forced.returncode == 0, forced.stderr
    assert e2e.stored()[FLEET_PRIVATE_KEY] != private
    assert elsewhere.read_text() == keys.public_key_pem(e2e.stored()[FLEET_PRIVATE_KEY])


def test_register_checks_that_tesla_has_our_key(keyed: E2E) -> None:
    e2e = keyed
    public = (e2e.site.config.parent / "com.tesla.3p.public-key.pem").read_text()
    e2e.sandbox.unregister_partner("na")
    e2e.sandbox.host_public_key(DOMAIN, public)
    result = e2e.run("register", "--domain", DOMAIN)
    assert result.returncode == 0, result.stderr
    assert "the public key Tesla reports matches ours" in result.stderr
    registration = e2e.sandbox.state()["fleet"]["partners"]["registrations"]["na"]
    assert registration["domain"] == DOMAIN
    assert registration["public_key"] == public_key_hex(public)
    assert f'domain = "{DOMAIN}"' in e2e.config_text()
    kinds = {
        (r["path"], r["token_kind"]) for r in e2e.sandbox.requests() if r["service"] == "fleet"
    }
    assert ("/fleet/na/api/1/partner_accounts", "partner") in kinds


def test_register_with_another_key_served_is_a_clear_error(keyed: E2E) -> None:
    e2e = keyed
    other = keys.public_key_pem(keys.generate_private_key_pem())
    e2e.sandbox.host_public_key(DOMAIN, other)
    result = e2e.run("register", "--domain", DOMAIN)
    assert_failed(result, 8, "not this tool's key", "com.tesla.3p.public-key.pem", DOMAIN)


def test_register_when_tesla_cannot_get_the_key_or_the_domain_is_wrong(keyed: E2E) -> None:
    e2e = keyed
    nothing = e2e.run("register", "--domain", DOMAIN)  # nothing served at the domain
    assert_failed(nothing, 8, "Public key download failed", f"https://{DOMAIN}/.well-known/")
    wrong = e2e.run("register", "--domain", "elsewhere.example.org")
    assert_failed(wrong, 8, "must match registered allowed origin", "developer.tesla.com")


def test_register_needs_a_fleet_login(e2e: E2E) -> None:
    result = e2e.run("register", "--domain", DOMAIN)
    assert_failed(result, 6, "client id and secret", "login fleet")


# -- live tariff ---------------------------------------------------------------------------


def test_live_tariff_after_login(e2e: E2E) -> None:
    assert e2e.login_amber().returncode == 0
    assert e2e.login_teslemetry().returncode == 0
    e2e.sandbox.clear_requests()
    result = e2e.run("tariff", "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)["tesla_request"]
    assert validate_request_body(body) == []
    assert body["tou_settings"]["optimization_strategy"] == "economics"
    # one price request; the time zone came from the login's cache
    assert e2e.sandbox.request_counts()["by_path"] == {f"GET {e2e.prices_path()}": 1}
    table = e2e.run("tariff")
    assert table.returncode == 0 and "Australia/Sydney" in table.stdout + table.stderr


def test_sandbox_command_on_a_busy_port_says_so(e2e: E2E) -> None:
    result = e2e.run("sandbox", "--port", str(e2e.sandbox.port))
    assert_failed(result, 2, f"cannot listen on 127.0.0.1:{e2e.sandbox.port}", "--port")
