"""Amber prices by date range, usage and renewables: consistent with ``/prices/current`` and with
the simulated site."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from amber_tesla_sync.sandbox import Sandbox

MOMENTS = [
    datetime(2025, 1, 15, 1, 0, 10, tzinfo=UTC),  # midday NEM, before the horizon extends
    datetime(2025, 1, 15, 3, 17, 40, tzinfo=UTC),  # 13:17 NEM, horizon reaches tomorrow's end
    datetime(2025, 6, 28, 13, 58, 0, tzinfo=UTC),  # just before NEM midnight
    datetime(2025, 4, 5, 16, 30, 5, tzinfo=UTC),  # the repeated hour in Sydney
]


def key(item: dict[str, Any]) -> tuple[str, str, int]:
    return item["channelType"], item["startTime"], item["duration"]


@pytest.mark.parametrize("moment", MOMENTS, ids=lambda m: m.strftime("%Y%m%dT%H%M%S"))
@pytest.mark.parametrize("site_index", [0, 1, 2])
def test_prices_by_date_equal_prices_current(
    amber: httpx.Client, sandbox: Sandbox, moment: datetime, site_index: int
) -> None:
    sandbox.set_time(moment)
    site = sandbox.amber_site_ids[site_index]
    nem_day = (moment + timedelta(hours=10)).date()
    ranged = amber.get(
        f"/sites/{site}/prices",
        params={
            "startDate": str(nem_day - timedelta(days=1)),
            "endDate": str(nem_day + timedelta(days=1)),
        },
    ).json()
    current = amber.get(
        f"/sites/{site}/prices/current", params={"next": 600, "previous": 600}
    ).json()
    current_by_key = {key(i): i for i in current}
    shared = [i for i in ranged if key(i) in current_by_key]
    assert len(shared) > 50
    for item in shared:
        assert item == current_by_key[key(item)]  # every field, not just the price
    # the range holds exactly the intervals of its dates that /prices/current knows of
    wanted = {str(nem_day + timedelta(days=k)) for k in (-1, 0, 1)}
    assert {i["date"] for i in ranged} <= wanted
    assert {key(i) for i in current if i["date"] in wanted} <= {key(i) for i in ranged}
    assert [i["type"] for i in ranged].count("CurrentInterval") == len(
        {i["channelType"] for i in ranged}
    )


def test_prices_by_date_of_past_and_future_days(amber: httpx.Client, sandbox: Sandbox) -> None:
    five, thirty = sandbox.amber_site_id, sandbox.amber_site_id_30min
    past = amber.get(
        f"/sites/{five}/prices", params={"startDate": "2025-01-10", "endDate": "2025-01-11"}
    )
    body = past.json()
    assert {i["type"] for i in body} == {"ActualInterval"}
    assert len(body) == 2 * 2 * 288  # two days, general and feed-in
    assert body[0]["nemTime"] == "2025-01-10T00:05:00+10:00"
    assert body[287]["nemTime"] == "2025-01-11T00:00:00+10:00"
    thirty_day = amber.get(
        f"/sites/{thirty}/prices", params={"startDate": "2025-01-10", "endDate": "2025-01-10"}
    ).json()
    assert len(thirty_day) == 3 * 48
    beyond = amber.get(
        f"/sites/{five}/prices", params={"startDate": "2025-01-20", "endDate": "2025-01-21"}
    )
    assert beyond.status_code == 200 and beyond.json() == []
    today = amber.get(f"/sites/{five}/prices", params={"next": 5}).json()  # next is ignored
    assert {i["date"] for i in today} == {"2025-01-15"}
    assert today[0]["nemTime"] == "2025-01-15T00:05:00+10:00"


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("prices", {"startDate": "15/01/2025"}, 400),
        ("prices", {"startDate": "20250115", "endDate": "20250115"}, 400),
        ("prices", {"startDate": "2025-01-15", "endDate": "2025-01-14"}, 400),
        ("prices", {"startDate": "2025-01-01", "endDate": "2025-01-09"}, 422),
        ("prices", {"resolution": "15"}, 400),
        ("usage", {}, 400),
        ("usage", {"startDate": "2025-01-10"}, 400),
        ("usage", {"startDate": "2025-01-01", "endDate": "2025-01-14"}, 422),
    ],
)
def test_range_errors(
    amber: httpx.Client, sandbox: Sandbox, path: str, params: dict[str, str], status: int
) -> None:
    response = amber.get(f"/sites/{sandbox.amber_site_id}/{path}", params=params)
    assert response.status_code == status
    assert response.json()["message"]
    assert amber.get("/sites/01NOSUCHSITE000000000000/usage").status_code == 404


def test_seven_days_is_the_longest_range(amber: httpx.Client, sandbox: Sandbox) -> None:
    params = {"startDate": "2025-01-06", "endDate": "2025-01-13"}
    assert amber.get(f"/sites/{sandbox.amber_site_id}/usage", params=params).status_code == 200


def usage(amber: httpx.Client, site: str, day: str) -> list[dict[str, Any]]:
    response = amber.get(f"/sites/{site}/usage", params={"startDate": day, "endDate": day})
    assert response.status_code == 200
    body: list[dict[str, Any]] = response.json()
    return body


def test_usage_rows_are_priced_like_prices(amber: httpx.Client, sandbox: Sandbox) -> None:
    for site in sandbox.amber_site_ids[:2]:
        rows = usage(amber, site, "2025-01-12")
        prices = {
            key(i): i
            for i in amber.get(
                f"/sites/{site}/prices", params={"startDate": "2025-01-12", "endDate": "2025-01-12"}
            ).json()
        }
        assert rows
        for row in rows:
            priced = prices[key(row)]
            for field in (
                "perKwh",
                "spotPerKwh",
                "renewables",
                "nemTime",
                "descriptor",
                "spikeStatus",
            ):
                assert row[field] == priced[field]
            assert row.get("tariffInformation") == priced.get("tariffInformation")
            assert row["cost"] == round(row["kwh"] * row["perKwh"], 4)
            assert row["kwh"] >= 0 and row["kwh"] == round(row["kwh"], 3)
        assert list(rows[0])[:6] == ["type", "duration", "date", "endTime", "quality", "kwh"]


def test_usage_follows_the_site_grid_flows(amber: httpx.Client, sandbox: Sandbox) -> None:
    """With exports forbidden from one day on, the Powerwall site's feed-in meter stops."""
    sandbox.set_time(datetime(2025, 1, 13, 13, 0, tzinfo=UTC))  # 2025-01-13 23:00 NEM
    before = usage(amber, sandbox.amber_site_id, "2025-01-12")
    assert sum(r["kwh"] for r in before if r["channelType"] == "feedIn") > 0
    sandbox.set_time(datetime(2025, 1, 13, 14, 0, tzinfo=UTC))  # NEM midnight
    sandbox.set_energy_site(customer_preferred_export_rule="never")
    sandbox.set_time(datetime(2025, 1, 15, 1, 0, tzinfo=UTC))
    rows = usage(amber, sandbox.amber_site_id, "2025-01-14")
    assert len(rows) == 2 * 288
    assert sum(r["kwh"] for r in rows if r["channelType"] == "feedIn") == 0
    assert sum(r["kwh"] for r in rows if r["channelType"] == "general") > 0


def test_controlled_load_is_the_overnight_hot_water(amber: httpx.Client, sandbox: Sandbox) -> None:
    rows = [
        r
        for r in usage(amber, sandbox.amber_site_id_30min, "2025-01-12")
        if r["channelType"] == "controlledLoad"
    ]
    assert len(rows) == 48 and {r["channelIdentifier"] for r in rows} == {"E2"}
    on = [r for r in rows if r["kwh"] > 0]
    assert len(on) == 6 and all(r["kwh"] == 1.2 for r in on)  # 2.4 kW for 3 hours
    assert all(r["tariffInformation"]["season"] == "default" for r in rows)


def test_usage_is_next_day_data_and_revised(amber: httpx.Client, sandbox: Sandbox) -> None:
    site = sandbox.amber_site_id
    sandbox.set_time(datetime(2025, 1, 14, 19, 59, tzinfo=UTC))  # 2025-01-15 05:59 NEM
    assert usage(amber, site, "2025-01-14") == []
    sandbox.set_time(datetime(2025, 1, 14, 20, 0, tzinfo=UTC))  # 06:00 NEM
    first = usage(amber, site, "2025-01-14")
    assert first and {r["quality"] for r in first} == {"estimated"}
    sandbox.set_time(datetime(2025, 1, 15, 20, 0, tzinfo=UTC))  # a day later
    final = usage(amber, site, "2025-01-14")
    assert {r["quality"] for r in final} == {"billable"}
    assert [r["kwh"] for r in final] == [r["kwh"] for r in first]
    assert usage(amber, site, str(date(2025, 1, 16) - timedelta(days=91))) == []
    assert usage(amber, sandbox.amber_closed_site_id, "2025-01-14") == []


def test_renewables_match_prices_and_need_no_key(sandbox: Sandbox, amber: httpx.Client) -> None:
    url = f"{sandbox.amber_base_url}/state/nsw/renewables/current"
    response = httpx.get(url, params={"next": 30, "previous": 5, "resolution": 5})
    assert response.status_code == 200
    assert "RateLimit-Limit" not in response.headers
    prices = {
        (i["startTime"], i["duration"]): i["renewables"]
        for i in amber.get(
            f"/sites/{sandbox.amber_site_id}/prices/current", params={"next": 30, "previous": 5}
        ).json()
    }
    body = response.json()
    assert len(body) == len(prices)  # one per interval (prices: general and feed-in alike)
    for item in body:
        assert prices[(item["startTime"], item["duration"])] == item["renewables"]
    default = httpx.get(url).json()
    assert len(default) == 1 and default[0]["duration"] == 30
    assert httpx.get(url.replace("/nsw/", "/wa/")).status_code == 404
    assert httpx.get(url, params={"resolution": 15}).status_code == 400
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 200
