"""Fixed-window request limits measured on the sandbox clock."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

UNLIMITED = 1_000_000_000


@dataclass(frozen=True)
class Decision:
    """The outcome of counting one request."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int


class FixedWindowLimiter:
    """At most ``limit`` requests per ``window`` per key; the window opens at the first request."""

    def __init__(self, limit: int | None, window_seconds: int) -> None:
        self._limit = limit
        self._window = timedelta(seconds=window_seconds)
        self._windows: dict[str, tuple[datetime, int]] = {}
        self._lock = threading.Lock()

    @property
    def window_seconds(self) -> int:
        """Length of a window in seconds."""
        return int(self._window.total_seconds())

    @property
    def limit(self) -> int | None:
        """Requests allowed per window; None when unlimited."""
        return self._limit

    def set_limit(self, limit: int | None) -> None:
        """Change the limit (None = unlimited) and forget the current windows."""
        with self._lock:
            self._limit = limit
            self._windows.clear()

    def reset(self) -> None:
        """Forget the current windows."""
        with self._lock:
            self._windows.clear()

    def hit(self, key: str, now: datetime) -> Decision:
        """Count one request for ``key`` at ``now``."""
        limit = UNLIMITED if self._limit is None else self._limit
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now >= start + self._window or now < start:
                start, count = now, 0
            reset = max(0, int((start + self._window - now).total_seconds() + 0.999))
            if count >= limit:
                self._windows[key] = (start, count)
                return Decision(False, limit, 0, reset)
            count += 1
            self._windows[key] = (start, count)
            return Decision(True, limit, limit - count, reset)
