"""Build Amber ``/prices/current`` payloads for tests, shaped exactly like the real API.

``start`` is the interval start (UTC); the payload carries ``endTime`` = start + duration,
``startTime`` = start + 1 s, ``nemTime`` = end at +10:00 and ``date`` = the NEM date of the start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

UTC = dt.UTC
NEM = dt.timezone(dt.timedelta(hours=10))


def utc(text: str) -> dt.datetime:
    """``"2025-07-17T09:30"`` (naive → UTC) or any ISO string with an offset."""
    moment = dt.datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def interval(
    start: dt.datetime,
    price: float,
    *,
    channel: str = "general",
    kind: str = "ForecastInterval",
    duration: int = 30,
    advanced: float | str | None = "same",
    spike: str = "none",
    **extra: Any,
) -> dict[str, Any]:
    """One interval. ``advanced="same"`` gives an advancedPrice band around ``price`` (on
    forecasts and current intervals); ``None`` omits it; a number sets ``predicted``."""
    end = start + dt.timedelta(minutes=duration)
    body: dict[str, Any] = {
        "type": kind,
        "date": start.astimezone(NEM).date().isoformat(),
        "duration": duration,
        "startTime": (start + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "endTime": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "nemTime": end.astimezone(NEM).isoformat(),
        "perKwh": price,
        "renewables": 40.5,
        "spotPerKwh": price * 0.6,
        "channelType": channel,
        "spikeStatus": spike,
        "descriptor": "neutral",
    }
    if kind == "CurrentInterval":
        body["estimate"] = True
    if kind != "ActualInterval" and advanced is not None:
        predicted = price if advanced == "same" else float(advanced)
        low, high = predicted - 1.5, predicted + 2.5
        if channel == "feedIn":
            low, high = predicted + 1.5, predicted - 2.5
        body["advancedPrice"] = {"low": low, "predicted": predicted, "high": high}
    body.update(extra)
    return body


def kind_at(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> str:
    """Amber's type for an interval at ``now``: past actual, current, later forecast."""
    if end <= now:
        return "ActualInterval"
    return "CurrentInterval" if start <= now else "ForecastInterval"


def as_live(body: list[dict[str, Any]], now: dt.datetime) -> list[dict[str, Any]]:
    """A day archive (all ActualInterval) replayed as the live answer it was at ``now``."""
    replayed = []
    for item in body:
        end = dt.datetime.fromisoformat(item["endTime"])
        start = end - dt.timedelta(minutes=item["duration"])
        replayed.append({**item, "type": kind_at(start, end, now)})
    return replayed


def channel_run(
    first_start: dt.datetime,
    count: int,
    price: Callable[[dt.datetime], float] | float,
    *,
    now: dt.datetime,
    channel: str = "general",
    duration: int = 30,
    advanced: float | str | None = "same",
    spike: Callable[[dt.datetime], str] | None = None,
) -> list[dict[str, Any]]:
    """``count`` consecutive intervals; the type follows ``now`` (past → Actual, containing
    ``now`` → Current, later → Forecast)."""
    items = []
    for index in range(count):
        start = first_start + dt.timedelta(minutes=duration * index)
        kind = kind_at(start, start + dt.timedelta(minutes=duration), now)
        value = price(start) if callable(price) else price
        items.append(
            interval(
                start,
                value,
                channel=channel,
                kind=kind,
                duration=duration,
                advanced=advanced,
                spike=spike(start) if spike else "none",
            )
        )
    return items


def site_payload(
    now: dt.datetime,
    *,
    hours_back: float = 0,
    hours_ahead: float = 25,
    duration: int = 30,
    buy: Callable[[dt.datetime], float] | float = 25.0,
    sell: Callable[[dt.datetime], float] | float | None = -8.0,
    five_minute_hours: float = 0,
) -> list[dict[str, Any]]:
    """A whole response: general (+ feedIn unless ``sell`` is None), Amber's channel order.

    Intervals are aligned to ``duration`` from ``now - hours_back``. With
    ``five_minute_hours`` > 0 the response starts with 5-minute intervals for that long, then
    switches to 30-minute ones, like a 5-minute site.
    """
    channels: list[tuple[str, Callable[[dt.datetime], float] | float]] = [("general", buy)]
    if sell is not None:
        channels.append(("feedIn", sell))
    body: list[dict[str, Any]] = []
    for channel, price in channels:
        body.extend(
            _channel(now, hours_back, hours_ahead, duration, price, channel, five_minute_hours)
        )
    return body


def _channel(
    now: dt.datetime,
    hours_back: float,
    hours_ahead: float,
    duration: int,
    price: Callable[[dt.datetime], float] | float,
    channel: str,
    five_minute_hours: float,
) -> list[dict[str, Any]]:
    def floor(moment: dt.datetime, minutes: int) -> dt.datetime:
        epoch = int(moment.timestamp()) // (minutes * 60) * minutes * 60
        return dt.datetime.fromtimestamp(epoch, UTC)

    end = now + dt.timedelta(hours=hours_ahead)
    if five_minute_hours:
        start = floor(now - dt.timedelta(hours=hours_back), 5)
        switch = floor(now + dt.timedelta(hours=five_minute_hours), 30)
        count5 = int((switch - start).total_seconds() // 300)
        items = channel_run(start, count5, price, now=now, channel=channel, duration=5)
        count30 = int((end - switch).total_seconds() // 1800)
        return items + channel_run(switch, count30, price, now=now, channel=channel, duration=30)
    start = floor(now - dt.timedelta(hours=hours_back), duration)
    count = int((end - start).total_seconds() // (duration * 60))
    return channel_run(start, count, price, now=now, channel=channel, duration=duration)


def without(
    items: Iterable[dict[str, Any]], *starts: dt.datetime, channel: str = "general"
) -> list[dict[str, Any]]:
    """``items`` minus the intervals of ``channel`` starting at ``starts``."""
    drop = {start.strftime("%Y-%m-%dT%H:%M:01Z") for start in starts}
    return [i for i in items if not (i["channelType"] == channel and i["startTime"] in drop)]
