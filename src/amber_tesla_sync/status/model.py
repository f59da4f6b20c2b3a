"""What the ``status`` and ``history`` views receive: plain data, no I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class Run(Protocol):
    """One recorded sync run, as this view reads it."""

    @property
    def started_at(self) -> dt.datetime: ...
    @property
    def outcome(self) -> str: ...
    @property
    def pushed(self) -> bool: ...
    @property
    def reason(self) -> str: ...
    @property
    def fingerprint(self) -> str | None: ...
    @property
    def error(self) -> str | None: ...
    @property
    def exit_code(self) -> int: ...


PricePoint = tuple[dt.datetime, int, str, float]  # start, minutes, kind, buy price (c/kWh)


@dataclass(frozen=True)
class SiteHistory:
    """What ``history`` shows for one site: its runs and prices since a time, and its zone."""

    key: str
    zone: dt.tzinfo
    runs: Sequence[Run]
    prices: Sequence[PricePoint]
