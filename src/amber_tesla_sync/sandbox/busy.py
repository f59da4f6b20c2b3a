"""Requests about each Powerwall being answered at once: what shows whether a client ran two
things against one Powerwall at the same time."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator


class PowerwallBusy:
    """How many requests about each Powerwall are being answered at once (a delay fault
    included), and the most there ever were: what shows whether a client ran two things
    against one Powerwall at the same time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now: dict[str, int] = {}
        self.most: dict[str, int] = {}

    @contextlib.contextmanager
    def serving(self, path: str) -> Iterator[None]:
        match = POWERWALL_PATH.search(path)
        if match is None:
            yield
            return
        site = match.group(1)
        with self._lock:
            self.now[site] = self.now.get(site, 0) + 1
            self.most[site] = max(self.most.get(site, 0), self.now[site])
        try:
            yield
        finally:
            with self._lock:
                self.now[site] -= 1


POWERWALL_PATH = re.compile(r"/api/1/energy_sites/([^/]+)/")
