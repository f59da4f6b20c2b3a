"""The sandbox clock: real time by default, settable and advanceable for tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any


def _real_now() -> datetime:
    return datetime.now(UTC)


class SandboxClock:
    """A callable returning an aware UTC datetime.

    ``set(when)`` freezes the clock at ``when`` (``running=True`` lets it run on from there);
    ``advance`` moves it forward; ``use_real_time`` returns to the source clock.
    """

    def __init__(self, source: Callable[[], datetime] | None = None) -> None:
        self._source = source or _real_now
        self._fixed: datetime | None = None
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        return self.now()

    def now(self) -> datetime:
        """The current sandbox time (aware, UTC)."""
        with self._lock:
            base = self._fixed if self._fixed is not None else self._source()
            offset = self._offset
        if base.tzinfo is None:
            raise ValueError("the sandbox clock source must return an aware datetime")
        return (base + offset).astimezone(UTC)

    def set(self, when: datetime, *, running: bool = False) -> None:
        """Jump to ``when`` (aware); frozen unless ``running``."""
        if when.tzinfo is None:
            raise ValueError("the sandbox clock needs an aware datetime")
        with self._lock:
            if running:
                self._fixed = None
                self._offset = when - self._source()
            else:
                self._fixed = when.astimezone(UTC)
                self._offset = timedelta(0)

    def advance(self, delta: float | timedelta) -> datetime:
        """Move the clock forward by ``delta`` (seconds or a timedelta); returns the new time."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        with self._lock:
            if self._fixed is not None:
                self._fixed += step
            else:
                self._offset += step
        return self.now()

    def use_real_time(self) -> None:
        """Follow the source clock again."""
        with self._lock:
            self._fixed = None
            self._offset = timedelta(0)

    def describe(self) -> dict[str, Any]:
        """The clock's state as JSON."""
        with self._lock:
            frozen = self._fixed is not None
            offset = self._offset.total_seconds()
        return {"now": self.now().isoformat(), "frozen": frozen, "offset_seconds": offset}
