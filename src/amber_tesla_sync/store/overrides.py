"""The owner's overrides (``amber-tesla-sync override``): a while in which the owner, not the
prices, decides what the Powerwall does (charge, export, hold, pause), kept in the site's
``SyncState.manual``.

A value the owner had is never lost (design rule 12): before an override changes a Powerwall
setting, the owner's value is saved here as a :class:`~amber_tesla_sync.store.state.Restore`
record (``Override.saved``); when the override ends, the first sync moves those records into
``SyncState.restores``, from where every run sends them back until Tesla accepts them (or the
owner set a value by hand meanwhile: theirs wins).

The empty defaults (``[]``, ``{}``) are copied for each record by pydantic; unlike a
``default_factory=list`` they cost nothing when the model is built (pydantic reads a factory's
signature, and a builtin's is parsed from text).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from amber_tesla_sync.store.state import Restore

Kind = Literal["charge", "export", "hold", "pause"]
KINDS: tuple[Kind, ...] = ("charge", "export", "hold", "pause")


class Override(BaseModel):
    """One override of one site, from ``start`` to ``end`` (UTC)."""

    model_config = ConfigDict(extra="allow")
    id: str
    kind: Kind
    start: dt.datetime
    end: dt.datetime
    percent: float | None = None  # charge: the target; hold: the floor (backup reserve, %)
    # setting → the owner's value, saved BEFORE the change (moved to restores at the end)
    saved: dict[str, Restore] = {}
    wanted: dict[str, str] = {}  # setting → the value set
    sent: list[str] = []  # the settings Tesla accepted
    changes: list[str] = []  # "backup reserve 20 → 100", …
    slots: list[str] = []  # the tariff slots ("HH:MM") changed
    started: bool = False  # its changes were made (after a trusted fold)
    ended_at: dt.datetime | None = None  # when a sync ended it (its values now owed back)
    cleared: bool = False  # ended early by `override clear`

    def in_force(self, now: dt.datetime) -> bool:
        return self.ended_at is None and self.start <= now < self.end

    def overdue(self, now: dt.datetime) -> bool:
        """Past its end, but no sync has ended it yet (its settings are still on the Powerwall)."""
        return self.ended_at is None and now >= self.end
