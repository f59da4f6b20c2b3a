"""The fold (rules 1–9): Amber intervals + time zone + ``now`` + options → a plan or a refusal."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from amber_tesla_sync.amber.models import FEED_IN, GENERAL, Interval
from amber_tesla_sync.tariff import trust
from amber_tesla_sync.tariff.body import build_request_body
from amber_tesla_sync.tariff.demand import plan_demand
from amber_tesla_sync.tariff.model import (
    LIVE,
    ChannelValue,
    FoldOptions,
    Refusal,
    Slot,
    SlotSpan,
    TariffPlan,
)
from amber_tesla_sync.tariff.prices import ChannelSeries, PricedInterval, channel_series, priced
from amber_tesla_sync.tariff.slots import slot_spans
from amber_tesla_sync.tariff.validate import validate_request_body


def fold(
    intervals: Sequence[Interval],
    zone: ZoneInfo,
    now: dt.datetime,
    options: FoldOptions | None = None,
    history: Sequence[Interval] | Callable[[], Sequence[Interval]] = (),
) -> TariffPlan | Refusal:
    """Fold one ``/prices/current`` response into the tariff for the 24 hours from ``now``.

    ``history`` holds older intervals (e.g. from the local history) used only for the
    persistence estimate beyond the forecast horizon; given as a function, it is called (once)
    only when some slot lies beyond the horizon.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    options = options or FoldOptions()
    now = now.astimezone(dt.UTC)
    spans = slot_spans(zone, now)
    checked = trust.check(intervals, now, options)
    if checked.problems:
        return Refusal(
            missing={},
            max_gap_slots=options.max_gap_slots,
            timezone=zone.key,
            now=now,
            reasons=checked.problems,
        )
    intervals = checked.intervals
    past = functools.cache(history if callable(history) else lambda: history)

    def series(channel: str) -> ChannelSeries:
        items = priced([i for i in intervals if i.channel_type == channel], options.forecast_price)

        def older() -> list[PricedInterval]:
            return priced([i for i in past() if i.channel_type == channel], options.forecast_price)

        return channel_series(items, spans, now, zone, older)

    general = series(GENERAL)
    has_feed_in = any(item.channel_type == FEED_IN for item in intervals)
    feed_in = series(FEED_IN) if has_feed_in else None

    refusal = _refusal(general, feed_in, spans, options, zone, now)
    if refusal is not None:
        return refusal
    slots = tuple(
        _slot(span, buy, sell, options)
        for span, buy, sell in zip(
            spans,
            general.values,
            feed_in.values if feed_in else [None] * len(spans),
            strict=True,
        )
    )
    demand = plan_demand(intervals, spans, now, zone, options.demand) if options.demand else None
    if demand is not None and demand.labels:
        slots = tuple(
            dataclasses.replace(slot, demand_window=slot.label in demand.labels) for slot in slots
        )
    body = build_request_body(
        {slot.label: (slot.buy, slot.sell) for slot in slots},
        demand.rates() if demand is not None else None,
    )
    problems = validate_request_body(body, allow_sell_above_buy=options.allow_sell_above_buy)
    if problems:  # pragma: no cover - the fold's own output is valid by construction
        raise AssertionError("the fold built an invalid tariff: " + "; ".join(problems))
    return TariffPlan(
        slots=slots,
        body=body,
        timezone=zone.key,
        now=now,
        options=options,
        has_feed_in=has_feed_in,
        demand=demand,
    )


def _refusal(
    general: ChannelSeries,
    feed_in: ChannelSeries | None,
    spans: Sequence[SlotSpan],
    options: FoldOptions,
    zone: ZoneInfo,
    now: dt.datetime,
) -> Refusal | None:
    missing: dict[str, tuple[SlotSpan, ...]] = {}
    reasons = []
    channels = {GENERAL: general} | ({FEED_IN: feed_in} if feed_in else {})
    for name, series in channels.items():
        if not any(value is not None and value.source in LIVE for value in series.values):
            missing[name] = tuple(spans)
            reasons.append(f"no {name} prices for any of the coming 48 slots")
        elif len(series.gaps) > options.max_gap_slots:
            missing[name] = tuple(series.gaps)
            reasons.append(
                f"{len(series.gaps)} {name} slots have no data "
                f"(at most {options.max_gap_slots} may be filled)"
            )
        elif series.unknown:
            missing[name] = tuple(series.unknown)
            reasons.append(f"no {name} prices to estimate {len(series.unknown)} slots from")
    if not missing:
        return None
    return Refusal(
        missing=missing,
        max_gap_slots=options.max_gap_slots,
        timezone=zone.key,
        now=now,
        reasons=tuple(reasons),
    )


def _slot(
    span: SlotSpan,
    general: ChannelValue | None,
    feed_in: ChannelValue | None,
    options: FoldOptions,
) -> Slot:
    """Rules 3, 7 and 8: units, the feed-in sign, clamps, rounding."""
    assert general is not None  # a refusal was returned otherwise
    buy = general.price / 100
    sell = -feed_in.price / 100 if feed_in is not None else 0.0
    buy_clamped, sell_clamped = buy < 0, sell < 0
    buy, sell = max(buy, 0.0), max(sell, 0.0)
    sell_capped = not options.allow_sell_above_buy and sell > buy
    if sell_capped:
        sell = buy
    return Slot(
        span=span,
        buy=round(buy, 4) + 0.0,
        sell=round(sell, 4) + 0.0,
        general=general,
        feed_in=feed_in,
        buy_clamped=buy_clamped,
        sell_clamped=sell_clamped,
        sell_capped=sell_capped,
    )
