"""Which days a report covers (pure)."""

from __future__ import annotations

import datetime as dt

from amber_tesla_sync.errors import UsageError

MAX_DAYS = 90  # Amber keeps usage for 90 days


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--since {text!r} is not a date", "use YYYY-MM-DD, e.g. --since 2026-11-01"
        ) from None


def choose_days(days: int | None, since: dt.date | None, today: dt.date) -> list[dt.date]:
    """``--days N``: the N days before today (complete days). ``--since DATE``: DATE up to and
    including today (today only as far as it has gone). Neither: the last 7 days."""
    if days is not None and since is not None:
        raise UsageError("--days and --since cannot be used together", "give one of them")
    if since is not None:
        if since > today:
            raise UsageError(f"--since {since} is in the future", "give a past date")
        count = (today - since).days + 1
        if count > MAX_DAYS:
            raise UsageError(
                f"--since {since} is more than {MAX_DAYS} days ago",
                f"Amber keeps usage for {MAX_DAYS} days; give a later date",
            )
        return [since + dt.timedelta(days=n) for n in range(count)]
    count = 7 if days is None else days
    if not 1 <= count <= MAX_DAYS:
        raise UsageError(f"--days {count} is out of range", f"give 1 to {MAX_DAYS}")
    return [today - dt.timedelta(days=n) for n in range(count, 0, -1)]
