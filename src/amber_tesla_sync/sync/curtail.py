"""Export curtailment while exporting costs money (pure decisions).

While Amber's current feed-in price is positive (the customer pays to export), the export rule is
set to ``never`` (or ``pv_only``); the user's own rule is remembered first and restored when
prices recover. A :class:`Hysteresis` keeps a price jittering around zero from flapping the rule:
curtailment starts only once exporting costs more than ``above`` c/kWh, ends only once it pays
more than ``below`` c/kWh, and within ``dwell`` of the last change (``Curtailment.since``: when
curtailment started, or when it ended) the rule changes again only for a price ``override`` c/kWh
past the threshold. Switching curtailment off restores at once.

The tool never takes its own setting for the user's: the baseline is recorded
only when curtailment starts from a rule that is not the curtailment rule (or from the user's rule
still owed back from an earlier change), and it is saved before the change is sent.

When prices recover the user's rule is not forgotten before Tesla has it back: it moves into a
:class:`~amber_tesla_sync.store.state.Restore` record (saved before the command is sent), which
is cleared only once Tesla accepted the restore; a failed restore is sent again on every run (see
:mod:`amber_tesla_sync.store.state`, design rule 12).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from amber_tesla_sync.amber.models import CURRENT, FEED_IN, Interval
from amber_tesla_sync.store.state import Curtailment, Restore


@dataclass(frozen=True)
class Hysteresis:
    """When curtailment starts and ends (c/kWh of Amber's feed-in price; positive = exporting
    costs money); the defaults are those of ``[sync]``."""

    above: float = 1.0  # curtail when feed-in > above
    below: float = 1.0  # restore when feed-in < -below
    dwell: dt.timedelta = dt.timedelta(minutes=30)  # no change sooner after the last …
    override: float = 10.0  # … unless the price is this far past the threshold

    def wanted(self, feed_in_c: float | None, state: Curtailment, now: dt.datetime) -> bool:
        """Whether curtailment should be on now (an unknown price ends it, as a low one does)."""
        recent = state.since is not None and now - state.since < self.dwell
        if state.active:
            if feed_in_c is not None and feed_in_c >= -self.below:
                return True
            far = feed_in_c is not None and feed_in_c < -(self.below + self.override)
            return recent and not far
        if feed_in_c is None or feed_in_c <= self.above:
            return False
        return not recent or feed_in_c > self.above + self.override


@dataclass(frozen=True)
class CurtailStep:
    send_rule: str | None  # the export rule to send now, if any
    state: Curtailment  # the state to save BEFORE sending
    note: str | None = None
    restore: Restore | None = None  # the user's rule now owed back (saved BEFORE sending)
    adopted: bool = False  # the owed rule became the curtailment's baseline (its record ends)


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
    owed: str | None = None,
    hysteresis: Hysteresis = Hysteresis(),
) -> CurtailStep:
    """The next step; ``owed`` is the user's export rule still owed back (a restore not yet
    accepted): the baseline if curtailment starts again before Tesla took it back."""
    costly = enabled and hysteresis.wanted(feed_in_c, state, now)
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
        rule = state.user_rule
        ended = Curtailment(since=now)  # when the last change was, for the dwell
        if rule is None:  # never saved: nothing to give back
            return CurtailStep(None, ended)
        why = "feed-in no longer costs money" if enabled else "curtailment was switched off"
        owe = Restore(value=rule, ours=state.our_rule, why=why, due_since=now)
        return CurtailStep(rule, ended, f"{why}: restoring the export rule {rule}", restore=owe)
    if not costly:
        return CurtailStep(None, state)
    if current_rule is None:
        return CurtailStep(None, state, "exporting costs money, but the export rule is unknown")
    if current_rule == curtail_rule and owed is None:
        return CurtailStep(None, state)  # already not exporting: nothing to curtail or restore
    user_rule = owed if owed is not None else current_rule
    active = Curtailment(active=True, user_rule=user_rule, our_rule=curtail_rule, since=now)
    return CurtailStep(
        curtail_rule,
        active,
        f"feed-in costs {feed_in_c:.2f} c/kWh: export rule {current_rule} → {curtail_rule}"
        + (f" (your rule {owed} is restored when prices recover)" if owed is not None else ""),
        adopted=owed is not None,
    )
