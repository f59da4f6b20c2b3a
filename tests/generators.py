"""Hypothesis strategies: well-formed Amber ``/prices/current`` payloads around hard moments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from payloads import interval

UTC = dt.UTC
ZONES = (
    "Australia/Sydney",
    "Australia/Melbourne",
    "Australia/Hobart",
    "Australia/Adelaide",
    "Australia/Brisbane",
    "Australia/Lord_Howe",
)
# daylight-saving changes in south-eastern Australia (UTC instants)
TRANSITIONS = tuple(
    dt.datetime.fromisoformat(text)
    for text in (
        "2024-04-06T16:00:00+00:00",
        "2024-10-05T16:00:00+00:00",
        "2025-04-05T16:00:00+00:00",
        "2025-10-04T16:00:00+00:00",
        "2026-04-04T16:00:00+00:00",
        "2026-10-03T16:00:00+00:00",
    )
)
KINDS = ("ActualInterval", "CurrentInterval", "ForecastInterval")


@dataclass(frozen=True)
class Case:
    payload: list[dict[str, Any]]
    zone: str
    now: dt.datetime
    options: dict[str, Any]


def _floor(moment: dt.datetime, minutes: int) -> dt.datetime:
    seconds = int(moment.timestamp()) // (minutes * 60) * minutes * 60
    return dt.datetime.fromtimestamp(seconds, UTC)


# plausible retail prices (c/kWh): typical ones and extremes up to the market cap and floor
prices = st.one_of(
    st.floats(min_value=-60, max_value=120, allow_nan=False).map(lambda x: round(x, 5)),
    st.floats(min_value=-150, max_value=2600, allow_nan=False).map(lambda x: round(x, 3)),
)
feed_in_prices = prices.map(lambda x: -x)


@st.composite
def moments(draw: st.DrawFn) -> dt.datetime:
    if draw(st.booleans()):
        base = draw(st.sampled_from(TRANSITIONS))
        offset = draw(st.integers(min_value=-30 * 3600, max_value=30 * 3600))
        return base + dt.timedelta(seconds=offset)
    return draw(
        st.datetimes(
            min_value=dt.datetime(2024, 1, 1),
            max_value=dt.datetime(2027, 12, 31),
            timezones=st.just(UTC),
        )
    )


@st.composite
def channel(
    draw: st.DrawFn, name: str, now: dt.datetime, five_minute: bool
) -> list[dict[str, Any]]:
    back = draw(st.integers(min_value=0, max_value=26 * 60))
    ahead = draw(st.integers(min_value=5, max_value=30 * 60))
    five_until = now + dt.timedelta(minutes=draw(st.integers(min_value=0, max_value=90)))
    start = _floor(now - dt.timedelta(minutes=back), 5 if five_minute else 30)
    end = now + dt.timedelta(minutes=ahead)
    flat = draw(st.booleans())
    channel_prices = feed_in_prices if name == "feedIn" else prices
    base_price = draw(channel_prices)
    items = []
    while start < end:
        duration = 5 if five_minute and (start < five_until or start.minute % 30) else 30
        stop = start + dt.timedelta(minutes=duration)
        kind = (
            "ActualInterval"
            if stop <= now
            else "CurrentInterval"
            if start <= now
            else "ForecastInterval"
        )
        if draw(st.integers(min_value=0, max_value=40)) == 0:
            kind = draw(st.sampled_from(KINDS))  # Amber's labels are not always tidy
        price = base_price if flat else draw(channel_prices)
        advanced: float | str | None = draw(st.one_of(st.none(), st.just("same"), channel_prices))
        spike = draw(st.sampled_from(("none", "none", "none", "potential", "spike")))
        items.append(
            interval(
                start,
                price,
                channel=name,
                kind=kind,
                duration=duration,
                advanced=advanced,
                spike=spike,
            )
        )
        start = stop
    dropped = draw(st.sets(st.integers(min_value=0, max_value=max(len(items) - 1, 0)), max_size=10))
    return [item for index, item in enumerate(items) if index not in dropped]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    now = draw(moments())
    five_minute = draw(st.booleans())
    payload = draw(channel("general", now, five_minute))
    if draw(st.integers(min_value=0, max_value=4)):
        payload += draw(channel("feedIn", now, five_minute))
    if draw(st.booleans()):
        payload = draw(st.permutations(payload))
    options = {
        "forecast_price": draw(st.sampled_from(("predicted", "low", "high", "per_kwh"))),
        "allow_sell_above_buy": draw(st.booleans()),
        "max_gap_slots": draw(st.integers(min_value=0, max_value=8)),
        "min_horizon_hours": draw(st.sampled_from((0.0, 6.0, 12.0))),
    }
    return Case(payload=list(payload), zone=draw(st.sampled_from(ZONES)), now=now, options=options)
