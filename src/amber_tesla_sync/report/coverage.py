"""How much of a day the Powerwall ran the tool's tariff, from the sync history (pure).

Between two runs the Powerwall is taken to run what the earlier run left it with:
- a run whose push was accepted (verified or not yet), or found the tariff unchanged → the
  tool's tariff (``ours``);
- a run that refused or failed → the last good tariff stays (``kept``) if it was ours;
- a run that found a tariff that is not ours → ``foreign`` since the run before (when it
  changed in between is not known, so the whole gap counts), then ours again if it pushed;
- before the first recorded run → ``unknown``. A dry run changes nothing on the Powerwall.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from amber_tesla_sync.report.model import TariffShare
from amber_tesla_sync.store.history import RunRecord

# a push the Powerwall accepted (read back or not yet: ``pushed`` in older history rows), or none
# needed
OURS = frozenset({"verified", "unverified", "pushed", "unchanged"})


def _after(run: RunRecord, before: str) -> str:
    """The state a run leaves the Powerwall in, given the state ``before`` it."""
    if run.outcome in OURS:
        return "ours"
    if run.outcome in ("refused", "failed"):
        return "kept" if before in ("ours", "kept") else before
    if run.foreign is not None:  # a dry run that found a foreign tariff
        return "foreign"
    return before


def tariff_share(
    runs: Sequence[RunRecord], start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> TariffShare:
    """Seconds of [start, min(end, now)) in each state; ``runs`` in any order, including the
    last one before ``start``."""
    stop = min(end, max(start, now))
    seconds = {"ours": 0.0, "kept": 0.0, "foreign": 0.0, "unknown": 0.0}
    state, since = "unknown", start
    for run in sorted(runs, key=lambda r: r.started_at):
        moment = run.started_at
        if moment >= stop:
            break
        if run.foreign is not None and state != "unknown":
            state = "foreign"  # the gap before this run: the tariff had been replaced
        if moment > since:
            seconds[state] += (moment - since).total_seconds()
            since = moment
        state = _after(run, state)
    if stop > since:
        seconds[state] += (stop - since).total_seconds()
    return TariffShare(
        ours=seconds["ours"],
        kept=seconds["kept"],
        foreign=seconds["foreign"],
        unknown=seconds["unknown"],
        span=(stop - start).total_seconds(),
    )
