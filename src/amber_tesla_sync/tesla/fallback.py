"""Fleet first, Teslemetry when Fleet cannot serve: both reach the same Powerwall.

With both backends configured (``tesla.backend = "auto"``), a Fleet failure that Teslemetry can
route around moves the rest of the run to Teslemetry: a rejected or expired login (the browser is
needed again), a server error, a timeout or dropped connection (after the usual retries), billing
switched off (402) or a rate limit (429). Failures that Teslemetry would meet too (an unknown
site, a command the Powerwall refuses) are not retried. :attr:`FallbackConnection.fleet_error`
says why Fleet was left, for the outcome and the notifications.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from amber_tesla_sync.errors import AppError, AuthError, UnavailableError
from amber_tesla_sync.tesla.connection import TeslaConnection

log = logging.getLogger(__name__)


class FallbackConnection:
    def __init__(self, primary: TeslaConnection, secondary: TeslaConnection) -> None:
        self.primary = primary
        self.secondary = secondary
        self.active = primary
        self.fleet_error: AppError | None = None
        self.primary_worked = False

    @property
    def backend(self) -> str:
        return self.active.backend

    @property
    def name(self) -> str:
        return self.active.name

    @property
    def requests(self) -> Counter[str]:
        return self.primary.requests + self.secondary.requests

    def call(self, method: str, path: str, body: Any = None) -> Any:
        if self.active is self.primary:
            try:
                result = self.primary.call(method, path, body)
            except (AuthError, UnavailableError) as error:
                log.warning(
                    "%s failed (%s); falling back to %s for the rest of this run",
                    self.primary.name,
                    error.message,
                    self.secondary.name,
                )
                self.fleet_error = error
                self.active = self.secondary
            else:
                self.primary_worked = True
                return result
        return self.secondary.call(method, path, body)
