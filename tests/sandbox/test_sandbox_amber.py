"""The sandbox's Amber API over real loopback HTTP."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from amber_tesla_sync.sandbox import Sandbox

NEM = timezone(timedelta(hours=10))


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _prices(client: httpx.Client, site: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"/sites/{site}/prices/current", params=params)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def _channel(body: list[dict[str, Any]], channel: str = "general") -> list[dict[str, Any]]:
    return [i for i in body if i["channelType"] == channel]


def test_sites_lists_active_and_closed_sites(amber: httpx.Client, sandbox: Sandbox) -> None:
    response = amber.get("/sites")
    assert response.status_code == 200
    sites = {s["id"]: s for s in response.json()}
    assert list(sites) == sandbox.amber_site_ids
    five, thirty, closed = (sites[i] for i in sandbox.amber_site_ids)
    assert (five["status"], five["intervalLength"]) == ("active", 5)
    assert [c["type"] for c in five["channels"]] == ["general", "feedIn"]
    assert (thirty["status"], thirty["intervalLength"]) == ("active", 30)
    assert {c["type"] for c in thirty["channels"]} == {"general", "controlledLoad", "feedIn"}
    assert closed["status"] == "closed" and "closedOn" in closed
    assert all(len(s["id"]) == 26 and 10 <= len(s["nmi"]) <= 11 for s in sites.values())
    assert response.headers["RateLimit-Policy"] == "50;w=300"


def test_missing_token_is_401_and_wrong_token_403(sandbox: Sandbox, http: httpx.Client) -> None:
    url = f"{sandbox.amber_base_url}/sites"
    missing = http.get(url)
    assert missing.status_code == 401
    assert missing.content == b'{"message":"Unauthorized"}'
    wrong = http.get(url, headers={"Authorization": "Bearer psk_" + "0" * 32})
    assert wrong.status_code == 403
    assert wrong.json() == {"message": "Forbidden"}
    assert wrong.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    malformed = http.get(url, headers={"Authorization": sandbox.credentials.amber_token})
    assert malformed.status_code == 403
    assert "RateLimit-Limit" not in missing.headers and "RateLimit-Limit" not in wrong.headers


def test_unrouted_path_is_403_and_unknown_site_404(amber: httpx.Client) -> None:
    assert amber.get("/stes").status_code == 403
    assert amber.get("/stes").json() == {"message": "Forbidden"}
    assert amber.post("/sites").status_code == 403
    unknown = amber.get("/sites/01ZZZZZZZZZZZZZZZZZZZZZZZZ/prices/current")
    assert unknown.status_code == 404
    assert set(unknown.json()) == {"message"}


def test_bad_parameters_are_400_and_too_many_intervals_422(
    amber: httpx.Client, sandbox: Sandbox
) -> None:
    url = f"/sites/{sandbox.amber_site_id}/prices/current"
    for params in ({"next": "abc"}, {"previous": "1.5"}, {"resolution": "15"}, {"next": "-1"}):
        response = amber.get(url, params=params)
        assert response.status_code == 400, params
        assert isinstance(response.json()["message"], str)
    too_many = amber.get(url, params={"next": 2000, "previous": 49})
    assert too_many.status_code == 422
    assert set(too_many.json()) == {"message"}
    assert amber.get(url, params={"next": 2000, "previous": 48}).status_code == 200


def test_rate_limit_50_per_300_seconds_on_the_sandbox_clock(
    amber: httpx.Client, sandbox: Sandbox, http: httpx.Client
) -> None:
    assert http.get(f"{sandbox.amber_base_url}/sites").status_code == 401  # not counted
    remaining = []
    for _ in range(50):
        response = amber.get("/sites")
        assert response.status_code == 200
        assert response.headers["RateLimit-Limit"] == "50"
        assert 0 < int(response.headers["RateLimit-Reset"]) <= 300
        remaining.append(int(response.headers["RateLimit-Remaining"]))
    assert remaining == list(range(49, -1, -1))
    limited = amber.get("/sites")
    assert limited.status_code == 429
    assert limited.content == b'{"message":"Too Many Requests"}'
    assert limited.headers["x-amzn-ErrorType"] == "TooManyRequestsException"
    assert not [h for h in limited.headers if h.lower().startswith("ratelimit")]
    sandbox.advance(299)
    assert amber.get("/sites").status_code == 429
    sandbox.advance(2)
    again = amber.get("/sites")
    assert again.status_code == 200
    assert again.headers["RateLimit-Remaining"] == "49"


def test_rate_limit_can_be_lifted(amber: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_amber_rate_limit(None)
    statuses = {amber.get("/sites").status_code for _ in range(80)}
    assert statuses == {200}
    sandbox.set_amber_rate_limit(3)
    assert [amber.get("/sites").status_code for _ in range(4)] == [200, 200, 200, 429]


def _check_timing(body: list[dict[str, Any]]) -> None:
    for item in body:
        end = _parse(item["endTime"])
        start = end - timedelta(minutes=item["duration"])
        assert item["startTime"] == (start + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert item["endTime"].endswith("Z") and item["nemTime"].endswith("+10:00")
        assert _parse(item["nemTime"]) == end
        assert item["date"] == start.astimezone(NEM).date().isoformat()
        assert end.astimezone(NEM).minute % item["duration"] == 0


@pytest.mark.parametrize("site_attr", ["amber_site_id", "amber_site_id_30min"])
def test_interval_shape_order_and_timing(
    amber: httpx.Client, sandbox: Sandbox, site_attr: str
) -> None:
    site = getattr(sandbox, site_attr)
    body = _prices(amber, site, next=48, previous=6)
    channels = [i["channelType"] for i in body]
    order = ["general", "controlledLoad", "feedIn"]
    assert channels == sorted(channels, key=order.index)
    _check_timing(body)
    for channel in set(channels):
        items = _channel(body, channel)
        types = [i["type"] for i in items]
        assert types == ["ActualInterval"] * 6 + ["CurrentInterval"] + ["ForecastInterval"] * (
            len(types) - 7
        )
        ends = [_parse(i["endTime"]) for i in items]
        assert ends == sorted(ends)
        for a, b in itertools.pairwise(items):
            assert _parse(b["endTime"]) - timedelta(minutes=b["duration"]) == _parse(a["endTime"])
        for item in items:
            if item["type"] == "ActualInterval":
                assert not {"estimate", "advancedPrice", "range"} & set(item)
            if item["type"] == "ForecastInterval":
                assert "estimate" not in item and "advancedPrice" in item
        current = items[6]
        assert current["estimate"] is ("advancedPrice" in current)


def test_thirty_minute_site_returns_thirty_minute_intervals(
    amber: httpx.Client, sandbox: Sandbox
) -> None:
    body = _prices(amber, sandbox.amber_site_id_30min, next=10, previous=3)
    assert {i["duration"] for i in body} == {30}
    assert len(_channel(body)) == 3 + 1 + 10
    assert {i["tariffInformation"]["demandWindow"] for i in _channel(body)} <= {True, False}
    assert all("tariffInformation" not in i for i in _channel(body, "feedIn"))


def test_five_minute_site_switches_to_thirty_minute_forecasts(
    amber: httpx.Client, sandbox: Sandbox
) -> None:
    sandbox.set_time(datetime(2025, 6, 28, 6, 21, 40, tzinfo=UTC))  # 16:21:40 NEM
    general = _channel(_prices(amber, sandbox.amber_site_id, next=300, previous=12))
    current = next(i for i in general if i["type"] == "CurrentInterval")
    assert current["duration"] == 5 and current["nemTime"] == "2025-06-28T16:25:00+10:00"
    assert [i["duration"] for i in general if i["type"] == "ActualInterval"] == [5] * 12
    forecasts = [i for i in general if i["type"] == "ForecastInterval"]
    five = [i for i in forecasts if i["duration"] == 5]
    thirty = [i for i in forecasts if i["duration"] == 30]
    assert forecasts == five + thirty
    assert [i["nemTime"][11:16] for i in five] == [
        "16:30", "16:35", "16:40", "16:45", "16:50", "16:55", "17:00",
    ]  # fmt: skip
    assert thirty[0]["nemTime"] == "2025-06-28T17:30:00+10:00"
    # next counts 5-minute intervals: 300 x 5 min = 25 h after the current interval, fewer items.
    last_end = _parse(general[-1]["endTime"])
    assert last_end <= _parse(current["endTime"]) + timedelta(hours=25)
    assert len(forecasts) < 300
    assert _parse(current["endTime"]) + timedelta(hours=24) < last_end


def test_next_counts_five_minute_intervals_on_short_windows(
    amber: httpx.Client, sandbox: Sandbox
) -> None:
    sandbox.set_time(datetime(2025, 6, 28, 6, 21, 40, tzinfo=UTC))
    general = _channel(_prices(amber, sandbox.amber_site_id, next=12))
    forecasts = [i for i in general if i["type"] == "ForecastInterval"]
    # 12 x 5 min ends 17:25: seven 5-minute forecasts to 17:00, no whole 30-minute one fits.
    assert [i["duration"] for i in forecasts] == [5] * 7
    general = _channel(_prices(amber, sandbox.amber_site_id, next=18))
    assert [i["duration"] for i in general if i["type"] == "ForecastInterval"] == [5] * 7 + [30]


@pytest.mark.parametrize(
    ("now", "horizon"),
    [
        (datetime(2025, 1, 15, 12, 29, tzinfo=NEM), datetime(2025, 1, 16, 4, 0, tzinfo=NEM)),
        (datetime(2025, 1, 15, 12, 31, tzinfo=NEM), datetime(2025, 1, 17, 4, 0, tzinfo=NEM)),
        (datetime(2025, 1, 15, 4, 1, tzinfo=NEM), datetime(2025, 1, 16, 4, 0, tzinfo=NEM)),
        (datetime(2025, 1, 15, 2, 0, tzinfo=NEM), datetime(2025, 1, 16, 4, 0, tzinfo=NEM)),
        (datetime(2025, 1, 15, 23, 50, tzinfo=NEM), datetime(2025, 1, 17, 4, 0, tzinfo=NEM)),
    ],
)
def test_forecast_horizon_follows_predispatch(
    amber: httpx.Client, sandbox: Sandbox, now: datetime, horizon: datetime
) -> None:
    sandbox.set_time(now)
    for site in (sandbox.amber_site_id, sandbox.amber_site_id_30min):
        general = _channel(_prices(amber, site, next=2000))
        assert _parse(general[-1]["endTime"]) == horizon, site


def test_forecasts_never_go_beyond_next(amber: httpx.Client, sandbox: Sandbox) -> None:
    general = _channel(_prices(amber, sandbox.amber_site_id_30min, next=4))
    assert [i["type"] for i in general].count("ForecastInterval") == 4
    assert len(_channel(_prices(amber, sandbox.amber_site_id_30min))) == 1


def test_thirty_minute_values_are_the_mean_of_six_five_minute_values(
    amber: httpx.Client, sandbox: Sandbox
) -> None:
    sandbox.set_switches(honour_resolution_30=True)
    sandbox.set_time(datetime(2025, 1, 15, 9, 0, 30, tzinfo=UTC))
    five = _channel(_prices(amber, sandbox.amber_site_id, previous=12))
    thirty = _channel(_prices(amber, sandbox.amber_site_id, previous=2, resolution=30))
    actual5 = [i for i in five if i["type"] == "ActualInterval"]
    actual30 = [i for i in thirty if i["type"] == "ActualInterval"]
    assert [i["duration"] for i in actual30] == [30, 30]
    for k, half in enumerate(actual30):
        subs = actual5[6 * k : 6 * k + 6]
        assert subs[-1]["endTime"] == half["endTime"]
        mean = sum(s["spotPerKwh"] for s in subs) / 6
        assert half["spotPerKwh"] == pytest.approx(mean, abs=1e-4)


def test_resolution_30_is_ignored_on_five_minute_sites_by_default(
    amber: httpx.Client, sandbox: Sandbox
) -> None:
    body = _channel(_prices(amber, sandbox.amber_site_id, previous=3, resolution=30))
    assert body[0]["duration"] == 5
    thirty_site = _channel(_prices(amber, sandbox.amber_site_id_30min, next=3, resolution=5))
    assert thirty_site[0]["duration"] == 5


def test_current_interval_estimates(amber: httpx.Client, sandbox: Sandbox) -> None:
    start = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
    expectations = [(10, True), (25 * 60 - 1, True), (25 * 60, False), (29 * 60, False)]
    for offset, estimate in expectations:
        sandbox.set_time(start + timedelta(seconds=offset))
        current = _channel(_prices(amber, sandbox.amber_site_id_30min))[0]
        assert current["type"] == "CurrentInterval"
        assert current["estimate"] is estimate, offset
        assert ("advancedPrice" in current) is estimate
    for offset, estimate in [(5, True), (24, True), (25, False), (200, False)]:
        sandbox.set_time(start + timedelta(seconds=offset))
        current = _channel(_prices(amber, sandbox.amber_site_id))[0]
        assert current["estimate"] is estimate, offset


def test_final_current_price_equals_the_later_actual(amber: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_time(datetime(2025, 1, 15, 9, 27, tzinfo=UTC))
    current = _channel(_prices(amber, sandbox.amber_site_id_30min))[0]
    sandbox.advance(timedelta(hours=2))
    actuals = _channel(_prices(amber, sandbox.amber_site_id_30min, previous=8))
    later = next(i for i in actuals if i["endTime"] == current["endTime"])
    assert later["type"] == "ActualInterval"
    assert later["perKwh"] == current["perKwh"]


def test_feed_in_signs_and_reversed_band(amber: httpx.Client, sandbox: Sandbox) -> None:
    body = _prices(amber, sandbox.amber_site_id, next=288, previous=12)
    feed_in = _channel(body, "feedIn")
    general = _channel(body, "general")
    assert len(feed_in) == len(general)
    for item in feed_in:
        if abs(item["spotPerKwh"]) > 0.5:
            ratio = -item["perKwh"] / item["spotPerKwh"]
            assert 0.95 <= ratio <= 0.98
        band = item.get("advancedPrice")
        if band:
            assert band["low"] >= band["predicted"] >= band["high"]
    for item in general:
        band = item.get("advancedPrice")
        if band:
            assert band["low"] <= band["predicted"] <= band["high"]
        assert item["perKwh"] > item["spotPerKwh"]


def test_same_seed_same_prices_other_seed_other_prices() -> None:
    now = datetime(2025, 3, 3, 5, 12, 40, tzinfo=UTC)
    bodies = []
    for seed in (11, 11, 12):
        with Sandbox(seed=seed) as sb:
            sb.set_time(now)
            headers = {"Authorization": f"Bearer {sb.credentials.amber_token}"}
            with httpx.Client(base_url=sb.amber_base_url, headers=headers) as client:
                body = _prices(client, sb.amber_site_id_30min, next=96, previous=48)
                bodies.append(body)
    assert json.dumps(bodies[0]) == json.dumps(bodies[1])
    prices = [[i["perKwh"] for i in body] for body in bodies]
    assert prices[0] != prices[2]


def test_forecasts_move_between_runs(amber: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_time(datetime(2025, 1, 15, 1, 0, 30, tzinfo=UTC))
    first = {
        i["endTime"]: i for i in _channel(_prices(amber, sandbox.amber_site_id_30min, next=60))
    }
    sandbox.advance(timedelta(hours=3))
    second = {
        i["endTime"]: i for i in _channel(_prices(amber, sandbox.amber_site_id_30min, next=60))
    }
    common = [t for t in first if t in second and second[t]["type"] == "ForecastInterval"]
    assert len(common) > 20
    moved = [t for t in common if first[t]["perKwh"] != second[t]["perKwh"]]
    assert len(moved) > len(common) // 2
    sandbox.advance(timedelta(days=2))
    actual = {
        i["endTime"]: i for i in _channel(_prices(amber, sandbox.amber_site_id_30min, previous=200))
    }
    differs = [t for t in common if actual[t]["perKwh"] != first[t]["perKwh"]]
    assert len(differs) > len(common) // 2
