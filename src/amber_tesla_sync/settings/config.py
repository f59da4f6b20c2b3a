"""Settings in ``config.toml``: the pydantic models of its sections, their defaults, bounds and
descriptions.

Loading the file is in :mod:`amber_tesla_sync.settings.load`, the keys and their descriptions in
:mod:`amber_tesla_sync.settings.keys`, saving (which keeps the user's comments and layout) in
:mod:`amber_tesla_sync.settings.edit`.

The file holds settings only, never secrets. No file at all means "all defaults", which is fine for
commands that need nothing from it (such as an offline ``tariff`` preview).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from amber_tesla_sync.support.times import check_timezone
from amber_tesla_sync.tariff.demand import WINDOW_PATTERN, parse_window
from amber_tesla_sync.tariff.model import (
    CLOCK_SLACK_MINUTES,
    FORECAST_PRICE,
    MAX_GAP_SLOTS,
    MIN_HORIZON_HOURS,
    DemandDays,
    DemandOptions,
    ForecastPrice,
)

Backend = Literal["auto", "fleet", "teslemetry"]


def _zone_name(value: str) -> str:
    check_timezone(value)
    return value


TimeZoneName = Annotated[str, AfterValidator(_zone_name)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


AMBER_API = "https://api.amber.com.au/v1"
FLEET_AUTHORIZE_URL = "https://auth.tesla.com/oauth2/v3/authorize"
FLEET_TOKEN_URL = "https://fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token"
FLEET_API_NA = "https://fleet-api.prd.na.vn.cloud.tesla.com"
TESLEMETRY_API = "https://api.teslemetry.com"
REDIRECT_URI = "http://localhost:58585/callback"


class AmberSettings(_Section):
    site_id: str | None = Field(
        default=None, min_length=1, description="the Amber site to price (`login amber` sets it)"
    )
    forecast_price: ForecastPrice = Field(
        default=FORECAST_PRICE, description="forecast price used: predicted, low, high or per_kwh"
    )
    base_url: str = Field(
        default=AMBER_API, pattern=r"^https?://", description="Amber's API (or the sandbox's)"
    )


class TeslaSettings(_Section):
    backend: Backend = Field(
        default="auto", description="fleet, teslemetry, or auto (Fleet when logged in)"
    )
    energy_site_id: int | None = Field(
        default=None, gt=0, description="the Powerwall's energy site id (`login` sets it)"
    )
    client_id: str | None = Field(
        default=None, min_length=1, description="your Fleet API app's client id"
    )
    redirect_uri: str = Field(
        default=REDIRECT_URI,
        pattern=r"^http://(localhost|127\.0\.0\.1):\d+/",
        description="the Fleet app's redirect URI; `login fleet` listens at its port",
    )
    authorize_url: str = Field(
        default=FLEET_AUTHORIZE_URL, pattern=r"^https?://", description="Tesla's sign-in page"
    )
    token_url: str = Field(
        default=FLEET_TOKEN_URL, pattern=r"^https?://", description="Tesla's token endpoint"
    )
    fleet_api_url: str = Field(
        default=FLEET_API_NA,
        pattern=r"^https?://",
        description="the Fleet API host of your region (`login fleet` sets it)",
    )
    teslemetry_url: str = Field(
        default=TESLEMETRY_API, pattern=r"^https?://", description="Teslemetry's API"
    )
    domain: str | None = Field(
        default=None, min_length=1, description="the domain serving your public key (Fleet)"
    )


SecretStoreKind = Literal["keyring", "file"]


class SecretsSettings(_Section):
    store: SecretStoreKind = Field(
        default="keyring", description="keyring (the OS keyring) or file (secrets.json, 0600)"
    )


class NetworkSettings(_Section):
    timeout_seconds: float = Field(
        default=20.0, gt=0, le=300, description="seconds before a request times out"
    )
    attempts: int = Field(
        default=3, ge=1, le=10, description="attempts per request on transient failures"
    )
    backoff_seconds: float = Field(
        default=1.0, ge=0, le=60, description="first pause between attempts (doubles)"
    )


class SiteSettings(_Section):
    timezone: TimeZoneName | None = Field(
        default=None, description="IANA time zone override (default: the Powerwall's)"
    )
    name: str | None = Field(
        default=None,
        min_length=1,
        description="the site's name in messages (default: Amber's NMI, else its site id)",
    )


class TariffSettings(_Section):
    allow_sell_above_buy: bool = Field(
        default=False, description="let a slot's sell price exceed its buy price"
    )
    max_gap_slots: int = Field(
        default=MAX_GAP_SLOTS,
        ge=0,
        le=48,
        description="missing slots per channel that may be filled",
    )
    # each channel's own data must reach this far ahead (tariff.model.MIN_HORIZON_HOURS says why)
    min_horizon_hours: float = Field(
        default=MIN_HORIZON_HOURS,
        ge=0,
        le=24,
        description="hours ahead each channel's data must reach",
    )
    expect_feed_in: bool | None = Field(  # None: learn it from Amber's site list and earlier runs
        default=None, description="whether the site has a feed-in channel (default: learnt)"
    )


def _demand_window(value: object) -> object:
    if isinstance(value, str):
        parse_window(value)  # a ValueError that names the expected form (before the pattern)
    return value


DemandWindow = Annotated[str, BeforeValidator(_demand_window)]


class DemandSettings(_Section):
    """A network demand tariff (a charge per kW of the highest import in a daily window): the
    pushed tariff carries the charge in the window's slots (tariff/demand.py says which)."""

    charge_per_kw: float | None = Field(
        default=None,
        gt=0,
        le=1000,
        description="the demand charge in $/kW, pushed in the window's slots (unset: off)",
    )
    window: DemandWindow | None = Field(
        default=None,
        pattern=WINDOW_PATTERN,
        description="the window where Amber marks none: HH:MM-HH:MM local, on the half-hour",
    )
    days: DemandDays = Field(
        default="all", description="the days demand.window applies: all or weekdays"
    )

    def options(self) -> DemandOptions | None:
        """The fold's demand options; None while no charge is set."""
        if self.charge_per_kw is None:
            return None
        window = parse_window(self.window) if self.window is not None else None
        return DemandOptions(self.charge_per_kw, window, self.days)


class SyncSettings(_Section):
    """Options of ``sync``: when a new tariff is worth pushing, checks, export curtailment."""

    near_term_hours: float = Field(
        default=2.0, gt=0, le=24, description="hours ahead that count as near term"
    )
    near_tolerance_cents: float = Field(
        default=0.45, ge=0, le=100, description="c/kWh move that pushes a near-term slot"
    )
    far_tolerance_cents: float = Field(
        default=2.0, ge=0, le=100, description="c/kWh past a price boundary that pushes"
    )
    current_tolerance_cents: float = Field(
        default=0.5,
        ge=0,
        le=100,
        description="c/kWh move that pushes the current half-hour (growing as it runs out)",
    )
    settle_minutes: int = Field(
        default=10, ge=0, le=120, description="after a push, only big moves count this long"
    )
    reassert_after_minutes: int = Field(
        default=120, ge=5, le=7 * 24 * 60, description="push again after this long regardless"
    )
    check_remote_every_minutes: int = Field(
        default=120,
        ge=5,
        le=7 * 24 * 60,
        description="read the Powerwall's settings at most this often",
    )
    read_back_every_push: bool = Field(
        default=False,
        description="read every push back in its own run (else routine ones at the next check)",
    )
    verify_seconds: float = Field(
        default=30.0, ge=0, le=120, description="how long to read a push back until it matches"
    )
    max_clock_skew_minutes: float = Field(
        default=CLOCK_SLACK_MINUTES,
        ge=1,
        le=60,
        description="refuse when the clock is further off than this",
    )
    ensure_autonomous: bool = Field(
        default=False, description="switch the Powerwall to Time-Based Control"
    )
    ensure_battery_export: bool = Field(
        default=False,
        description="set the export rule to battery_ok (the owner's rule is restored when off)",
    )
    curtail_exports: bool = Field(
        default=False, description="stop exports while exporting costs money"
    )
    curtail_rule: Literal["never", "pv_only"] = Field(
        default="never", description="export rule while curtailing: never or pv_only"
    )
    curtail_above_cents: float = Field(
        default=1.0, ge=0, le=100, description="curtail when exporting costs more (c/kWh)"
    )
    restore_below_cents: float = Field(
        default=1.0, ge=0, le=100, description="restore when exporting pays more (c/kWh)"
    )
    curtail_dwell_minutes: int = Field(
        default=30, ge=0, le=24 * 60, description="keep a curtailment change at least this long"
    )
    curtail_override_cents: float = Field(
        default=10.0, ge=0, le=1000, description="this far past a threshold, ignore the dwell"
    )


class NotifySettings(_Section):
    """Who hears of problems: Apprise URLs (state changes only) and a dead man's switch."""

    urls: list[str] = Field(
        default_factory=list,
        description="Apprise URLs, told of changes; set as an array: '[\"ntfy://…\"]'",
    )
    healthcheck_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="dead man's switch: pinged at start, on success and (URL/fail) on failure",
    )
    refusal_after_minutes: int = Field(
        default=120, ge=0, le=7 * 24 * 60, description="tell of a refusal that lasts this long"
    )
    failure_after_minutes: int = Field(
        default=10, ge=0, le=7 * 24 * 60, description="tell of a failure that lasts this long"
    )


class MqttSettings(_Section):
    """Every sync's figures on an MQTT broker (retained), with Home Assistant discovery. Off
    while ``url`` is unset; needs the ``[mqtt]`` extra (paho-mqtt)."""

    url: str | None = Field(
        default=None,
        pattern=r"^mqtts?://[^/?#@\s]+/?$",
        description="the broker: mqtt://host:1883, or mqtts://host:8883 for TLS (unset: off)",
    )
    username: str | None = Field(
        default=None,
        min_length=1,
        description="the broker login; its password is the secret mqtt_password (MQTT_PASSWORD)",
    )
    ca_file: str | None = Field(
        default=None,
        min_length=1,
        description="PEM file of a private CA for mqtts:// (default: the system's CAs)",
    )
    topic_prefix: str = Field(
        default="amber-tesla-sync",
        pattern=r"^[^#+\s/][^#+\s]*$",
        description="first level of the topics: PREFIX/<Amber site id>/state, …",
    )
    discovery: bool = Field(default=True, description="publish Home Assistant discovery configs")
    discovery_prefix: str = Field(
        default="homeassistant",
        pattern=r"^[^#+\s/][^#+\s]*$",
        description="Home Assistant's MQTT discovery prefix",
    )
    expire_after_minutes: int = Field(
        default=15,
        ge=1,
        le=24 * 60,
        description="Home Assistant shows the values unavailable after this long without a sync",
    )


class MetricsSettings(_Section):
    """Every sync's figures for Prometheus, through node_exporter's textfile collector."""

    textfile: str | None = Field(
        default=None,
        pattern=r"\.prom$",
        description="a .prom file in node_exporter's textfile directory (unset: off)",
    )


class HistorySettings(_Section):
    """What the history database keeps (``sync`` prunes it as it records)."""

    keep_days: int = Field(
        default=60, ge=0, le=36500, description="days of runs and prices kept (0: for ever)"
    )


class SiteLink(_Section):
    """One Amber site and the Powerwall it drives (for more than one site)."""

    name: str | None = Field(
        default=None, min_length=1, description="the site's name in messages (default: its NMI)"
    )
    amber_site_id: str = Field(min_length=1)
    energy_site_id: int = Field(gt=0)
    timezone: TimeZoneName | None = None


class Config(_Section):
    amber: AmberSettings = Field(default_factory=AmberSettings)
    tesla: TeslaSettings = Field(default_factory=TeslaSettings)
    site: SiteSettings = Field(default_factory=SiteSettings)
    tariff: TariffSettings = Field(default_factory=TariffSettings)
    demand: DemandSettings = Field(default_factory=DemandSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    secrets: SecretsSettings = Field(default_factory=SecretsSettings)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    history: HistorySettings = Field(default_factory=HistorySettings)
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    sites: list[SiteLink] = Field(default_factory=list)
