"""Export curtailment while exporting costs money (pure decisions).

While Amber's current feed-in price is positive (the customer pays to export), the export rule is
set to ``never`` (or ``pv_only``); the user's own rule is remembered first and restored when
prices recover. The tool never takes its own setting for the user's: the baseline is recorded
only when curtailment starts from a rule that is not the curtailment rule, and it is saved before
the change is sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from amber_tesla_sync.amber.models import CURRENT, FEED_IN, Interval
from amber_tesla_sync.store.state import Curtailment


@dataclass(frozen=True)
class CurtailStep:
    send_rule: str | None  # the export rule to send now, if any
    state: Curtailment  # the state to save BEFORE sending
    note: str | None = None


def current_feed_in(intervals: Sequence[Interval], now: dt.datetime) -> float | None:
    """Amber's feed-in ``perKwh`` now (c/kWh; positive = exporting costs money)."""
    feed_in = [item for item in intervals if item.channel_type == FEED_IN]
    current = [item for item in feed_in if item.type == CURRENT]
    containing = [item for item in feed_in if item.start <= now < item.end]
    chosen = min(current or containing, key=lambda item: item.duration, default=None)
    return chosen.per_kwh if chosen is not None else None


def step(
    enabled: bool,
    feed_in_c: float | None,
    state: Curtailment,
    current_rule: str | None,
    curtail_rule: str,
    now: dt.datetime,
) -> CurtailStep:
    costly = enabled and feed_in_c is not None and feed_in_c > 0
    if state.active:
        if costly:
            if not state.confirmed:
                return CurtailStep(
                    state.our_rule, state, f"sending the export rule {state.our_rule} again"
                )
            if current_rule is not None and current_rule != state.our_rule:
                return CurtailStep(
                    state.our_rule,
                    state,
                    f"export rule is {current_rule}, not {state.our_rule}: curtailing again",
                )
            return CurtailStep(None, state)
        restored = Curtailment()
        rule = state.user_rule
        why = "feed-in no longer costs money" if enabled else "curtailment was switched off"
        return CurtailStep(rule, restored, f"{why}: restoring the export rule {rule}")
    if not costly:
        return CurtailStep(None, state)
    if current_rule is None:
        return CurtailStep(None, state, "exporting costs money, but the export rule is unknown")
    if current_rule == curtail_rule:
        return CurtailStep(None, state)  # already not exporting: nothing to curtail or restore
    active = Curtailment(active=True, user_rule=current_rule, our_rule=curtail_rule, since=now)
    return CurtailStep(
        curtail_rule,
        active,
        f"feed-in costs {feed_in_c:.2f} c/kWh: export rule {current_rule} → {curtail_rule}",
    )
