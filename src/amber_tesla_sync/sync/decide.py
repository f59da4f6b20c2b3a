"""Whether a freshly folded tariff is worth pushing (pure: no I/O, ``now`` is an argument).

Tesla bills every Fleet request, so the tool pushes only on a material change (:func:`changes`):

- the current half-hour's buy or sell moved by more than :func:`current_limit` (``current_dollars``
  with all 30 minutes to run, growing as the slot runs out, up to :data:`CURRENT_CAP`: a spike is
  pushed at once, however few minutes of the slot are left);
- a near-term slot (starting within ``near_term``) moved by more than ``near_dollars``;
- a move anywhere in the tariff's 24 h changes what the Powerwall would do with it
  (:func:`~amber_tesla_sync.sync.push_value.reorderings`: a slot enters or leaves the cheapest
  or dearest few, its sell crosses the later buy prices, a price crosses zero), clear of the
  boundary by more than ``far_dollars`` (beyond the near term, only once ``far_wait`` has
  passed since the last push: until then the next near-term push carries it); a later move that
  keeps every such relation waits for the next push or the re-assert.

A push that only keeps the tariff fresh is :attr:`Decision.routine` (its read-back may wait for
the next check: :func:`~amber_tesla_sync.sync.tariff_push.read_back_now`).

It also pushes when the Powerwall runs a tariff that is not ours, or an earlier one of ours; when
``reassert_after`` has passed; or when the user forces it.

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
from typing import TYPE_CHECKING, Any

from amber_tesla_sync.sync.push_value import HORIZON, Reordering, reorderings
from amber_tesla_sync.tariff.model import TariffPlan

if TYPE_CHECKING:
    from amber_tesla_sync.settings.config import SyncSettings

Rates = Mapping[str, tuple[float, float]]

# the reason of a run that found another tariff (the history keeps it; ``report`` reads it)
FOREIGN_REASON = "the Powerwall runs a tariff that is not ours"
# the largest tolerance of the current half-hour, reached as it runs out (see current_limit)
CURRENT_CAP = 0.02
# a move of the current half-hour this large is a spike: its push is read back at once
SPIKE_DOLLARS = 0.10
# how long a push that is not in effect yet is waited for before it is sent once more
RESEND_AFTER = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Tolerances:
    near_term: dt.timedelta = dt.timedelta(hours=2)
    near_dollars: float = 0.0045
    far_dollars: float = 0.02  # how far past a boundary a move must go (see push_value)
    current_dollars: float = 0.005
    settle: dt.timedelta = dt.timedelta(minutes=10)
    # a later slot's changed relation (no near-term move) waits this long after a push, so the
    # next push for a near-term move carries it (each push is billed)
    far_wait: dt.timedelta = dt.timedelta(minutes=30)
    reassert_after: dt.timedelta = dt.timedelta(hours=2)
    resend_after: dt.timedelta = RESEND_AFTER

    @classmethod
    def of(cls, settings: SyncSettings) -> Tolerances:
        """The tolerances ``[sync]`` sets (its defaults are this class's)."""
        return cls(
            near_term=dt.timedelta(hours=settings.near_term_hours),
            near_dollars=settings.near_tolerance_cents / 100,
            far_dollars=settings.far_tolerance_cents / 100,
            current_dollars=settings.current_tolerance_cents / 100,
            settle=dt.timedelta(minutes=settings.settle_minutes),
            reassert_after=dt.timedelta(minutes=settings.reassert_after_minutes),
        )


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
    relation: str = ""  # a relation the move changed (see push_value), else a tolerance passed

    @property
    def size(self) -> float:
        return abs(self.after - self.before)


@dataclass(frozen=True)
class Decision:
    push: bool
    reason: str
    changes: tuple[Change, ...] = ()
    waiting: bool = False  # not pushed: the last push is waited for (see Waiting)
    # a push that only keeps the tariff fresh (near-term moves, a changed relation, a re-assert):
    # Tesla's acceptance is trusted until the next check reads it back (tariff_push.read_back_now)
    routine: bool = False


def plan_rates(plan: TariffPlan) -> dict[str, tuple[float, float]]:
    return {slot.label: (slot.buy, slot.sell) for slot in plan.slots}


def plan_demand(plan: TariffPlan) -> dict[str, float] | None:
    """The demand charge ($/kW) by slot the plan's tariff carries (None: none)."""
    rates = plan.demand.rates() if plan.demand is not None else {}
    return rates or None


def fingerprint(body: Mapping[str, Any]) -> str:
    """A short, stable fingerprint of a request body (canonical JSON)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def current_limit(tolerance: float, left: dt.timedelta) -> float:
    """The current half-hour's tolerance with ``left`` of it to run: ``tolerance`` while it has
    all 30 minutes, growing as it runs out (a push then serves fewer minutes), to at most
    :data:`CURRENT_CAP` (a move past it is pushed however few minutes are left)."""
    minutes = max(left.total_seconds() / 60, 1.0)
    return min(max(tolerance, CURRENT_CAP), tolerance * 30 / minutes)


def changes(
    plan: TariffPlan, before: Rates, now: dt.datetime, tolerances: Tolerances
) -> list[Change]:
    """The material moves (see the module): the current slot past ``current_dollars``, a
    near-term slot past ``near_dollars``, any slot whose move changes a relation that steers the
    Powerwall; a slot never pushed always."""
    found: list[Change] = []
    rates = plan_rates(plan)
    for slot in plan.slots:
        old = before.get(slot.label)
        if slot.span.start <= now:  # the current slot: a spike is pushed whatever time is left
            limit: float | None = current_limit(tolerances.current_dollars, slot.span.end - now)
        elif slot.span.start - now < tolerances.near_term:
            limit = tolerances.near_dollars
        else:
            limit = None  # later slots: only what changes the Powerwall's choices
        for side, index, value in (("buy", 0, slot.buy), ("sell", 1, slot.sell)):
            previous = old[index] if old is not None else None
            if previous is None or (limit is not None and abs(value - previous) > limit + 1e-9):
                found.append(Change(slot.label, slot.span.start, side, previous or 0.0, value))
    seen = {(change.label, change.side) for change in found}
    starts = {slot.label: slot.span.start for slot in plan.slots}
    labels = [slot.label for slot in plan.slots if slot.span.start - now < HORIZON]
    for moved in reorderings(labels, before, rates, tolerances.far_dollars):
        change = _reordered(moved, before, rates, starts)
        if (change.label, change.side) not in seen:
            seen.add((change.label, change.side))
            found.append(change)
    return found


def _reordered(
    moved: Reordering, before: Rates, after: Rates, starts: Mapping[str, dt.datetime]
) -> Change:
    index = 1 if moved.relation in ("export", "sell sign") else 0
    side = "sell" if index else "buy"
    return Change(
        moved.label,
        starts[moved.label],
        side,
        before[moved.label][index],
        after[moved.label][index],
        moved.relation,
    )


RELATIONS = {
    "cheap": "among the cheapest slots",
    "dear": "among the dearest slots",
    "export": "selling above every later buy price",
    "buy sign": "a buy price below zero",
    "sell sign": "a sell price below zero",
}


def describe(moved: list[Change], now: dt.datetime) -> str:
    """The reason of a push for material moves: a move of the current slot (a spike), else the
    largest near-term move past its tolerance, else the largest move that changed a relation."""
    count = len({c.label for c in moved})
    current = [change for change in moved if change.start <= now and not change.relation]
    plain = [change for change in moved if not change.relation]
    biggest = max(current or plain or moved, key=lambda change: change.size)
    prices = (
        f"{biggest.label} {biggest.side} {biggest.before * 100:.2f} → "
        f"{biggest.after * 100:.2f} c/kWh"
    )
    if current:
        return f"the current slot moved: {prices} ({count} slot(s) changed materially)"
    if plain:
        return f"{count} slot(s) changed materially; largest {prices}"
    relation = RELATIONS.get(biggest.relation, biggest.relation)
    return f"{count} slot(s) changed what the Powerwall would do; {prices} ({relation}: changed)"


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
    demand_changed: bool = False,
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
    if demand_changed:
        return Decision(True, "the demand charge or its window changed (tariff.demand)")
    moved = changes(plan, last_rates, now, tolerances)
    if moved and now - last_pushed_at < tolerances.settle:
        # just pushed: let small moves settle (5-minute forecasts jitter); big ones go at once
        big = max(tolerances.current_dollars, CURRENT_CAP)
        moved = [c for c in moved if c.size > big + 1e-9]
    urgent = moved
    if now - last_pushed_at < tolerances.far_wait:  # later relations ride with the next push
        urgent = [c for c in moved if not c.relation or c.start - now < tolerances.near_term]
    if urgent:
        spike = any(change.start <= now and change.size >= SPIKE_DOLLARS for change in moved)
        return Decision(True, describe(moved, now), tuple(moved), routine=not spike)
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
        reason = f"re-asserting the tariff ({minutes:.0f} min since the last push)"
        return Decision(True, reason, routine=True)
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
        False,
        f"no material change (largest move {largest * 100:.2f} c/kWh, within tolerance)",
    )
