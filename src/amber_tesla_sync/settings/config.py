"""Settings in ``config.toml``: pydantic models, load (tomllib), keys and their descriptions.

Saving (which keeps the user's comments and layout) is in :mod:`amber_tesla_sync.settings.edit`.

The file holds settings only, never secrets. No file at all means "all defaults", which is fine for
commands that need nothing from it (such as an offline ``tariff`` preview).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from amber_tesla_sync.errors import ConfigError
from amber_tesla_sync.settings.config_path import (
    APP_NAME,
    CONFIG_ENV,
    default_config_path,
    resolve_config_path,
)
from amber_tesla_sync.support.masking import masked_settings, masked_value

__all__ = ["APP_NAME", "CONFIG_ENV", "default_config_path", "resolve_config_path"]

ForecastPrice = Literal["predicted", "low", "high", "per_kwh"]
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
        default="predicted", description="forecast price used: predicted, low, high or per_kwh"
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


class TariffSettings(_Section):
    allow_sell_above_buy: bool = Field(
        default=False, description="let a slot's sell price exceed its buy price"
    )
    max_gap_slots: int = Field(
        default=4, ge=0, le=48, description="missing slots per channel that may be filled"
    )
    # each channel's own data must reach this far ahead (tariff.model.MIN_HORIZON_HOURS says why)
    min_horizon_hours: float = Field(
        default=12.0, ge=0, le=24, description="hours ahead each channel's data must reach"
    )
    expect_feed_in: bool | None = Field(  # None: learn it from Amber's site list and earlier runs
        default=None, description="whether the site has a feed-in channel (default: learnt)"
    )


class SyncSettings(_Section):
    """Options of ``sync``: when a new tariff is worth pushing, checks, export curtailment."""

    near_term_hours: float = Field(
        default=2.0, gt=0, le=24, description="hours ahead that count as near term"
    )
    near_tolerance_cents: float = Field(
        default=0.75, ge=0, le=100, description="c/kWh move that pushes a near-term slot"
    )
    far_tolerance_cents: float = Field(
        default=2.0, ge=0, le=100, description="c/kWh move that pushes a later slot"
    )
    current_tolerance_cents: float = Field(
        default=2.0, ge=0, le=100, description="c/kWh move that pushes the current half-hour"
    )
    settle_minutes: int = Field(
        default=10, ge=0, le=120, description="after a push, only big moves count this long"
    )
    reassert_after_minutes: int = Field(
        default=120, ge=5, le=7 * 24 * 60, description="push again after this long regardless"
    )
    check_remote_every_minutes: int = Field(
        default=60,
        ge=5,
        le=7 * 24 * 60,
        description="read the Powerwall's settings at most this often",
    )
    verify_seconds: float = Field(
        default=30.0, ge=0, le=120, description="how long to read a push back until it matches"
    )
    max_clock_skew_minutes: float = Field(
        default=5.0, ge=1, le=60, description="refuse when the clock is further off than this"
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


class SiteLink(_Section):
    """One Amber site and the Powerwall it drives (for more than one site)."""

    name: str | None = Field(default=None, min_length=1)
    amber_site_id: str = Field(min_length=1)
    energy_site_id: int = Field(gt=0)
    timezone: TimeZoneName | None = None


class Config(_Section):
    amber: AmberSettings = Field(default_factory=AmberSettings)
    tesla: TeslaSettings = Field(default_factory=TeslaSettings)
    site: SiteSettings = Field(default_factory=SiteSettings)
    tariff: TariffSettings = Field(default_factory=TariffSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    secrets: SecretsSettings = Field(default_factory=SecretsSettings)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    sites: list[SiteLink] = Field(default_factory=list)


def check_timezone(name: str) -> ZoneInfo:
    """Return the zone called ``name`` or raise ``ValueError`` saying what is expected."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"{name!r} is not a known IANA time zone (expected e.g. 'Australia/Sydney')"
        ) from exc


@dataclass
class LoadedConfig:
    """A configuration file as found on disk: its path, its raw table and the validated model."""

    path: Path
    exists: bool
    raw: dict[str, Any]
    config: Config
    text: str = ""


def load_config(path: Path) -> LoadedConfig:
    """Read and validate ``path``; a missing file gives the defaults."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LoadedConfig(path=path, exists=False, raw={}, config=Config())
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the configuration file {path}: {exc}",
            "check the path and its permissions, or pass another file with --config",
        ) from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"the configuration file {path} is not valid TOML: {exc}",
            f"fix the line it names (`{APP_NAME} config keys` lists every key)",
        ) from exc
    config = validate_config(raw, path, text)
    return LoadedConfig(path=path, exists=True, raw=raw, config=config, text=text)


def validate_config(raw: dict[str, Any], path: Path, text: str = "") -> Config:
    try:
        return Config.model_validate(raw, strict=True)
    except ValidationError as exc:
        raise ConfigError(
            f"the configuration file {path} is invalid:\n" + describe_errors(exc, text),
            "fix the key(s) named above (`amber-tesla-sync config keys` lists every key), "
            "or set them with `amber-tesla-sync config set KEY VALUE`",
        ) from exc


def describe_errors(exc: ValidationError, text: str = "") -> str:
    """One line per problem: where (line N, when the file text is known), the key, what is
    expected, and for an unknown key the nearest known one."""
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(part) for part in loc)
        line = line_of(text, loc) if text else None
        where = f"line {line}: " if line else ""
        if err["type"] == "extra_forbidden":
            section = _model_at(loc[:-1])
            known = list(section.model_fields) if section is not None else []
            guess = did_you_mean(str(loc[-1]), known)
            detail = f" — did you mean {guess!r}?" if guess else ""
            lines.append(f"  - {where}unknown key {key!r}{detail} (known here: {', '.join(known)})")
        else:
            message = err["msg"].removeprefix("Value error, ")
            got = masked_value(key, err["input"])  # a notification URL is never quoted whole
            lines.append(f"  - {where}key {key!r}: {message} (got {got!r})")
    return "\n".join(lines)


def did_you_mean(word: str, choices: list[str]) -> str | None:
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return found[0] if found else None


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?")
_KEY = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*=")


def line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the key at ``loc`` (``("tariff", "max_gap_slots")``, or
    ``("sites", 1, "timezone")`` for the second ``[[sites]]``) in TOML ``text``, if found."""
    names = [str(part) for part in loc if not isinstance(part, int)]
    index = next((part for part in loc if isinstance(part, int)), 0)
    table: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = header.group(2).split(".")
            if header.group(1) == "[[":
                seen[header.group(2)] = seen.get(header.group(2), -1) + 1
            if table == names and (header.group(1) == "[" or seen[header.group(2)] == index):
                return number
            continue
        key = _KEY.match(line)
        if key is None:
            continue
        if header_matches(table, seen, names[:-1], index) and key.group(1) == names[-1]:
            return number
        if not table and key.group(1).split(".") == names:
            return number
    return None


def header_matches(table: list[str], seen: dict[str, int], names: list[str], index: int) -> bool:
    if table != names:
        return False
    joined = ".".join(table)
    return joined not in seen or seen[joined] == index


def _model_at(path: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class found by following ``path`` (field names, list indexes) from Config."""
    model: type[BaseModel] = Config
    for part in path:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        annotation = field.annotation if field is not None else None
        if get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _section_model(name: str) -> type[BaseModel] | None:
    field = Config.model_fields.get(name)
    if field is None or not isinstance(field.annotation, type):
        return None
    return field.annotation if issubclass(field.annotation, BaseModel) else None


@dataclass(frozen=True)
class KeyInfo:
    key: str
    default: Any
    description: str


def key_infos() -> list[KeyInfo]:
    """Every settable key with its default and a one-line description."""
    infos: list[KeyInfo] = []
    for section_name in Config.model_fields:
        section = _section_model(section_name)
        if section is None:
            continue
        for name, field in section.model_fields.items():
            default = field.get_default(call_default_factory=True)
            infos.append(KeyInfo(f"{section_name}.{name}", default, field.description or ""))
    return infos


def known_keys() -> list[str]:
    """Every settable key, dotted (``tariff.max_gap_slots``)."""
    return [info.key for info in key_infos()]


def split_key(key: str) -> tuple[str, str, Any]:
    """``section``, ``field`` and the field's type of a dotted key, or a ConfigError with the
    nearest known key."""
    section_name, _, field_name = key.partition(".")
    section = _section_model(section_name)
    if section is None or field_name not in section.model_fields:
        guess = did_you_mean(key, known_keys())
        raise ConfigError(
            f"unknown configuration key {key!r}" + (f" — did you mean {guess!r}?" if guess else ""),
            f"`{APP_NAME} config keys` lists every key",
        )
    return section_name, field_name, section.model_fields[field_name].annotation


def get_value(config: Config, key: str) -> Any:
    """The effective value of ``key`` (its default when the file does not set it)."""
    section_name, field_name, _ = split_key(key)
    return getattr(getattr(config, section_name), field_name)


def set_value(loaded: LoadedConfig, key: str, text: str) -> Config:
    """Set ``key`` from its command-line text; validate the whole file; save it atomically."""
    from amber_tesla_sync.settings.edit import set_value as edit_set

    return edit_set(loaded, key, text)


def unset_value(loaded: LoadedConfig, key: str) -> Config:
    """Remove ``key`` from the file so that its default applies again."""
    from amber_tesla_sync.settings.edit import unset_value as edit_unset

    return edit_unset(loaded, key)


def update_config(loaded: LoadedConfig, updates: dict[str, Any]) -> LoadedConfig:
    """Set already-typed values (``{"amber.site_id": "…"}``), validate, save atomically."""
    from amber_tesla_sync.settings.edit import update_config as edit_update

    return edit_update(loaded, updates)


def effective_data(config: Config) -> dict[str, Any]:
    """The configuration as shown: every default filled in (unset keys are omitted), every
    notification URL masked (the file holds the real ones)."""
    data = config.model_dump(exclude_none=True, mode="json")
    if not data.get("sites"):
        data.pop("sites", None)
    return masked_settings(data)


def effective_toml(config: Config) -> str:
    """:func:`effective_data` as TOML."""
    import tomli_w

    return tomli_w.dumps(effective_data(config))
