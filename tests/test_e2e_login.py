"""End to end: every login flow and logout, in real processes against the sandbox over loopback.

``login fleet`` is driven by a scripted browser (tests/fake_browser.py, through ``$BROWSER``), by
the test itself reading the printed URL (``--no-browser``), and by pasting the redirected URL
into standard input (``--paste``).
"""

from __future__ import annotations

import json
import socket
import urllib.parse
from pathlib import Path
from subprocess import Popen
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from amber_tesla_sync.store.secrets import (
    AMBER_TOKEN,
    FLEET_CLIENT_SECRET,
    FLEET_TOKENS,
    TESLEMETRY_TOKEN,
)
from amber_tesla_sync.tesla.api import TeslaApi
from e2ekit import E2E, TOKEN_PATH, assert_failed


def state_file(e2e: E2E) -> dict[str, object]:
    data: dict[str, object] = json.loads((e2e.site.state / "state.json").read_text())
    return data


# -- Amber ---------------------------------------------------------------------------------


def test_login_amber_with_several_active_sites_needs_site_and_says_so(e2e: E2E) -> None:
    token = e2e.credentials.amber_token + "\n"
    result = e2e.run("login", "amber", "--token-stdin", input=token)
    assert_failed(result, 2, "Several active Amber sites", "no terminal", "--site")
    # it reads as a sentence and lists the sites to pick from
    assert "which one?," not in result.stderr
    assert e2e.sandbox.amber_site_id in result.stderr
    assert e2e.sandbox.amber_site_id_30min in result.stderr
    assert AMBER_TOKEN not in e2e.stored()
    assert "site_id" not in e2e.config_text()

    unknown = e2e.run("login", "amber", "--token-stdin", "--site", "nope", input=token)
    assert_failed(unknown, 2, "no site 'nope'", e2e.sandbox.amber_site_id_30min)

    result = e2e.run(
        "login", "amber", "--token-stdin", "--site", e2e.sandbox.amber_site_id_30min, input=token
    )
    assert result.returncode == 0, result.stderr
    assert f"site {e2e.sandbox.amber_site_id_30min}" in result.stderr
    assert "30-minute billing" in result.stderr
    assert e2e.stored()[AMBER_TOKEN] == e2e.credentials.amber_token
    assert f'site_id = "{e2e.sandbox.amber_site_id_30min}"' in e2e.config_text()
    sites = state_file(e2e)["amber_sites"]
    nmi = e2e.sandbox.app.amber_sites[1].nmi  # recorded: notifications name the site by it
    assert sites == {
        e2e.sandbox.amber_site_id_30min: {
            "interval_length": 30,
            "channels": ["feedIn", "general"],
            "nmi": nmi,
        }
    }
    assert e2e.credentials.amber_token not in result.stdout + result.stderr


def test_login_amber_by_nmi(e2e: E2E) -> None:
    nmi = next(s.nmi for s in e2e.sandbox.app.amber_sites if s.id == e2e.sandbox.amber_site_id)
    result = e2e.run(
        "login", "amber", "--token-stdin", "--site", nmi, input=e2e.credentials.amber_token
    )
    assert result.returncode == 0, result.stderr
    assert f'site_id = "{e2e.sandbox.amber_site_id}"' in e2e.config_text()


def test_login_amber_with_a_wrong_or_missing_token(e2e: E2E) -> None:
    wrong = e2e.run(
        "login", "amber", "--token-stdin", "--site", e2e.sandbox.amber_site_id, input="psk_wrong\n"
    )
    assert_failed(wrong, 6, "not valid", "`amber-tesla-sync login amber`")
    assert "psk_wrong" not in wrong.stderr
    empty = e2e.run("login", "amber", "--token-stdin", input="\n")
    assert_failed(empty, 2, "no Amber API token given")
    prompt = e2e.run("login", "amber", input="")  # no terminal to prompt on
    assert_failed(prompt, 2, "no terminal", "--token-stdin")
    assert not e2e.site.secrets_file.exists()
    assert e2e.count("GET", "/amber/v1/sites") == 1


# -- Teslemetry ----------------------------------------------------------------------------


def test_login_teslemetry_picks_the_powerwall_and_its_time_zone(e2e: E2E) -> None:
    result = e2e.login_teslemetry()
    assert result.returncode == 0, result.stderr
    site_id = e2e.sandbox.energy_site_id
    assert f"Powerwall site {site_id}" in result.stderr
    assert "Australia/Sydney" in result.stderr
    assert e2e.stored() == {TESLEMETRY_TOKEN: e2e.credentials.teslemetry_token}
    assert f"energy_site_id = {site_id}" in e2e.config_text()
    assert state_file(e2e)["energy_sites"] == {
        str(site_id): {"time_zone": "Australia/Sydney", "name": "Sandbox Home"}
    }
    assert e2e.credentials.teslemetry_token not in result.stdout + result.stderr

    wrong = e2e.run("login", "teslemetry", "--token-stdin", input="not-a-token\n")
    assert_failed(wrong, 6, "`amber-tesla-sync login teslemetry`")
    other = e2e.run(
        "login",
        "teslemetry",
        "--token-stdin",
        "--site",
        "123",
        input=e2e.credentials.teslemetry_token,
    )
    assert_failed(other, 2, "no energy site 123", str(site_id))
    assert e2e.stored() == {TESLEMETRY_TOKEN: e2e.credentials.teslemetry_token}


# -- Fleet: the browser flows --------------------------------------------------------------


def assert_fleet_logged_in(e2e: E2E, result: Any) -> None:
    assert result.returncode == 0, result.stderr
    stored = e2e.stored()
    assert stored[FLEET_CLIENT_SECRET] == e2e.credentials.client_secret
    tokens = e2e.fleet_tokens()
    assert tokens.refresh_token in e2e.sandbox.valid_refresh_tokens()
    config = e2e.config_text()
    assert f'client_id = "{e2e.credentials.client_id}"' in config
    assert f"energy_site_id = {e2e.sandbox.energy_site_id}" in config
    assert f'fleet_api_url = "{e2e.sandbox.fleet_na_base_url}"' in config
    info = TeslaApi(e2e.context().fleet_connection()).site_info(e2e.sandbox.energy_site_id)
    assert info["installation_time_zone"] == "Australia/Sydney"


def test_login_fleet_with_the_browser(e2e: E2E, tmp_path: Path) -> None:
    log = tmp_path / "browser.jsonl"
    result = e2e.login_fleet(log=log)
    assert_fleet_logged_in(e2e, result)
    browser = json.loads(log.read_text())
    assert browser == {
        "mode": "",
        "authorize_status": 302,
        "code": browser["code"],
        "callback_status": 200,
    }
    assert browser["code"] not in result.stdout + result.stderr
    assert e2e.sandbox.authorize_url + "?" in result.stderr  # the URL is always printed
    assert "prompt_missing_scopes=true" in result.stderr
    assert "code_challenge_method=S256" in result.stderr
    assert "region na" in result.stderr
    assert f"Powerwall site {e2e.sandbox.energy_site_id}" in result.stderr
    assert e2e.count("POST", TOKEN_PATH) == 1  # one code exchange, no refresh
    assert e2e.count("GET", "/fleet/na/api/1/users/region") == 1


def start_login(e2e: E2E, *extra: str, env: dict[str, str] | None = None) -> Popen[str]:
    """``login fleet`` in a process the test talks to; the client secret already sent."""
    process = e2e.popen(
        "login", "fleet", "--client-id", e2e.credentials.client_id, "--client-secret-stdin",
        "--timeout", "20", *extra, env=env,
    )  # fmt: skip
    assert process.stdin is not None
    process.stdin.write(e2e.credentials.client_secret + "\n")
    process.stdin.flush()
    return process


def printed_url(e2e: E2E, process: Popen[str]) -> str:
    """The authorize URL, read from the process's standard error as it is printed."""
    assert process.stderr is not None
    for line in iter(process.stderr.readline, ""):
        e2e.record(line)
        if line.startswith(e2e.sandbox.authorize_url):
            return line.strip()
    raise AssertionError("the CLI never printed the authorize URL")


def finish(e2e: E2E, process: Popen[str], answer: str = "") -> SimpleNamespace:
    """Send ``answer``, close standard input, read the rest (through the same buffered pipes
    ``printed_url`` read from) and wait."""
    assert process.stdin and process.stdout and process.stderr
    process.stdin.write(answer)
    process.stdin.close()
    stderr, stdout = process.stderr.read(), process.stdout.read()
    process.wait(timeout=30)
    e2e.record(stdout, stderr)
    return SimpleNamespace(returncode=process.returncode, stdout=stdout, stderr=stderr)


def approve(url: str) -> str:
    """The browser's part: the authorize request, answered with a redirect to the callback."""
    response = httpx.get(url, follow_redirects=False)
    assert response.status_code == 302, response.text
    return response.headers["location"]


def test_login_fleet_without_a_browser(e2e: E2E) -> None:
    process = start_login(e2e, "--no-browser", env={"BROWSER": "false"})
    location = approve(printed_url(e2e, process))
    assert location.startswith(e2e.credentials.redirect_uri + "?")
    page = httpx.get(location)  # the CLI's loopback callback
    assert page.status_code == 200 and "Logged in" in page.text
    assert_fleet_logged_in(e2e, finish(e2e, process))


def test_login_fleet_by_pasting_the_redirected_url(e2e: E2E) -> None:
    process = start_login(e2e, "--paste")
    location = approve(printed_url(e2e, process))
    result = finish(e2e, process, location + "\n")
    assert "copy its whole" in result.stderr and "Redirected URL:" in result.stderr
    assert_fleet_logged_in(e2e, result)


def test_login_fleet_paste_rejects_something_else(e2e: E2E) -> None:
    process = start_login(e2e, "--paste")
    printed_url(e2e, process)
    result = finish(e2e, process, "https://example.com/elsewhere?x=1\n")
    assert_failed(result, 6, "not the redirected URL", "--paste")
    assert e2e.stored() == {}


def test_login_fleet_falls_back_to_pasting_when_the_port_is_taken(e2e: E2E) -> None:
    port = urllib.parse.urlsplit(e2e.credentials.redirect_uri).port
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        result = e2e.login_fleet()  # standard input ends after the secret: nothing pasted
    assert_failed(result, 2, f"Cannot listen for the redirect on port {port}", "no answer")
    assert e2e.stored() == {}


@pytest.mark.parametrize(
    ("mode", "needles"),
    [
        ("bad-state", ["state does not match", "nothing was saved", "login fleet"]),
        ("bad-pkce", ["code_verifier does not match", "login fleet"]),
        ("tamper-code", ["invalid_auth_code", "login fleet"]),
    ],
)
def test_login_fleet_rejects_a_forged_or_spoiled_approval(
    e2e: E2E, tmp_path: Path, mode: str, needles: list[str]
) -> None:
    log = tmp_path / "browser.jsonl"
    result = e2e.login_fleet(mode=mode, log=log)
    assert_failed(result, 6, *needles)
    seen = json.loads(log.read_text())
    if mode == "bad-state":  # the browser is told the truth: no "Logged in" for a forged approval
        assert seen["callback_status"] == 400
        assert "Logged in" not in seen["callback_page"]
        assert "Login failed" in seen["callback_page"]
    else:  # the browser got through; Tesla refuses the code afterwards
        assert seen["callback_status"] == 200
    assert e2e.stored() == {}  # neither tokens nor the client secret
    assert "client_id" not in e2e.config_text()
    # a forged state is refused before any exchange; a bad code or verifier by Tesla
    assert e2e.count("POST", TOKEN_PATH) == (0 if mode == "bad-state" else 1)
    statuses = [r["status"] for r in e2e.sandbox.requests() if r["path"] == TOKEN_PATH]
    assert statuses == ([] if mode == "bad-state" else [400])


def test_login_fleet_consent_denied(e2e: E2E) -> None:
    e2e.sandbox.set_switches(deny_consent=True)
    result = e2e.login_fleet()
    assert_failed(result, 6, "did not approve", "access_denied")
    assert e2e.stored() == {}


def test_login_fleet_times_out_without_an_approval(e2e: E2E) -> None:
    result = e2e.login_fleet("--timeout", "1", mode="no-callback")
    assert_failed(result, 6, "no approval arrived within 1 s", "--paste")
    assert e2e.stored() == {}


def test_login_fleet_with_a_wrong_client_secret(e2e: E2E) -> None:
    result = e2e.login_fleet(secret="ta-secret.wrong")
    assert_failed(result, 6, "client id or secret", "login fleet")
    assert e2e.stored() == {}
    assert "ta-secret.wrong" not in result.stdout + result.stderr


def test_login_fleet_without_a_client_id_or_secret(e2e: E2E) -> None:
    no_id = e2e.run("login", "fleet", "--client-secret-stdin", input="x\n")
    assert_failed(no_id, 3, "no Fleet client id", "--client-id")
    no_secret = e2e.run(
        "login", "fleet", "--client-id", e2e.credentials.client_id, "--no-browser", input=""
    )
    assert_failed(no_secret, 2, "no terminal", "--client-secret-stdin")


def test_login_fleet_on_the_wrong_region_switches_to_the_right_host(e2e: E2E) -> None:
    e2e.configure({"tesla.fleet_api_url": e2e.sandbox.fleet_eu_base_url})
    result = e2e.login_fleet()
    assert_fleet_logged_in(e2e, result)
    assert e2e.sandbox.fleet_eu_base_url not in e2e.config_text()
    statuses = {(r["path"], r["status"]) for r in e2e.sandbox.requests() if r["service"] == "fleet"}
    assert ("/fleet/eu/api/1/products", 421) in statuses
    assert ("/fleet/na/api/1/products", 200) in statuses


def test_login_fleet_when_the_app_is_not_registered(e2e: E2E) -> None:
    e2e.sandbox.unregister_partner("na")
    result = e2e.login_fleet()
    assert_failed(result, 6, "not registered", "`amber-tesla-sync register")


def test_login_fleet_when_billing_is_disabled(e2e: E2E) -> None:
    e2e.sandbox.set_switches(billing_disabled=True)
    result = e2e.login_fleet()
    assert_failed(result, 8, "payment required", "developer.tesla.com")


# -- logout --------------------------------------------------------------------------------


def test_logout_of_each_kind(e2e: E2E) -> None:
    assert e2e.run("logout", "fleet").stderr.strip() == "Nothing to remove."
    e2e.seed_amber()
    e2e.seed_teslemetry()
    e2e.seed_fleet()
    assert set(e2e.stored()) == {AMBER_TOKEN, TESLEMETRY_TOKEN, FLEET_TOKENS, FLEET_CLIENT_SECRET}

    result = e2e.run("logout", "amber")
    assert result.returncode == 0 and "Removed: amber_token." in result.stderr
    assert set(e2e.stored()) == {TESLEMETRY_TOKEN, FLEET_TOKENS, FLEET_CLIENT_SECRET}
    assert_failed(e2e.run("tariff"), 6, "not logged in to Amber", "login amber")

    assert e2e.run("logout", "fleet").returncode == 0
    assert set(e2e.stored()) == {TESLEMETRY_TOKEN, FLEET_CLIENT_SECRET}
    assert e2e.run("logout", "teslemetry").returncode == 0
    assert set(e2e.stored()) == {FLEET_CLIENT_SECRET}

    e2e.seed_amber()
    result = e2e.run("logout", "all")
    assert result.returncode == 0
    assert "amber_token" in result.stderr and "tesla_client_secret" in result.stderr
    assert e2e.stored() == {}
    wrong = e2e.run("logout", "vehicles")
    assert wrong.returncode == 2 and "amber, teslemetry, fleet or all" in wrong.stderr
