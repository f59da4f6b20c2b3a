"""Is the machine's clock right? Compared with the server's ``Date`` header and with Amber's
current interval before anything is folded or written: a tariff folded against a wrong ``now``
is shifted in time (a board without a real-time clock that runs before its clock is set)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from amber_tesla_sync.amber.models import CURRENT, Interval
from amber_tesla_sync.errors import ClockError

HINT = (
    "nothing was pushed and the Powerwall keeps its last tariff; check that time is synchronised "
    "(`timedatectl status` should say 'System clock synchronized: yes'); the systemd timer "
    "waits for time-sync.target"
)


def _minutes(delta: dt.timedelta) -> str:
    side = "ahead" if delta > dt.timedelta() else "behind"
    return f"{abs(delta.total_seconds()) / 60:.0f} min {side}"


def check_clock(
    now: dt.datetime,
    server_time: dt.datetime | None,
    intervals: Sequence[Interval],
    max_skew: dt.timedelta,
) -> None:
    """Raise :class:`ClockError` when ``now`` is more than ``max_skew`` off the server's clock,
    or, when the server sent no usable ``Date``, off Amber's current interval. (A current interval
    that does not contain ``now`` while the server's clock agrees is stale data: the fold refuses
    it.)"""
    if server_time is not None:
        skew = now - server_time
        if abs(skew) > max_skew:
            raise ClockError(
                f"the system clock is {_minutes(skew)} (it says {now:%Y-%m-%d %H:%M} UTC, "
                f"Amber's server {server_time:%Y-%m-%d %H:%M} UTC); is time synchronised?",
                HINT,
            )
        return
    for item in intervals:
        if item.type != CURRENT:
            continue
        if now < item.start - max_skew:
            skew = now - item.start
        elif now >= item.end + max_skew:
            skew = now - item.end
        else:
            continue
        raise ClockError(
            f"the system clock is {_minutes(skew)} of Amber's current interval "
            f"({item.start:%Y-%m-%d %H:%M}–{item.end:%H:%M} UTC); is time synchronised?",
            HINT,
        )
