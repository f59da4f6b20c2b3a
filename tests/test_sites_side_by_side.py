"""Several sites in one sync, side by side, against a sandbox with three Powerwalls and five Amber
sites: each site's own outcome, the output in the configured order whichever site answered first,
one site's failure kept to itself, and two targets on one Powerwall never run at the same time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from amber_tesla_sync.sandbox import Sandbox
from sandboxkit import SandboxSite, free_port, sandbox_site
from synckit import Synced

PRICES = "/amber/v1/sites/{}/prices/current"


@pytest.fixture
def site(tmp_path: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxSite]:
    """The usual sandbox site, with two more Powerwalls and two more Amber sites."""
    with Sandbox(
        seed=11,
        callback_port=free_port(),
        partner_registered=True,
        powerwalls=3,
        extra_amber_sites=2,
    ) as sandbox:
        yield sandbox_site(sandbox, tmp_path, monkeypatch)


def configure(synced: Synced, links: list[tuple[str, str, int]]) -> None:
    """``[[sites]]``: (name, Amber site, Powerwall), in this order."""
    text = synced.site.config.read_text()
    for name, amber, powerwall in links:
        text += (
            f'\n[[sites]]\nname = "{name}"\namber_site_id = "{amber}"\n'
            f'energy_site_id = {powerwall}\ntimezone = "Australia/Sydney"\n'
        )
    synced.site.config.write_text(text)


def current_buy(synced: Synced, amber_site: str) -> float:
    """The general price (c/kWh) Amber serves now for ``amber_site``."""
    c = synced.sandbox.credentials
    response = httpx.get(
        synced.sandbox.amber_base_url + f"/sites/{amber_site}/prices/current",
        headers={"Authorization": f"Bearer {c.amber_token}"},
    )
    response.raise_for_status()
    for item in response.json():
        if item["type"] == "CurrentInterval" and item["channelType"] == "general":
            return float(item["perKwh"])
    raise AssertionError("no current general price")


def posts(synced: Synced, powerwall: int) -> list[dict[str, Any]]:
    with synced.sandbox.app.lock:
        return list(synced.sandbox.powerwall(powerwall).tou_posts)


def pushed_rates(synced: Synced, powerwall: int) -> dict[str, float]:
    """The buy rates of the tariff stored on ``powerwall`` (as ``stored_rates`` reads the first)."""
    with synced.sandbox.app.lock:
        tariff = synced.sandbox.powerwall(powerwall).current_tariff(synced.sandbox.now())
    rates: dict[str, float] = tariff["energy_charges"]["Summer"]["rates"]
    return rates


def test_each_site_gets_its_own_prices_in_the_configured_order(synced: Synced) -> None:
    box = synced.sandbox
    amber = box.amber_site_ids  # 5-min, 30-min, closed, extra 1, extra 2
    first, second, third = box.energy_site_ids
    configure(
        synced, [("slow", amber[3], second), ("five", amber[0], first), ("thirty", amber[1], third)]
    )
    box.add_fault(PRICES.format(amber[3]), "delay", delay_seconds=0.8)  # answers last
    summary = synced.sync_json()
    assert summary["_code"] == 0, summary["_stderr"]
    assert [s["site"] for s in summary["sites"]] == ["slow", "five", "thirty"]
    assert {s["site"]: s["outcome"] for s in summary["sites"]} == dict.fromkeys(
        ["slow", "five", "thirty"], "verified"
    )
    for powerwall in (first, second, third):
        assert len(posts(synced, powerwall)) == 1
    # each Powerwall has its own site's tariff: the extra site's flat network rate, nowhere else
    assert pushed_rates(synced, second) != pushed_rates(synced, first)
    assert pushed_rates(synced, second) != pushed_rates(synced, third)
    assert pushed_rates(synced, first) != pushed_rates(synced, third)
    # the slot now carries the price Amber serves now for the site linked to it
    now_slot = {s["site"]: s["rates"]["16:30"]["buy"] for s in summary["sites"]}
    assert now_slot["slow"] == pytest.approx(current_buy(synced, amber[3]), abs=0.01)
    assert now_slot["thirty"] == pytest.approx(current_buy(synced, amber[1]), abs=0.01)
    assert current_buy(synced, amber[3]) != pytest.approx(current_buy(synced, amber[1]), abs=0.5)

    synced.advance(5)
    box.add_fault(PRICES.format(amber[3]), "delay", delay_seconds=0.8)
    text = synced.sync()
    assert text.code == 0, text.stderr
    where = [text.stdout.find(name) for name in ("slow", "five", "thirty")]
    assert -1 not in where and where == sorted(where), text.stdout


def test_one_site_failing_does_not_disturb_the_others(synced: Synced) -> None:
    box = synced.sandbox
    amber = box.amber_site_ids
    first, second, third = box.energy_site_ids
    configure(synced, [("a", amber[0], first), ("b", amber[3], second), ("c", amber[4], third)])
    box.add_fault(PRICES.format(amber[3]), "status", status=503, count=10)
    box.add_fault(PRICES.format(amber[0]), "delay", delay_seconds=0.5)
    summary = synced.sync_json()
    outcomes = {s["site"]: s["outcome"] for s in summary["sites"]}
    assert outcomes == {"a": "verified", "b": "failed", "c": "verified"}
    assert [s["site"] for s in summary["sites"]] == ["a", "b", "c"]
    assert summary["_code"] != 0
    assert len(posts(synced, first)) == 1 and len(posts(synced, third)) == 1
    assert posts(synced, second) == []
    assert pushed_rates(synced, first) != pushed_rates(synced, third)


def test_two_targets_on_one_powerwall_run_one_after_the_other(synced: Synced) -> None:
    box = synced.sandbox
    amber = box.amber_site_ids
    first, second, _ = box.energy_site_ids
    configure(
        synced,
        [("one", amber[0], first), ("other", amber[4], second), ("again", amber[3], first)],
    )
    for powerwall in (first, second):  # every Tesla request held back: overlaps would show
        path = f"/teslemetry/api/1/energy_sites/{powerwall}/"
        box.add_fault(path, "delay", delay_seconds=0.2, count=50)
    summary = synced.sync_json()
    assert summary["_code"] == 0, summary["_stderr"]
    assert [s["site"] for s in summary["sites"]] == ["one", "other", "again"]
    assert len(posts(synced, first)) == 2 and len(posts(synced, second)) == 1
    assert box.most_at_once(first) == 1  # "one" and "again" never at the same time
    assert box.most_at_once(second) == 1
