"""The Tesla energy endpoints this tool uses, over a Fleet or Teslemetry connection."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from amber_tesla_sync.errors import AppError
from amber_tesla_sync.tesla.models import LiveStatus, Product, SiteInfo


class Connection(Protocol):
    """What callers use of a Tesla connection (:class:`~amber_tesla_sync.tesla.connection.
    TeslaConnection`, or :class:`~amber_tesla_sync.tesla.fallback.FallbackConnection`)."""

    @property
    def backend(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def requests(self) -> Counter[str]: ...

    @property
    def fleet_error(self) -> AppError | None:
        """Why this run left the Fleet API for Teslemetry (None: it did not)."""

    @property
    def primary_worked(self) -> bool:
        """The Fleet API answered in this run before any fallback."""

    def call(self, method: str, path: str, body: Any = None) -> Any: ...


@dataclass(frozen=True)
class EnergySite:
    id: int
    name: str
    resource_type: str


class TeslaApi:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @property
    def backend(self) -> str:
        return self.connection.backend

    def region(self) -> dict[str, Any]:
        return _object(self.connection.call("GET", "/api/1/users/region"))

    def energy_sites(self) -> list[EnergySite]:
        answer = self.connection.call("GET", "/api/1/products")
        products = (
            [Product.parse(item) for item in answer if isinstance(item, dict)]
            if isinstance(answer, list)
            else []
        )
        return [
            EnergySite(
                id=product.energy_site_id,
                name=product.site_name or "(unnamed)",
                resource_type=product.resource_type or "",
            )
            for product in products
            if product.energy_site_id is not None
        ]

    def site(self, site_id: int) -> SiteInfo:
        """``site_info``, typed."""
        return SiteInfo.parse(self.site_info(site_id))

    def site_info(self, site_id: int) -> dict[str, Any]:
        """``site_info`` as received (:meth:`site` is the typed one)."""
        return _object(self.connection.call("GET", f"/api/1/energy_sites/{site_id}/site_info"))

    def live_status(self, site_id: int) -> LiveStatus:
        return LiveStatus.parse(
            self.connection.call("GET", f"/api/1/energy_sites/{site_id}/live_status")
        )

    def energy_history(self, site_id: int, day: dt.date, zone: str) -> dict[str, Any]:
        """``calendar_history`` (kind ``energy``, period ``day``) of one local day: Wh per
        5-minute bucket. Dates are sent with the site's offset so the day is not shifted."""
        tz = ZoneInfo(zone)
        start = dt.datetime.combine(day, dt.time(0, 0), tz)
        end = dt.datetime.combine(day, dt.time(23, 59, 59), tz)
        query = urllib.parse.urlencode(
            {
                "kind": "energy",
                "period": "day",
                "start_date": start.isoformat(),
                "end_date": end.isoformat(),
                "time_zone": zone,
            }
        )
        path = f"/api/1/energy_sites/{site_id}/calendar_history?{query}"
        return _object(self.connection.call("GET", path))

    def set_time_of_use(self, site_id: int, body: dict[str, Any]) -> Any:
        """Push a tariff. Sent once: an answer lost after sending (a timeout, a dropped
        connection, a 504, an unreadable 2xx) raises :class:`~amber_tesla_sync.tesla.lost.
        AnswerLost` and is never retried here; the caller reads the tariff back instead."""
        return self.connection.call(
            "POST", f"/api/1/energy_sites/{site_id}/time_of_use_settings", body
        )

    def set_operation(self, site_id: int, mode: str) -> Any:
        return self.connection.call(
            "POST", f"/api/1/energy_sites/{site_id}/operation", {"default_real_mode": mode}
        )

    def set_backup_reserve(self, site_id: int, percent: float) -> Any:
        """The backup reserve (%): the battery does not discharge below it (firmware from
        25.18.4 takes 81-99 % as 80 %)."""
        value: int | float = int(percent) if float(percent).is_integer() else percent
        return self.connection.call(
            "POST", f"/api/1/energy_sites/{site_id}/backup", {"backup_reserve_percent": value}
        )

    def set_grid_import_export(
        self,
        site_id: int,
        export_rule: str | None = None,
        disallow_grid_charging: bool | None = None,
    ) -> Any:
        body: dict[str, Any] = {}
        if export_rule is not None:
            body["customer_preferred_export_rule"] = export_rule
        if disallow_grid_charging is not None:
            body["disallow_charge_from_grid_with_solar_installed"] = disallow_grid_charging
        return self.connection.call(
            "POST", f"/api/1/energy_sites/{site_id}/grid_import_export", body
        )

    def metadata(self) -> dict[str, Any]:
        return _object(self.connection.call("GET", "/api/metadata"))

    def register_partner(self, domain: str) -> dict[str, Any]:
        return _object(self.connection.call("POST", "/api/1/partner_accounts", {"domain": domain}))

    def partner_public_key(self, domain: str) -> dict[str, Any]:
        return _object(
            self.connection.call("GET", f"/api/1/partner_accounts/public_key?domain={domain}")
        )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
