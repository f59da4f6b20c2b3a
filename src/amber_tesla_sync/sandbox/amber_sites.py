"""The sandbox's Amber account: its sites, channels and retail price rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from amber_tesla_sync.sandbox.noise import digits, ulid_like

ChannelType = Literal["general", "controlledLoad", "feedIn"]
CHANNEL_ORDER: tuple[ChannelType, ...] = ("general", "controlledLoad", "feedIn")

LOSS_FACTOR = 1.05
"""Spot price → energy component of the retail price (losses)."""
MARKET_FEES_C = 2.6
"""Market and environmental charges, c/kWh incl. GST."""
CONTROLLED_LOAD_NETWORK_C = 4.0


@dataclass(frozen=True)
class Channel:
    """A meter channel of a site."""

    identifier: str
    type: ChannelType
    tariff: str


@dataclass(frozen=True)
class AmberSite:
    """One site of the Amber account."""

    id: str
    nmi: str
    network: str
    status: Literal["pending", "active", "closed"]
    interval_length: Literal[5, 30]
    channels: tuple[Channel, ...]
    region: str
    time_zone: str
    network_tariff: Literal["tou", "demand", "flat"]
    active_from: str
    closed_on: str | None = None
    feed_in_factor: float = 0.96
    flat_network_c: float = 9.0

    def to_json(self) -> dict[str, Any]:
        """The object ``GET /sites`` returns for this site."""
        body: dict[str, Any] = {
            "id": self.id,
            "nmi": self.nmi,
            "channels": [
                {"identifier": c.identifier, "type": c.type, "tariff": c.tariff}
                for c in self.channels
            ],
            "network": self.network,
            "status": self.status,
            "activeFrom": self.active_from,
        }
        if self.closed_on is not None:
            body["closedOn"] = self.closed_on
        body["intervalLength"] = self.interval_length
        return body

    def channel_types(self) -> list[ChannelType]:
        """The site's channel types in the order Amber returns them."""
        present = {c.type for c in self.channels}
        return [t for t in CHANNEL_ORDER if t in present]


def build_sites(seed: int) -> tuple[AmberSite, ...]:
    """The account's sites: a 5-minute NSW site, a 30-minute VIC site and a closed site."""
    return (
        AmberSite(
            id=ulid_like(seed, "amber-site-5min"),
            nmi="41" + digits(seed, "nmi-5min", 8),
            network="Ausgrid",
            status="active",
            interval_length=5,
            channels=(Channel("E1", "general", "EA025"), Channel("B1", "feedIn", "EA029")),
            region="NSW1",
            time_zone="Australia/Sydney",
            network_tariff="tou",
            active_from="2024-03-14",
            feed_in_factor=0.96,
        ),
        AmberSite(
            id=ulid_like(seed, "amber-site-30min"),
            nmi="61" + digits(seed, "nmi-30min", 9),
            network="Jemena",
            status="active",
            interval_length=30,
            channels=(
                Channel("E1", "general", "A100"),
                Channel("E2", "controlledLoad", "A180"),
                Channel("B1", "feedIn", "A100"),
            ),
            region="VIC1",
            time_zone="Australia/Melbourne",
            network_tariff="demand",
            active_from="2023-07-01",
            feed_in_factor=0.953,
            flat_network_c=11.0,
        ),
        AmberSite(
            id=ulid_like(seed, "amber-site-closed"),
            nmi="41" + digits(seed, "nmi-closed", 8),
            network="Ausgrid",
            status="closed",
            interval_length=30,
            channels=(Channel("E1", "general", "EA010"),),
            region="NSW1",
            time_zone="Australia/Sydney",
            network_tariff="flat",
            active_from="2021-02-01",
            closed_on="2024-03-13",
        ),
    )


def extra_sites(seed: int, count: int) -> tuple[AmberSite, ...]:
    """``count`` more active 30-minute NSW sites, each with its own flat network rate (so that
    every site's prices differ from every other's)."""
    return tuple(
        AmberSite(
            id=ulid_like(seed, f"amber-site-extra-{n}"),
            nmi="41" + digits(seed, f"nmi-extra-{n}", 8),
            network="Ausgrid",
            status="active",
            interval_length=30,
            channels=(Channel("E1", "general", "EA010"), Channel("B1", "feedIn", "EA029")),
            region="NSW1",
            time_zone="Australia/Sydney",
            network_tariff="flat",
            active_from="2024-06-01",
            flat_network_c=12.0 + 3.0 * n,
        )
        for n in range(1, count + 1)
    )


_TOU_RATES_C = {"peak": 24.0, "shoulder": 9.5, "offPeak": 5.5}
_SEASONS = {
    12: "summer", 1: "summer", 2: "summer", 3: "autumn", 4: "autumn", 5: "autumn",
    6: "winter", 7: "winter", 8: "winter", 9: "spring", 10: "spring", 11: "spring",
}  # fmt: skip


def _local(site: AmberSite, start: datetime) -> datetime:
    return start.astimezone(ZoneInfo(site.time_zone))


def tou_period(site: AmberSite, start: datetime) -> str:
    """The network time-of-use period of an interval starting at ``start`` (aware)."""
    local = _local(site, start)
    hour = local.hour
    if local.weekday() >= 5:
        return "shoulder" if 7 <= hour < 22 else "offPeak"
    if 15 <= hour < 21:
        return "peak"
    if 7 <= hour < 15 or hour == 21:
        return "shoulder"
    return "offPeak"


def in_demand_window(site: AmberSite, start: datetime) -> bool:
    """True on weekdays 15:00-21:00 local time."""
    local = _local(site, start)
    return local.weekday() < 5 and 15 <= local.hour < 21


def tariff_information(site: AmberSite, channel: ChannelType, start: datetime) -> dict[str, Any]:
    """``tariffInformation`` for an interval (empty when the key is to be omitted).

    As in real bodies: none on feed-in; controlled load carries its period with season
    ``default``; a general channel without a time-of-use or demand network tariff still carries
    ``{"demandWindow": false}``."""
    if channel == "feedIn":
        return {}
    if channel == "controlledLoad":
        return {"period": tou_period(site, start), "season": "default"}
    if site.network_tariff == "tou":
        return {"period": tou_period(site, start), "season": _SEASONS[_local(site, start).month]}
    if site.network_tariff == "demand":
        return {"demandWindow": in_demand_window(site, start)}
    return {"demandWindow": False}


def retail_c(site: AmberSite, channel: ChannelType, spot_c: float, start: datetime) -> float:
    """``perKwh`` (c/kWh incl. GST) for a spot price ``spot_c`` (c/kWh incl. GST)."""
    if channel == "feedIn":
        return -spot_c * site.feed_in_factor
    if channel == "controlledLoad":
        return spot_c * LOSS_FACTOR + CONTROLLED_LOAD_NETWORK_C + MARKET_FEES_C
    if site.network_tariff == "tou":
        network = _TOU_RATES_C[tou_period(site, start)]
    else:
        network = site.flat_network_c
    return spot_c * LOSS_FACTOR + network + MARKET_FEES_C


def descriptor(channel: ChannelType, per_kwh: float, spiking: bool) -> str:
    """Amber's price descriptor; on feed-in it describes earnings (``high`` = good pay)."""
    if spiking:
        return "spike"
    if channel == "feedIn":
        earning = -per_kwh
        if earning < 0:
            return "extremelyLow"
        if earning < 1.5:
            return "veryLow"
        if earning < 5.0:
            return "low"
        return "high"
    if per_kwh < 12.0:
        return "extremelyLow"
    if per_kwh < 28.0:
        return "veryLow"
    if per_kwh < 38.0:
        return "low"
    if per_kwh < 50.0:
        return "neutral"
    if per_kwh < 150.0:
        return "high"
    return "spike"
