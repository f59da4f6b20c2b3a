"""Shared helpers for fold tests: run the fold on JSON payloads and look slots up."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from amber_tesla_sync.amber.models import parse_intervals
from amber_tesla_sync.tariff import FoldOptions, Refusal, TariffPlan, fold
from amber_tesla_sync.tariff.model import Slot


def run_fold(
    payload: list[dict[str, Any]],
    zone: str,
    now: dt.datetime,
    history: list[dict[str, Any]] | None = None,
    **options: Any,
) -> TariffPlan | Refusal:
    return fold(
        parse_intervals(payload),
        ZoneInfo(zone),
        now,
        FoldOptions(**options),
        parse_intervals(history or []),
    )


def plan_of(
    payload: list[dict[str, Any]], zone: str, now: dt.datetime, **options: Any
) -> TariffPlan:
    result = run_fold(payload, zone, now, **options)
    assert isinstance(result, TariffPlan), f"unexpected refusal: {result}"
    return result


def by_label(plan: TariffPlan) -> dict[str, Slot]:
    return {slot.label: slot for slot in plan.slots}


def rates(plan: TariffPlan) -> dict[str, tuple[float, float]]:
    """The body's rates by label, as pushed: {"PERIOD_HH_MM": (buy, sell)}."""
    tariff = plan.body["tou_settings"]["tariff_content_v2"]
    buy = tariff["energy_charges"]["Summer"]["rates"]
    sell = tariff["sell_tariff"]["energy_charges"]["Summer"]["rates"]
    return {label: (buy[label], sell[label]) for label in buy}
