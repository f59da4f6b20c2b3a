"""A typed view of ``site_info``: the fields this tool reads, tolerant of missing ones."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class SiteInfo:
    info: Mapping[str, Any]

    @property
    def tariff(self) -> Any:
        return self.info.get("tariff_content_v2")

    @property
    def time_zone(self) -> str | None:
        return _text(self.info.get("installation_time_zone"))

    @property
    def mode(self) -> str | None:
        return _text(self.info.get("default_real_mode"))

    @property
    def strategy(self) -> str | None:
        """``optimization_strategy`` where the site reports it (not every response does)."""
        settings = self.info.get("tou_settings")
        return (
            _text(settings.get("optimization_strategy")) if isinstance(settings, Mapping) else None
        )

    @property
    def components(self) -> Mapping[str, Any]:
        found = self.info.get("components")
        return found if isinstance(found, Mapping) else {}

    @property
    def export_rule(self) -> str | None:
        return _text(self.components.get("customer_preferred_export_rule"))

    @property
    def tou_capable(self) -> bool:
        return self.components.get("tou_capable") is not False
