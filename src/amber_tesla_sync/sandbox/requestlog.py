"""Log of the requests the sandbox answered, with counts for tests and benchmarks."""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass
from typing import Any

FLEET_DATA_USD = 1.0 / 500
FLEET_COMMAND_USD = 1.0 / 1000


@dataclass(frozen=True)
class LogEntry:
    """One answered (or dropped) request. Never holds credentials."""

    seq: int
    at: str
    method: str
    path: str
    service: str
    status: int
    token_kind: str
    category: str
    fault: str | None
    params: dict[str, str] | None = None  # only the Amber paging parameters (no secrets)


# query parameters worth logging: how much of Amber's data a client asked for
LOGGED_PARAMS = ("next", "previous", "resolution", "startDate", "endDate")


class RequestLog:
    """Keeps the most recent entries and running counts."""

    def __init__(self, keep: int = 20_000) -> None:
        self._entries: deque[LogEntry] = deque(maxlen=keep)
        self._lock = threading.Lock()
        self._seq = 0
        self._total = 0
        self._by_path: Counter[str] = Counter()
        self._by_service: Counter[str] = Counter()
        self._by_token: Counter[str] = Counter()
        self._by_status: Counter[str] = Counter()
        self._by_category: Counter[str] = Counter()
        self._billable: Counter[str] = Counter()

    def add(
        self,
        *,
        at: str,
        method: str,
        path: str,
        service: str,
        status: int,
        token_kind: str,
        category: str,
        fault: str | None,
        params: dict[str, str] | None = None,
    ) -> None:
        """Record one request."""
        with self._lock:
            self._seq += 1
            self._total += 1
            self._entries.append(
                LogEntry(
                    self._seq,
                    at,
                    method,
                    path,
                    service,
                    status,
                    token_kind,
                    category,
                    fault,
                    params or None,
                )
            )
            self._by_path[f"{method} {path}"] += 1
            self._by_service[service] += 1
            self._by_token[token_kind] += 1
            self._by_status[str(status)] += 1
            self._by_category[f"{service}:{category}"] += 1
            if service == "fleet" and category in ("data", "command") and 0 < status < 500:
                self._billable[category] += 1

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._total = 0
            for counter in (
                self._by_path,
                self._by_service,
                self._by_token,
                self._by_status,
                self._by_category,
                self._billable,
            ):
                counter.clear()

    def entries(self) -> list[dict[str, Any]]:
        """The kept entries, oldest first."""
        with self._lock:
            return [asdict(e) for e in self._entries]

    def counts(self) -> dict[str, Any]:
        """Counts by path, service, token kind, status and category, and the Fleet API bill."""
        with self._lock:
            data = self._billable["data"]
            commands = self._billable["command"]
            return {
                "total": self._total,
                "by_path": dict(self._by_path),
                "by_service": dict(self._by_service),
                "by_token_kind": dict(self._by_token),
                "by_status": dict(self._by_status),
                "by_category": dict(self._by_category),
                "fleet_billing": {
                    "data_requests": data,
                    "command_requests": commands,
                    "usd": round(data * FLEET_DATA_USD + commands * FLEET_COMMAND_USD, 6),
                },
            }
