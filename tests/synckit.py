"""Helpers for sync/status tests: a logged-in site at a frozen sandbox time, price injection."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest

from amber_tesla_sync.settings.config import SyncSettings
from amber_tesla_sync.store.secrets import FLEET_CLIENT_SECRET, FLEET_TOKENS
from conftest import CliResult, CliRunner
from sandboxkit import SandboxSite, fleet_tokens

T0 = dt.datetime(2026, 1, 15, 5, 42, 10, tzinfo=dt.UTC)  # 16:42 in Sydney (AEDT)
# minutes after a read of the Powerwall by which the next check is due (the default interval)
CHECK_DUE = SyncSettings().check_remote_every_minutes + 1


@dataclass
class Synced:
    site: SandboxSite
    cli: CliRunner
    monkeypatch: pytest.MonkeyPatch
    now: dt.datetime = T0

    @property
    def sandbox(self) -> Any:
        return self.site.sandbox

    def at(self, moment: dt.datetime) -> None:
        self.now = moment
        self.sandbox.set_time(moment)

    def advance(self, minutes: float) -> None:
        self.at(self.now + dt.timedelta(minutes=minutes))

    def run(self, *args: str, stdin: str = "") -> CliResult:
        self.monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return self.cli(*args)

    def login(self, service: Literal["amber", "teslemetry"]) -> CliResult:
        """`login amber|teslemetry` with the sandbox's token (see SandboxSite.token_login)."""
        args, token = self.site.token_login(service)
        return self.run(*args, stdin=token)

    def sync(self, *args: str) -> CliResult:
        return self.run("sync", "--now", self.now.isoformat(), *args)

    def sync_json(self, *args: str) -> dict[str, Any]:
        result = self.sync("--json", *args)
        summary: dict[str, Any] = json.loads(result.stdout)
        summary["_code"] = result.code
        summary["_stderr"] = result.stderr
        return summary

    def tesla_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.sandbox.requests() if r.get("service") in ("fleet", "teslemetry")]

    def amber_prices(self) -> list[dict[str, Any]]:
        """What the sandbox's Amber serves now for the site (as sync asks for it)."""
        c = self.sandbox.credentials
        response = httpx.get(
            f"{self.sandbox.amber_base_url}/sites/{self.sandbox.amber_site_id}/prices/current",
            params={"next": 300, "previous": 288},
            headers={"Authorization": f"Bearer {c.amber_token}"},
        )
        response.raise_for_status()
        body: list[dict[str, Any]] = response.json()
        return body

    def serve_prices(self, body: list[dict[str, Any]], count: int = 1) -> None:
        """The next ``count`` price requests get ``body``."""
        self.sandbox.add_fault(
            f"/amber/v1/sites/{self.sandbox.amber_site_id}/prices/current",
            "status",
            status=200,
            body=body,
            count=count,
        )

    def stored_rates(self) -> dict[str, float]:
        tariff = self.sandbox.stored_tariff()
        rates: dict[str, float] = tariff["energy_charges"]["Summer"]["rates"]
        return rates


def shifted(
    body: list[dict[str, Any]], channel: str, start: dt.datetime, cents: float
) -> list[dict[str, Any]]:
    """``body`` with ``cents`` added to every price of ``channel`` in the half-hour from ``start``."""
    changed = copy.deepcopy(body)
    end = start + dt.timedelta(minutes=30)
    for item in changed:
        item_end = dt.datetime.fromisoformat(item["endTime"])
        item_start = item_end - dt.timedelta(minutes=item["duration"])
        if item["channelType"] == channel and start <= item_start < end:
            item["perKwh"] += cents
            if item.get("advancedPrice"):
                for key in ("low", "predicted", "high"):
                    item["advancedPrice"][key] += cents
    return changed


def flat(
    body: list[dict[str, Any]], buy: float = 20.0, feed_in: float = -5.0
) -> list[dict[str, Any]]:
    """``body`` with one price per channel everywhere (the same tariff at any time of day)."""
    changed = copy.deepcopy(body)
    for item in changed:
        price = {"general": buy, "feedIn": feed_in}.get(item["channelType"], buy)
        item["perKwh"] = price
        if item.get("advancedPrice"):
            item["advancedPrice"] = {"low": price, "predicted": price, "high": price}
    return changed


def fleet_login(site: SandboxSite) -> None:
    """Log in to the sandbox's Fleet API without a browser (authorize → code → tokens)."""
    sandbox = site.sandbox
    c = sandbox.credentials
    tokens = fleet_tokens(sandbox)
    secrets = json.loads(site.secrets_file.read_text()) if site.secrets_file.exists() else {}
    secrets[FLEET_TOKENS] = tokens.to_json()
    secrets[FLEET_CLIENT_SECRET] = c.client_secret
    site.secrets_file.write_text(json.dumps(secrets))
    site.secrets_file.chmod(0o600)
    text = site.config.read_text().replace(
        "[tesla]\n", f'[tesla]\nclient_id = "{c.client_id}"\n', 1
    )
    site.config.write_text(text)


@pytest.fixture
def synced(site: SandboxSite, cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> Synced:
    """Logged in to Amber and Teslemetry, sandbox clock frozen at T0."""
    harness = Synced(site, cli, monkeypatch)
    harness.at(T0)
    site.sandbox.set_amber_rate_limit(None)
    site.sandbox.set_teslemetry_rate_limit(None)
    amber = harness.login("amber")
    assert amber.code == 0, amber.stderr
    tesla = harness.login("teslemetry")
    assert tesla.code == 0, tesla.stderr
    site.sandbox.clear_requests()
    return harness


@pytest.fixture
def pushed(synced: Synced) -> Synced:
    """A first good tariff is on the Powerwall; the request log starts empty."""
    assert synced.sync().code == 0
    assert len(synced.sandbox.tariff_posts()) == 1
    synced.sandbox.clear_requests()
    synced.advance(5)
    return synced
