"""Whether a price move could change what the Powerwall does (pure): a move that keeps every
ordering and relation is not worth a push; one that changes the cheapest or dearest slots, the
sell/buy relation or a price's sign is; a boundary is only crossed when the new price clears it."""

from __future__ import annotations

from amber_tesla_sync.sync.push_value import RANK_SLOTS, relations, reorderings

MARGIN = 0.005
LABELS = [f"{hour:02d}:00" for hour in range(24)]
# a day in cents: cheap at night and midday, dear in the evening; selling pays 5 c, 40 c at 18:00
BUY = [20, 18, 16, 15, 15, 17, 22, 28, 25, 14, 10, 8, 8, 9, 12, 20, 30, 45, 55, 50, 40, 30, 25, 22]
SELL = [5.0] * 24
SELL[18] = 40.0


def rates(**moves: tuple[float, float]) -> dict[str, tuple[float, float]]:
    """The day in $/kWh, with some slots (``h18=(buy, sell)`` in cents) moved."""
    found = {label: (BUY[i] / 100, SELL[i] / 100) for i, label in enumerate(LABELS)}
    for key, (buy, sell) in moves.items():
        found[f"{key[1:]}:00"] = (buy / 100, sell / 100)
    return found


def test_a_move_that_keeps_every_ordering_is_not_worth_a_push() -> None:
    before = rates()
    # 22:00 up 3 c (25 c): still neither among the cheapest nor the dearest, sell still below
    assert reorderings(LABELS, before, rates(h22=(25, 5)), MARGIN) == []
    # the dearest slot dearer still, a cheap one cheaper still: the same slots, the same roles
    assert reorderings(LABELS, before, rates(h18=(70, 40), h11=(5, 5)), MARGIN) == []


def test_a_slot_entering_the_cheapest_is_worth_a_push() -> None:
    found = reorderings(LABELS, rates(), rates(h21=(11, 5)), MARGIN)
    assert ("21:00", "cheap") in {(r.label, r.relation) for r in found}
    moved = next(r for r in found if r.relation == "cheap" and r.label == "21:00")
    assert moved.before > 0 > moved.after  # above the cheapest slots' edge, now below it


def test_a_slot_entering_the_dearest_is_worth_a_push() -> None:
    found = reorderings(LABELS, rates(), rates(h08=(48, 5)), MARGIN)
    assert ("08:00", "dear") in {(r.label, r.relation) for r in found}


def test_sell_crossing_the_later_buy_prices_is_worth_a_push() -> None:
    # 18:00 sells at 40 c while 19:00 buys at 50 c: keep the energy; at 52 c, export now
    found = reorderings(LABELS, rates(), rates(h18=(55, 52)), MARGIN)
    assert [(r.label, r.relation) for r in found] == [("18:00", "export")]
    # the other way round: a later buy price rising above an export slot's sell
    later = reorderings(LABELS, rates(h18=(55, 52)), rates(h18=(55, 52), h19=(53, 5)), MARGIN)
    assert ("18:00", "export") in {(r.label, r.relation) for r in later}


def test_a_price_crossing_zero_is_worth_a_push() -> None:
    found = reorderings(LABELS, rates(), rates(h12=(8, -2)), MARGIN)
    assert ("12:00", "sell sign") in {(r.label, r.relation) for r in found}
    negative = reorderings(LABELS, rates(), rates(h12=(-3, 5)), MARGIN)
    assert ("12:00", "buy sign") in {(r.label, r.relation) for r in negative}


def test_a_boundary_is_crossed_only_when_the_new_price_clears_it() -> None:
    # the cheapest six: 8, 8, 9, 10, 12, 14 (14 c at the edge); 15 c at 03:00 just outside it.
    # 03:00 at 13.8 c pushes 09:00 (14 c) out of them by 0.2 c: not past the margin
    assert reorderings(LABELS, rates(), rates(h03=(13.8, 5)), MARGIN) == []
    assert reorderings(LABELS, rates(), rates(h03=(13.8, 5)), 0.001) != []


def test_relations_measure_each_slot_from_its_boundaries() -> None:
    found = relations(LABELS, rates())
    ordered = sorted(BUY)
    assert round(found["10:00", "cheap"], 4) == round((10 - ordered[RANK_SLOTS - 1]) / 100, 4)
    assert round(found["18:00", "dear"], 4) == round((55 - ordered[-RANK_SLOTS]) / 100, 4)
    assert round(found["18:00", "export"], 4) == round((40 - max(BUY[19:])) / 100, 4)
    assert ("23:00", "export") not in found  # nothing after the horizon's last slot
    assert reorderings(LABELS, {}, rates(), MARGIN) == []  # nothing pushed: none of its business
