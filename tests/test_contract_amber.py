"""Contract: Amber's official Python SDK (``amberelectric``, generated from Amber's OpenAPI spec)
reads every answer of the sandbox: sites, current prices on 5- and 30-minute sites (``next``,
``previous``, ``resolution``), prices by date range, usage and renewables, and its error classes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import amberelectric
import pytest
from amberelectric.api import amber_api
from amberelectric.exceptions import (
    ApiException,
    BadRequestException,
    ForbiddenException,
    NotFoundException,
    UnauthorizedException,
)
from amberelectric.models import ActualRenewable, CurrentRenewable, ForecastRenewable

from amber_tesla_sync.sandbox import Sandbox

NOW = datetime(2025, 1, 15, 1, 7, 40, tzinfo=UTC)  # 12:07 in Sydney, a summer weekday


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=5, amber_rate_limit=None) as sb:
        sb.set_time(NOW)
        yield sb


def client(sandbox: Sandbox, token: str | None = "sandbox") -> amber_api.AmberApi:
    """An SDK client; ``token=None`` sends no Authorization header."""
    configuration = amberelectric.Configuration(
        host=sandbox.amber_base_url,
        access_token=sandbox.credentials.amber_token if token == "sandbox" else token,
    )
    return amber_api.AmberApi(amberelectric.ApiClient(configuration))


def instances(intervals: list[Any]) -> list[Any]:
    return [i.actual_instance for i in intervals]


def by_key(items: list[Any]) -> dict[tuple[str, datetime], Any]:
    return {(str(i.channel_type.value), i.start_time): i for i in items}


def test_sites(sandbox: Sandbox) -> None:
    sites = client(sandbox).get_sites()
    assert [s.id for s in sites] == sandbox.amber_site_ids
    assert [s.interval_length for s in sites] == [5, 30, 30]
    assert [s.status.value for s in sites] == ["active", "active", "closed"]
    assert {c.type.value for c in sites[1].channels} == {"general", "controlledLoad", "feedIn"}
    assert sites[2].closed_on is not None


def test_current_prices_on_a_five_minute_site(sandbox: Sandbox) -> None:
    api = client(sandbox)
    items = instances(api.get_current_prices(sandbox.amber_site_id, next=48, previous=6))
    general = [i for i in items if i.channel_type.value == "general"]
    kinds = [type(i).__name__ for i in general]
    assert kinds.count("ActualInterval") == 6 and kinds.count("CurrentInterval") == 1
    assert {i.duration for i in general[:8]} == {5}
    assert {i.duration for i in general if type(i).__name__ == "ForecastInterval"} == {5, 30}
    current = next(i for i in general if type(i).__name__ == "CurrentInterval")
    assert current.start_time <= NOW < current.end_time
    assert current.tariff_information is not None and current.tariff_information.period
    feed_in = [i for i in items if i.channel_type.value == "feedIn"]
    assert len(feed_in) == len(general) and all(i.tariff_information is None for i in feed_in)
    # resolution=30 is ignored on a 5-minute site, as on the live API
    again = instances(api.get_current_prices(sandbox.amber_site_id, next=2, resolution=30))
    assert {i.duration for i in again} == {5}


def test_current_prices_on_a_thirty_minute_site(sandbox: Sandbox) -> None:
    api = client(sandbox)
    items = instances(api.get_current_prices(sandbox.amber_site_id_30min, next=4, previous=2))
    assert len(items) == 3 * 7  # general, controlledLoad, feedIn × (2 + 1 + 4)
    assert {i.duration for i in items} == {30}
    controlled = [i for i in items if i.channel_type.value == "controlledLoad"]
    assert all(i.tariff_information.season == "default" for i in controlled)
    assert all(i.tariff_information.period is not None for i in controlled)
    general = [i for i in items if i.channel_type.value == "general"]
    assert all(i.tariff_information.demand_window is not None for i in general)
    five = instances(api.get_current_prices(sandbox.amber_site_id_30min, resolution=5))
    assert {i.duration for i in five} == {5}


def test_closed_site_carries_tariff_information(sandbox: Sandbox) -> None:
    items = instances(client(sandbox).get_current_prices(sandbox.amber_closed_site_id, next=2))
    assert items and all(i.tariff_information is not None for i in items)
    assert all(i.tariff_information.demand_window is False for i in items)


@pytest.mark.parametrize("site_index", [0, 1])
def test_prices_by_date_match_current_prices(sandbox: Sandbox, site_index: int) -> None:
    api = client(sandbox)
    site_id = sandbox.amber_site_ids[site_index]
    today = date(2025, 1, 15)
    ranged = instances(
        api.get_prices(site_id, start_date=today - timedelta(days=1), end_date=today)
    )
    current = instances(api.get_current_prices(site_id, next=48, previous=144))
    ranged_by_key, current_by_key = by_key(ranged), by_key(current)
    shared = set(ranged_by_key) & set(current_by_key)
    assert len(shared) > 100
    for key in shared:
        a, b = ranged_by_key[key], current_by_key[key]
        assert type(a) is type(b) and a.per_kwh == b.per_kwh and a.spot_per_kwh == b.spot_per_kwh
    # whole NEM days matched on date, in order general > (controlled load) > feed-in
    assert {i.var_date for i in ranged} == {today - timedelta(days=1), today}
    channels = [i.channel_type.value for i in ranged]
    assert channels == sorted(channels, key=["general", "controlledLoad", "feedIn"].index)
    past = instances(
        api.get_prices(site_id, start_date=date(2025, 1, 10), end_date=date(2025, 1, 10))
    )
    assert {type(i).__name__ for i in past} == {"ActualInterval"}
    per_day = 288 if site_index == 0 else 48
    assert len(past) == per_day * len({i.channel_type for i in past})


def test_usage_follows_the_simulated_site_and_prices(sandbox: Sandbox) -> None:
    api = client(sandbox)
    day = date(2025, 1, 13)
    usage = api.get_usage(sandbox.amber_site_id, start_date=day, end_date=day)
    prices = by_key(instances(api.get_prices(sandbox.amber_site_id, start_date=day, end_date=day)))
    assert len(usage) == 2 * 288
    for row in usage:
        priced = prices[(row.channel_type.value, row.start_time)]
        assert row.per_kwh == priced.per_kwh
        assert row.cost == pytest.approx(row.kwh * row.per_kwh, abs=1e-4)
        assert row.kwh >= 0 and row.quality == "billable"
    imported = sum(r.kwh for r in usage if r.channel_identifier == "E1")
    exported = sum(r.kwh for r in usage if r.channel_identifier == "B1")
    assert imported > 0 and exported > 0
    # the same energy, interval by interval, as the Powerwall's own history (Wh → kWh)
    history: dict[datetime, dict[str, Any]] = {}
    for local_day in ("2025-01-13", "2025-01-14"):
        body = sandbox.app.energy_site.history(
            "energy", {"period": "day", "end_date": f"{local_day}T23:59:59+11:00"}, sandbox.now()
        )
        for r in body["time_series"]:
            history[datetime.fromisoformat(r["timestamp"]).astimezone(UTC)] = r
    for row in usage:
        tesla = history[row.start_time.replace(second=0)]
        key = "grid_energy_imported" if row.channel_identifier == "E1" else None
        expected = tesla[key] if key else tesla.get("total_grid_energy_exported", 0)
        assert row.kwh == pytest.approx(expected / 1000, abs=1e-9), row.start_time


def test_usage_is_next_day_data(sandbox: Sandbox) -> None:
    api = client(sandbox)
    assert (
        api.get_usage(
            sandbox.amber_site_id, start_date=date(2025, 1, 15), end_date=date(2025, 1, 15)
        )
        == []
    )
    yesterday = api.get_usage(
        sandbox.amber_site_id, start_date=date(2025, 1, 14), end_date=date(2025, 1, 14)
    )
    assert yesterday and {r.quality for r in yesterday} == {"estimated"}
    assert (
        api.get_usage(
            sandbox.amber_closed_site_id, start_date=date(2025, 1, 13), end_date=date(2025, 1, 13)
        )
        == []
    )


def renewables(api: amber_api.AmberApi, state: str, **params: int) -> list[Any]:
    """The SDK's renewable models. Its ``Renewable`` oneOf cannot tell the three kinds apart (their
    schemas differ only in the ``type`` example, so every body "matches" all three, live or
    sandbox); the raw body is parsed with the model its ``type`` names."""
    response = api.get_current_renewables_with_http_info(state, _preload_content=False, **params)
    models = {
        "ActualRenewable": ActualRenewable,
        "CurrentRenewable": CurrentRenewable,
        "ForecastRenewable": ForecastRenewable,
    }
    return [models[item["type"]].from_dict(item) for item in json.loads(response.raw_data)]


def test_renewables(sandbox: Sandbox) -> None:
    api = client(sandbox, token=None)  # no API key needed
    items = renewables(api, "vic", next=4, previous=2)
    assert [i.type for i in items] == (
        ["ActualRenewable"] * 2 + ["CurrentRenewable"] + ["ForecastRenewable"] * 4
    )
    assert {i.duration for i in items} == {30}
    prices = by_key(
        instances(
            client(sandbox).get_current_prices(sandbox.amber_site_id_30min, next=4, previous=2)
        )
    )
    for item in items:
        assert prices[("general", item.start_time)].renewables == item.renewables
    assert renewables(api, "nsw", resolution=5)[0].duration == 5
    for state in ("sa", "qld"):
        assert renewables(api, state)[0].descriptor.value in {
            "best", "great", "ok", "notGreat", "worst"
        }  # fmt: skip


def test_error_classes(sandbox: Sandbox) -> None:
    with pytest.raises(UnauthorizedException):
        client(sandbox, token=None).get_sites()
    with pytest.raises(ForbiddenException):
        client(sandbox, token="psk_" + "0" * 32).get_sites()
    api = client(sandbox)
    with pytest.raises(NotFoundException):
        api.get_current_prices("01NOSUCHSITE0000000000000")
    with pytest.raises(NotFoundException):
        renewables(api, "wa")
    with pytest.raises(BadRequestException):
        api.get_current_prices(sandbox.amber_site_id, resolution=15)
    with pytest.raises(ApiException) as too_long:
        api.get_prices(
            sandbox.amber_site_id, start_date=date(2025, 1, 1), end_date=date(2025, 1, 14)
        )
    assert too_long.value.status == 422
    with pytest.raises(ApiException) as too_many:
        api.get_current_prices(sandbox.amber_site_id, next=2048, previous=1)
    assert too_many.value.status == 422
    sandbox.set_amber_rate_limit(1)
    api.get_sites()
    with pytest.raises(ApiException) as limited:
        api.get_sites()
    assert limited.value.status == 429
