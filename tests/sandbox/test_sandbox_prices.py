"""The price model behind the sandbox's Amber API (pure functions, no HTTP)."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta, timezone

from amber_tesla_sync.sandbox.amber_intervals import horizon_end, idx_of, plan_slots
from amber_tesla_sync.sandbox.prices import (
    MARKET_CAP,
    MARKET_FLOOR,
    SPIKE_RRP,
    advanced_band,
    forecast_rrp,
    nem_minute,
    renewables,
    true_rrp,
)

NEM = timezone(timedelta(hours=10))
START = idx_of(datetime(2025, 1, 1, tzinfo=UTC))
DAYS = 90


def _series(seed: int, region: str) -> list[float]:
    return [true_rrp(seed, region, i) for i in range(START, START + 288 * DAYS)]


def test_prices_have_a_realistic_daily_shape() -> None:
    for region in ("NSW1", "VIC1"):
        values = _series(3, region)
        by_hour: dict[int, list[float]] = {}
        for k, value in enumerate(values):
            by_hour.setdefault(nem_minute(START + k) // 60, []).append(value)
        median = {h: statistics.median(v) for h, v in by_hour.items()}
        assert median[18] > 1.5 * max(median[12], 1.0), region  # evening peak over midday
        assert median[2] > median[12], region  # nights above the solar trough
        assert 40 < statistics.median(values) < 160, region  # $/MWh, like recent NEM medians
        assert min(values) >= MARKET_FLOOR and max(values) <= MARKET_CAP
        negative = sum(v < 0 for v in values) / len(values)
        spikes = sum(v >= SPIKE_RRP for v in values) / len(values)
        assert 0.02 < negative < 0.4, region
        assert 0.0005 < spikes < 0.03, region
        assert max(values) > 1000.0, region  # spikes reach thousands of $/MWh sometimes


def test_negative_prices_happen_in_daylight() -> None:
    values = _series(5, "VIC1")
    negative_minutes = [nem_minute(START + k) for k, v in enumerate(values) if v < 0]
    daylight = sum(390 <= m < 1020 for m in negative_minutes)  # 06:30-17:00 NEM
    assert daylight / len(negative_minutes) > 0.95


def test_prices_are_deterministic_per_seed() -> None:
    assert [true_rrp(9, "NSW1", START + k) for k in range(500)] == [
        true_rrp(9, "NSW1", START + k) for k in range(500)
    ]
    assert [true_rrp(9, "NSW1", START + k) for k in range(50)] != [
        true_rrp(10, "NSW1", START + k) for k in range(50)
    ]


def test_forecast_error_grows_with_lead_time() -> None:
    def mean_error(lead_intervals: int) -> float:
        errors = []
        for k in range(0, 288 * 30, 7):
            idx = START + k + lead_intervals
            errors.append(abs(forecast_rrp(2, "NSW1", idx, START + k) - true_rrp(2, "NSW1", idx)))
        return statistics.median(errors)

    near, hours_4, day = mean_error(1), mean_error(48), mean_error(240)
    assert near < hours_4 < day


def test_forecast_for_one_interval_changes_with_publication_time() -> None:
    target = START + 288 * 3 + 200
    published = [forecast_rrp(4, "NSW1", target, target - lead) for lead in range(12, 240, 6)]
    assert len(set(published)) > len(published) // 2


def test_advanced_band_is_ordered() -> None:
    for k in range(0, 2000, 13):
        band = advanced_band(1, "VIC1", START + k + 40, START + k)
        assert band.low <= band.predicted <= band.high


def test_renewables_peak_with_the_sun() -> None:
    noon = [renewables(1, "NSW1", START + 288 * d + 24) for d in range(30)]  # 12:00 NEM
    night = [renewables(1, "NSW1", START + 288 * d + 216) for d in range(30)]  # 00:00 NEM
    assert statistics.mean(noon) > statistics.mean(night) + 10
    assert all(0 < v <= 100 for v in noon + night)


def test_horizon_rule() -> None:
    def at(h: int, m: int) -> datetime:
        return datetime(2025, 7, 1, h, m, tzinfo=NEM)

    assert horizon_end(at(4, 0)) == datetime(2025, 7, 2, 4, 0, tzinfo=NEM)
    assert horizon_end(at(12, 29)) == datetime(2025, 7, 2, 4, 0, tzinfo=NEM)
    assert horizon_end(at(12, 30)) == datetime(2025, 7, 3, 4, 0, tzinfo=NEM)
    assert horizon_end(at(3, 59)) == datetime(2025, 7, 2, 4, 0, tzinfo=NEM)


def test_plan_slots_counts_next_at_the_series_resolution() -> None:
    now = datetime(2025, 7, 1, 13, 2, tzinfo=NEM)
    slots = plan_slots(now, 5, 24, 3)
    kinds = [s.kind for s in slots]
    assert kinds[:4] == ["ActualInterval"] * 3 + ["CurrentInterval"]
    assert slots[-1].end <= slots[3].end + timedelta(minutes=5 * 24)
    assert {s.minutes for s in slots[4:]} == {5, 30}
