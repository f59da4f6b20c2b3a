"""Whether a freshly folded tariff is worth pushing (pure: no I/O, ``now`` is an argument).

Tesla bills every Fleet request, so the tool pushes only on a material change: some slot's buy or
sell price moved by more than a tolerance that is tight for the near term and loose further
ahead; or the Powerwall runs a tariff that is not ours, or an earlier one of ours; or
``reassert_after`` has passed; or the user forces it.

One write per change: while the last push is not in effect yet (Tesla applies some late) and the
Powerwall still shows an earlier tariff of ours (or the one the push replaced), the same tariff
is not sent again: the run waits for it (:class:`Waiting`), and sends it once more only after
``resend_after`` (:data:`RESEND_AFTER`, 30 min). A material price change is pushed at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from amber_tesla_sync.tariff.model import TariffPlan

Rates = Mapping[str, tuple[float, float]]

# the reason of a run that found another tariff (the history keeps it; ``report`` reads it)
FOREIGN_REASON = "the Powerwall runs a tariff that is not ours"
# how long a push that is not in effect yet is waited for before it is sent once more
RESEND_AFTER = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Tolerances:
    near_term: dt.timedelta = dt.timedelta(hours=2)
    near_dollars: float = 0.0075
    far_dollars: float = 0.02
    current_dollars: float = 0.02
    current_minimum_left: dt.timedelta = dt.timedelta(minutes=10)
    settle: dt.timedelta = dt.timedelta(minutes=10)
    reassert_after: dt.timedelta = dt.timedelta(hours=2)
    resend_after: dt.timedelta = RESEND_AFTER


@dataclass(frozen=True)
class Waiting:
    """The last push is not in effect yet, and the Powerwall still shows ``shows`` (an earlier
    tariff of ours, or the one the push replaced)."""

    pushed_at: dt.datetime
    at: str  # when it was pushed, "HH:MM" in the site's zone (for the reason)
    shows: str


@dataclass(frozen=True)
class Change:
    label: str
    start: dt.datetime
    side: str  # "buy" | "sell"
    before: float
    after: float

    @property
    def size(self) -> float:
        return abs(self.after - self.before)


@dataclass(frozen=True)
class Decision:
    push: bool
    reason: str
    changes: tuple[Change, ...] = ()
    waiting: bool = False  # not pushed: the last push is waited for (see Waiting)


def plan_rates(plan: TariffPlan) -> dict[str, tuple[float, float]]:
    return {slot.label: (slot.buy, slot.sell) for slot in plan.slots}


def fingerprint(body: Mapping[str, Any]) -> str:
    """A short, stable fingerprint of a request body (canonical JSON)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def changes(
    plan: TariffPlan, before: Rates, now: dt.datetime, tolerances: Tolerances
) -> list[Change]:
    """Slots whose buy or sell moved by more than the tolerance for how soon they start."""
    found = []
    for slot in plan.slots:
        old = before.get(slot.label)
        if slot.span.start <= now:  # the current slot: only worth a push if there is time left
            if slot.span.end - now < tolerances.current_minimum_left:
                continue
            limit = tolerances.current_dollars
        elif slot.span.start - now < tolerances.near_term:
            limit = tolerances.near_dollars
        else:
            limit = tolerances.far_dollars
        for side, index, value in (("buy", 0, slot.buy), ("sell", 1, slot.sell)):
            previous = old[index] if old is not None else None
            if previous is None or abs(value - previous) > limit + 1e-9:
                found.append(Change(slot.label, slot.span.start, side, previous or 0.0, value))
    return found


def decide(
    plan: TariffPlan,
    last_rates: Rates | None,
    last_pushed_at: dt.datetime | None,
    now: dt.datetime,
    tolerances: Tolerances,
    *,
    force: bool = False,
    foreign_tariff: str | None = None,
    waiting: Waiting | None = None,
    earlier: str | None = None,
) -> Decision:
    """Push or not, and why (one line, for the log and the history). ``waiting``: the last push
    is not in effect yet; ``earlier``: the Powerwall runs an earlier tariff of ours (what it is)
    though the last push was read back."""
    if force:
        return Decision(True, "forced (--force)")
    if last_rates is None or last_pushed_at is None:
        return Decision(True, "first push for this site")
    if foreign_tariff:
        return Decision(True, f"{FOREIGN_REASON} ({foreign_tariff})")
    if earlier:
        return Decision(True, f"the Powerwall runs {earlier}, not the last one pushed")
    moved = changes(plan, last_rates, now, tolerances)
    if moved and now - last_pushed_at < tolerances.settle:
        # just pushed: let small moves settle (5-minute forecasts jitter); big ones go at once
        moved = [change for change in moved if change.size > tolerances.far_dollars + 1e-9]
    if moved:
        biggest = max(moved, key=lambda change: change.size)
        return Decision(
            True,
            f"{len({c.label for c in moved})} slot(s) changed materially; largest "
            f"{biggest.label} {biggest.side} {biggest.before * 100:.2f} → "
            f"{biggest.after * 100:.2f} c/kWh",
            tuple(moved),
        )
    if waiting is not None:
        late = now - waiting.pushed_at
        if late >= tolerances.resend_after:
            return Decision(
                True,
                f"the tariff pushed at {waiting.at} is not in effect after "
                f"{late.total_seconds() / 60:.0f} min (the Powerwall shows {waiting.shows}); "
                "sending it once more",
            )
        return Decision(
            False,
            f"waiting for the tariff pushed at {waiting.at} to take effect (the Powerwall "
            f"still shows {waiting.shows}; no material change since)",
            waiting=True,
        )
    if now - last_pushed_at >= tolerances.reassert_after:
        minutes = (now - last_pushed_at).total_seconds() / 60
        return Decision(True, f"re-asserting the tariff ({minutes:.0f} min since the last push)")
    largest = max(
        (
            abs(value - last_rates[label][index])
            for label, pair in plan_rates(plan).items()
            if label in last_rates
            for index, value in enumerate(pair)
        ),
        default=0.0,
    )
    return Decision(
        False, f"no material change (largest move {largest * 100:.2f} c/kWh, within tolerance)"
    )
