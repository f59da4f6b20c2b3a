"""Settings in ``config.toml``: pydantic models, load (tomllib) and save (tomli-w).

The file holds settings only, never secrets. No file at all means "all defaults", which is fine for
commands that need nothing from it (such as an offline ``tariff`` preview).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
import tomli_w
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)

from amber_tesla_sync.errors import ConfigError
from amber_tesla_sync.fsutil import atomic_write_text

APP_NAME = "amber-tesla-sync"
CONFIG_ENV = "AMBER_TESLA_SYNC_CONFIG"

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
    site_id: str | None = Field(default=None, min_length=1)
    forecast_price: ForecastPrice = "predicted"
    base_url: str = Field(default=AMBER_API, pattern=r"^https?://")


class TeslaSettings(_Section):
    backend: Backend = "auto"
    energy_site_id: int | None = Field(default=None, gt=0)
    client_id: str | None = Field(default=None, min_length=1)
    redirect_uri: str = Field(
        default=REDIRECT_URI, pattern=r"^http://(localhost|127\.0\.0\.1):\d+/"
    )
    authorize_url: str = Field(default=FLEET_AUTHORIZE_URL, pattern=r"^https?://")
    token_url: str = Field(default=FLEET_TOKEN_URL, pattern=r"^https?://")
    fleet_api_url: str = Field(default=FLEET_API_NA, pattern=r"^https?://")
    teslemetry_url: str = Field(default=TESLEMETRY_API, pattern=r"^https?://")
    domain: str | None = Field(default=None, min_length=1)


SecretStoreKind = Literal["keyring", "file"]


class SecretsSettings(_Section):
    store: SecretStoreKind = "keyring"


class NetworkSettings(_Section):
    timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    attempts: int = Field(default=3, ge=1, le=10)
    backoff_seconds: float = Field(default=1.0, ge=0, le=60)


class SiteSettings(_Section):
    timezone: TimeZoneName | None = None


class TariffSettings(_Section):
    allow_sell_above_buy: bool = False
    max_gap_slots: int = Field(default=4, ge=0, le=48)
    # each channel's own data must reach this far ahead (tariff.model.MIN_HORIZON_HOURS says why)
    min_horizon_hours: float = Field(default=12.0, ge=0, le=24)
    expect_feed_in: bool | None = None  # None: learn it from Amber's site list and earlier runs


class SyncSettings(_Section):
    """Options of ``sync``: when a new tariff is worth pushing, checks, export curtailment."""

    near_term_hours: float = Field(default=2.0, gt=0, le=24)
    near_tolerance_cents: float = Field(default=0.75, ge=0, le=100)
    far_tolerance_cents: float = Field(default=2.0, ge=0, le=100)
    current_tolerance_cents: float = Field(default=2.0, ge=0, le=100)
    settle_minutes: int = Field(default=10, ge=0, le=120)
    reassert_after_minutes: int = Field(default=120, ge=5, le=7 * 24 * 60)
    check_remote_every_minutes: int = Field(default=60, ge=5, le=7 * 24 * 60)
    verify_seconds: float = Field(default=30.0, ge=0, le=120)
    max_clock_skew_minutes: float = Field(default=5.0, ge=1, le=60)
    ensure_autonomous: bool = False
    ensure_battery_export: bool = False
    curtail_exports: bool = False
    curtail_rule: Literal["never", "pv_only"] = "never"


class NotifySettings(_Section):
    """Who hears of problems: Apprise URLs (state changes only) and a dead man's switch."""

    urls: list[str] = Field(default_factory=list)
    healthcheck_url: str | None = Field(default=None, pattern=r"^https?://")
    refusal_after_minutes: int = Field(default=120, ge=0, le=7 * 24 * 60)


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


def default_config_path() -> Path:
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def resolve_config_path(option: Path | None) -> Path:
    """``--config`` wins, then ``$AMBER_TESLA_SYNC_CONFIG``, then the platform default."""
    if option is not None:
        return option
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    return default_config_path()


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
            "fix the line it names (examples/config.toml documents every key)",
        ) from exc
    return LoadedConfig(path=path, exists=True, raw=raw, config=validate_config(raw, path))


def validate_config(raw: dict[str, Any], path: Path) -> Config:
    try:
        return Config.model_validate(raw, strict=True)
    except ValidationError as exc:
        raise ConfigError(
            f"the configuration file {path} is invalid:\n" + _describe(exc),
            "fix the key(s) named above (examples/config.toml documents every key), "
            "or set them with `amber-tesla-sync config set KEY VALUE`",
        ) from exc


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"])
        if err["type"] == "extra_forbidden":
            section = _model_at(err["loc"][:-1])
            known = ", ".join(section.model_fields) if section is not None else ""
            lines.append(f"  - unknown key {key!r} (known here: {known})")
        else:
            message = err["msg"].removeprefix("Value error, ")
            lines.append(f"  - key {key!r}: {message} (got {err['input']!r})")
    return "\n".join(lines)


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


def known_keys() -> list[str]:
    """Every settable key, dotted (``tariff.max_gap_slots``)."""
    keys: list[str] = []
    for section_name in Config.model_fields:
        section = _section_model(section_name)
        if section is not None:
            keys.extend(f"{section_name}.{key}" for key in section.model_fields)
    return keys


def _split_key(key: str) -> tuple[str, str, Any]:
    section_name, _, field_name = key.partition(".")
    section = _section_model(section_name)
    if section is None or field_name not in section.model_fields:
        raise ConfigError(
            f"unknown configuration key {key!r}",
            "known keys: " + ", ".join(known_keys()),
        )
    return section_name, field_name, section.model_fields[field_name].annotation


def set_value(loaded: LoadedConfig, key: str, text: str) -> Config:
    """Set ``key`` from its command-line text; validate the whole file; save it atomically."""
    section_name, field_name, annotation = _split_key(key)
    try:
        value = TypeAdapter(annotation).validate_python(text)
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise ConfigError(f"invalid value for {key}: {message} (got {text!r})", _NOT_SAVED) from exc
    raw = _copy(loaded.raw)
    raw.setdefault(section_name, {})[field_name] = value
    return _save(loaded.path, raw)


def unset_value(loaded: LoadedConfig, key: str) -> Config:
    """Remove ``key`` from the file so that its default applies again."""
    section_name, field_name, _ = _split_key(key)
    raw = _copy(loaded.raw)
    section = raw.get(section_name)
    if isinstance(section, dict):
        section.pop(field_name, None)
        if not section:
            del raw[section_name]
    return _save(loaded.path, raw)


_NOT_SAVED = "nothing was saved; see examples/config.toml for what the key expects"


def _copy(raw: dict[str, Any]) -> dict[str, Any]:
    return {name: dict(table) if isinstance(table, dict) else table for name, table in raw.items()}


def _save(path: Path, raw: dict[str, Any]) -> Config:
    try:
        config = Config.model_validate(raw, strict=True)
    except ValidationError as exc:
        raise ConfigError(
            "the change would make the settings invalid:\n" + _describe(exc), _NOT_SAVED
        ) from exc
    try:
        atomic_write_text(path, tomli_w.dumps(raw), mode=0o644)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the configuration file {path}: {exc}",
            "check that its directory is writable, or pass another file with --config",
        ) from exc
    return config


def update_config(loaded: LoadedConfig, updates: dict[str, Any]) -> LoadedConfig:
    """Set already-typed values (``{"amber.site_id": "…"}``), validate, save atomically."""
    raw = _copy(loaded.raw)
    for key, value in updates.items():
        section_name, field_name, _ = _split_key(key)
        raw.setdefault(section_name, {})[field_name] = value
    config = _save(loaded.path, raw)
    return LoadedConfig(path=loaded.path, exists=True, raw=raw, config=config)


def effective_toml(config: Config) -> str:
    """The configuration with every default filled in, as TOML (unset keys are omitted)."""
    data = config.model_dump(exclude_none=True)
    if not data.get("sites"):
        data.pop("sites", None)
    return tomli_w.dumps(data)
