"""Rule 11 through the offline preview: `tariff --prices FILE --timezone TZ --now T` refuses (exit
5) or rejects (exit 4) thin, implausible, conflicting or stale answers, with a message that says
why; a good answer still folds, and estimates never replay a spike."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from conftest import CliResult, CliRunner
from payloads import site_payload, utc

NOW = utc("2025-07-17T12:05:00+10:00")
ZONE = "Australia/Brisbane"


def preview(
    cli: CliRunner, tmp_path: Path, payload: Any, *extra: str, raw: str = "", config: str = ""
) -> CliResult:
    path = tmp_path / "prices.json"
    path.write_text(raw or json.dumps(payload))
    settings: list[str] = []
    if config:
        (tmp_path / "config.toml").write_text(config)
        settings = ["--config", str(tmp_path / "config.toml")]
    return cli(
        *settings, "tariff", "--json", "--prices", str(path), "--timezone", ZONE,
        "--now", NOW.isoformat(), *extra,
    )  # fmt: skip


def refused(result: CliResult, *needles: str) -> None:
    assert result.code == 5, result.stderr
    assert result.stdout == ""  # no body: nothing that could be pushed
    assert "refused to build a tariff" in result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def bad_data(result: CliResult, *needles: str) -> None:
    assert result.code == 4, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert "what to do:" in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def rates(result: CliResult) -> dict[str, tuple[float, float]]:
    assert result.code == 0, result.stderr
    tariff = json.loads(result.stdout)["tesla_request"]["tou_settings"]["tariff_content_v2"]
    buy = tariff["energy_charges"]["Summer"]["rates"]
    sell = tariff["sell_tariff"]["energy_charges"]["Summer"]["rates"]
    return {label: (buy[label], sell[label]) for label in buy}


def current_only(payload: list[dict[str, Any]], extra_minutes: int = 0) -> list[dict[str, Any]]:
    """The current interval of each channel, and the forecasts of the next ``extra_minutes``."""
    last = NOW + dt.timedelta(minutes=extra_minutes)

    def kept(item: dict[str, Any]) -> bool:
        if item["type"] == "CurrentInterval":
            return True
        soon = utc(item["endTime"]) <= last + dt.timedelta(minutes=30)
        return item["type"] == "ForecastInterval" and soon and extra_minutes > 0

    return [item for item in payload if kept(item)]


def test_a_good_answer_still_folds(cli: CliRunner, tmp_path: Path) -> None:
    assert set(rates(preview(cli, tmp_path, site_payload(NOW)))) != set()


@pytest.mark.parametrize("extra_minutes", [0, 30])
def test_only_the_current_interval_is_refused(
    cli: CliRunner, tmp_path: Path, extra_minutes: int
) -> None:
    payload = current_only(site_payload(NOW, buy=-2.0, sell=-1.0), extra_minutes)
    assert {i["channelType"] for i in payload} == {"general", "feedIn"}
    needles = ("general (buy) prices reach only", "feed-in (sell) prices reach only")
    refused(preview(cli, tmp_path, payload), *needles, "12 h are needed (tariff.min_horizon_hours)")


def test_the_minimum_horizon_is_a_setting(cli: CliRunner, tmp_path: Path) -> None:
    payload = site_payload(NOW, hours_ahead=8)
    refused(preview(cli, tmp_path, payload), "reach only 7.9 h ahead")
    assert rates(preview(cli, tmp_path, payload, "--min-horizon-hours", "6"))
    assert rates(preview(cli, tmp_path, payload, config="[tariff]\nmin_horizon_hours = 6\n"))


def test_a_missing_feed_in_channel_is_refused_when_the_site_has_one(
    cli: CliRunner, tmp_path: Path
) -> None:
    payload = site_payload(NOW, sell=None)
    # unknown site: an import-only site, sell = 0
    assert {sell for _, sell in rates(preview(cli, tmp_path, payload)).values()} == {0.0}
    result = preview(cli, tmp_path, payload, config="[tariff]\nexpect_feed_in = true\n")
    refused(result, "no feed-in (sell) prices, though the site has that channel")


def test_forecast_bands_of_zeros_are_not_free_energy(cli: CliRunner, tmp_path: Path) -> None:
    payload = site_payload(NOW, buy=31.0, sell=-9.0)
    for item in payload:
        if "advancedPrice" in item:
            item["advancedPrice"] = {"low": 0.0, "predicted": 0.0, "high": 0.0}
    found = rates(preview(cli, tmp_path, payload))
    assert set(found.values()) == {(0.31, 0.09)}


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("1e6", "perKwh 1e+06 c/kWh is outside the plausible range for a general price"),
        ("1e308", "outside the plausible range"),
        ("-1e308", "outside the plausible range"),
        ("NaN", "finite number"),
        ("Infinity", "finite number"),
        ("-Infinity", "finite number"),
        ('"30.5"', "valid number"),
        ("true", "valid number"),
        ("null", "valid number"),
    ],
)
def test_implausible_or_mistyped_prices_are_rejected_naming_the_interval(
    cli: CliRunner, tmp_path: Path, value: str, needle: str
) -> None:
    payload = site_payload(NOW)
    index = next(i for i, item in enumerate(payload) if item["type"] == "ForecastInterval")
    payload[index]["perKwh"] = "__VALUE__"
    raw = json.dumps(payload).replace('"__VALUE__"', value)
    result = preview(cli, tmp_path, None, raw=raw)
    bad_data(result, "has malformed intervals:", needle, f"item {index} (general ForecastInterval")


def test_conflicting_duplicates_are_refused_and_exact_ones_are_fine(
    cli: CliRunner, tmp_path: Path
) -> None:
    payload = site_payload(NOW)
    forecast = next(item for item in payload if item["type"] == "ForecastInterval")
    same = rates(preview(cli, tmp_path, [*payload, copy.deepcopy(forecast)]))
    assert same == rates(preview(cli, tmp_path, payload))
    twin = {**copy.deepcopy(forecast), "perKwh": 99.0, "advancedPrice": None}
    refused(preview(cli, tmp_path, [*payload, twin]), "conflicting prices for the same interval")


def test_actuals_in_the_future_are_refused(cli: CliRunner, tmp_path: Path) -> None:
    payload = site_payload(NOW)
    for item in payload:
        if item["type"] == "ForecastInterval" and utc(item["endTime"]) < NOW + dt.timedelta(
            hours=2
        ):
            item["type"] = "ActualInterval"
    refused(preview(cli, tmp_path, payload), "end in the future", "the data or the system clock")


@pytest.mark.parametrize("hours", [-3, 3])
def test_a_current_interval_that_does_not_contain_now_is_refused(
    cli: CliRunner, tmp_path: Path, hours: int
) -> None:
    # the same answer, folded at a `now` hours away from it (a stale cache, or a wrong clock)
    payload = site_payload(NOW + dt.timedelta(hours=hours), hours_back=4, hours_ahead=30)
    needles = ("current interval", "does not contain now", "stale or the system clock is wrong")
    refused(preview(cli, tmp_path, payload), *needles)


def test_no_spike_is_carried_into_estimates(cli: CliRunner, tmp_path: Path) -> None:
    # today's 08:00 had a potential spike (an actual now) and the last forecast slot is a spike;
    # tomorrow 02:30-11:30 is beyond the horizon
    payload = site_payload(NOW, hours_back=6, hours_ahead=14, buy=20.0, sell=-5.0)
    general = sorted(
        (i for i in payload if i["channelType"] == "general"), key=lambda i: i["endTime"]
    )
    today_8 = utc("2025-07-17T08:30:00+10:00")
    spiked_before = [i for i in general if utc(i["endTime"]) == today_8]
    assert len(spiked_before) == 1
    spiked_before[0].update(perKwh=1500.0, spikeStatus="potential")
    general[-1].update(perKwh=1500.0, spikeStatus="spike", advancedPrice=None)
    last_label = (utc(general[-1]["endTime"]) - dt.timedelta(minutes=30)).astimezone(ZoneInfo(ZONE))
    found = rates(preview(cli, tmp_path, payload))
    assert found["PERIOD_08_00"] == (0.2, 0.05)  # tomorrow's 08:00, not today's 15 $/kWh
    spiked = [label for label, (buy, _) in found.items() if buy > 1]
    assert spiked == [f"PERIOD_{last_label:%H_%M}"]  # the spike itself, and only there
