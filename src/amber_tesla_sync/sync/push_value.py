"""Whether a move of the prices could change what the Powerwall does (pure: no I/O).

A Powerwall under Time-Based Control does not act on a price, but on how prices relate: it
charges in the cheapest slots of its horizon, saves its energy for the dearest, exports when the
sell price beats the buy prices still to come, and treats a price below zero apart. A later slot
moving by a few cents while keeping every one of those relations changes nothing it does, so it
is not worth a billed push (the re-assert brings it in later). :func:`reorderings` finds the
relations a move changes; for each slot of the horizon (in time order) it compares, between the
tariff on the Powerwall and the fresh one:

- ``cheap``: its buy price against the :data:`RANK_SLOTS`-th lowest buy of the horizon (among
  the cheapest slots, where a Powerwall charges, or not);
- ``dear``: its buy price against the :data:`RANK_SLOTS`-th highest buy (among the dearest
  slots, where it discharges, or not);
- ``export``: its sell price against the highest buy price of the slots after it (sell beats
  every later buy: worth exporting now rather than keeping the energy);
- ``buy sign`` / ``sell sign``: its buy or sell price against zero.

The horizon is the slots starting within :data:`HORIZON` (the tariff's 24 h).

A relation counts as changed only when it is on the other side now *and* clear of the boundary
by more than ``margin``: prices that sit on a boundary (two slots a fraction of a cent apart)
would otherwise flip it at every forecast and push for nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

RANK_SLOTS = 6  # 3 h of half-hour slots: about what a Powerwall needs to charge or discharge
# the slots whose relations count: the whole tariff (a slot that just rolled over to tomorrow
# counts too: the Powerwall plans over the day ahead)
HORIZON = dt.timedelta(hours=24)
TIE = 1e-9  # $/kWh: closer than this to a boundary is on it

Rates = Mapping[str, tuple[float, float]]


@dataclass(frozen=True)
class Reordering:
    """A relation of one slot that a move changed: ``before`` and ``after`` are the slot's
    distance from the boundary ($/kWh; below zero: under it)."""

    label: str
    relation: str  # "cheap" | "dear" | "export" | "buy sign" | "sell sign"
    before: float
    after: float


def relations(labels: Sequence[str], rates: Rates) -> dict[tuple[str, str], float]:
    """Each slot's distance from every boundary that steers the Powerwall (see the module)."""
    buys = [rates[label][0] for label in labels]
    sells = [rates[label][1] for label in labels]
    ordered = sorted(buys)
    k = min(RANK_SLOTS, len(ordered))
    cheap_edge, dear_edge = ordered[k - 1], ordered[-k]
    found: dict[tuple[str, str], float] = {}
    later_max = float("-inf")
    for index in range(len(labels) - 1, -1, -1):
        label, buy, sell = labels[index], buys[index], sells[index]
        found[label, "cheap"] = buy - cheap_edge
        found[label, "dear"] = buy - dear_edge
        if later_max != float("-inf"):
            found[label, "export"] = sell - later_max
        found[label, "buy sign"] = buy
        found[label, "sell sign"] = sell
        later_max = max(later_max, buy)
    return found


def _side(value: float) -> int:
    return 0 if abs(value) <= TIE else (1 if value > 0 else -1)


def reorderings(
    labels: Sequence[str], before: Rates, after: Rates, margin: float
) -> list[Reordering]:
    """The relations (see the module) whose side differs between ``before`` (the tariff on the
    Powerwall) and ``after`` (the fresh one) and that ``after`` clears by more than ``margin``.
    ``labels``: the horizon's slots in time order; a slot missing from ``before`` is none of
    this function's business (a slot never pushed is always pushed)."""
    known = [label for label in labels if label in before and label in after]
    if not known:
        return []
    old, new = relations(known, before), relations(known, after)
    return [
        Reordering(label, relation, old[label, relation], value)
        for (label, relation), value in new.items()
        if (label, relation) in old
        and _side(value) != _side(old[label, relation])
        and abs(value) > margin + TIE
    ]
