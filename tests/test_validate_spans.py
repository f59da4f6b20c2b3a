"""The week's grid of a tariff's periods, counted minute for minute: overlaps, gaps and periods
that run past midnight, on small hand-made tariffs."""

from __future__ import annotations

from typing import Any

from amber_tesla_sync.tariff.validate import validate_tariff


def _period(from_hour: int, to_hour: int, **extra: int) -> dict[str, int]:
    return {
        "fromDayOfWeek": 0,
        "toDayOfWeek": 6,
        "fromHour": from_hour,
        "fromMinute": 0,
        "toHour": to_hour,
        "toMinute": 0,
        **extra,
    }


def _tariff(periods: dict[str, list[dict[str, int]]]) -> dict[str, Any]:
    season = {"fromMonth": 1, "fromDay": 1, "toMonth": 12, "toDay": 31}
    return {
        "seasons": {
            "All": {**season, "tou_periods": {k: {"periods": v} for k, v in periods.items()}}
        },
        "energy_charges": {"All": {"rates": dict.fromkeys(periods, 0.3)}},
    }


def test_a_whole_week_in_two_periods_is_valid() -> None:
    assert validate_tariff(_tariff({"DAY": [_period(6, 22)], "NIGHT": [_period(22, 6)]})) == []


def test_overlapping_minutes_are_counted_once_each() -> None:
    problems = validate_tariff(_tariff({"A": [_period(0, 13)], "B": [_period(12, 24)]}))
    assert problems == ["buy season All: periods overlap for 420 minutes of the week"]


def test_a_gap_is_counted_and_its_first_minute_named() -> None:
    problems = validate_tariff(
        _tariff({"A": [_period(0, 12)], "B": [_period(12, 23, toMinute=30)]})
    )
    assert problems == [
        "buy season All: 210 minutes of the week are not covered (first: Mon 23:30)"
    ]


def test_a_period_past_midnight_on_some_days_covers_the_next_morning() -> None:
    # Sunday 22:00 to Monday 06:00 only: Monday's first six hours are covered, the rest is not
    night = _period(22, 6, fromDayOfWeek=6, toDayOfWeek=6)
    problems = validate_tariff(_tariff({"N": [night]}))
    assert problems == [
        f"buy season All: {7 * 1440 - 8 * 60} minutes of the week are not covered "
        "(first: Mon 06:00)"
    ]
