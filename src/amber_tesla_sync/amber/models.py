"""pydantic models of Amber's API 2.0.0 (sites and price intervals).

Parsing is forward-compatible: unknown fields are ignored and enumerations are plain strings (an
unknown value is kept, and reported by :func:`unknown_values`), so a new value from Amber does not
break a run. Only what the tool needs is required; a body that lacks it, or has the wrong type
there, is rejected with a message naming the item and the field.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from amber_tesla_sync.errors import DataError

ACTUAL = "ActualInterval"
CURRENT = "CurrentInterval"
FORECAST = "ForecastInterval"
INTERVAL_TYPES = frozenset({ACTUAL, CURRENT, FORECAST})

GENERAL = "general"
CONTROLLED_LOAD = "controlledLoad"
FEED_IN = "feedIn"
CHANNEL_TYPES = frozenset({GENERAL, CONTROLLED_LOAD, FEED_IN})

SPIKE_STATUSES = frozenset({"none", "potential", "spike"})
DESCRIPTORS = frozenset({"negative", "extremelyLow", "veryLow", "low", "neutral", "high", "spike"})
SITE_STATUSES = frozenset({"pending", "active", "closed"})

# Plausible retail prices (c/kWh, GST included). The NEM's market price cap is $20,300/MWh in
# FY2025/26 (2,030 c/kWh wholesale; $17,500/MWh in FY2024/25) and rises with inflation each July;
# the market floor is −$1,000/MWh (−100 c/kWh). A retail price is the wholesale price times loss
# factors (≤ 1.1) and GST (1.1) plus network charges and fees (well under 100 c/kWh), so at the
# cap it stays below about 2,600 c/kWh (the highest real one seen: 2,152.56 c/kWh at the
# $17,500 cap) and at the floor above about −125 c/kWh. The bounds leave room for future caps:
# a general or controlled-load price outside [−300, 5000] c/kWh, or a feed-in price (sign
# reversed: negative when the customer is paid) outside [−5000, 300] c/kWh, is not a real price.
PRICE_CAP_CENTS = 5000.0
PRICE_FLOOR_CENTS = -300.0

Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
"""A JSON number: a string such as ``"30.5"`` is not silently read as one."""
Count = Annotated[int, Field(strict=True)]


def price_bounds(channel: str) -> tuple[float, float]:
    """The plausible range of ``channel``'s prices (c/kWh), see :data:`PRICE_CAP_CENTS`."""
    if channel == FEED_IN:
        return -PRICE_CAP_CENTS, -PRICE_FLOOR_CENTS
    return PRICE_FLOOR_CENTS, PRICE_CAP_CENTS


class _Model(BaseModel):
    # each model's validator is built when it is first used: a sync reads only price intervals
    model_config = ConfigDict(
        extra="ignore", frozen=True, populate_by_name=True, allow_inf_nan=False, defer_build=True
    )


class _Span:
    """``end`` and ``start`` in UTC of a record with ``endTime`` and ``duration`` (an interval, a
    usage row), computed once: the fold asks for them many times, and the models are frozen."""

    if TYPE_CHECKING:
        end_time: dt.datetime
        duration: int

    @cached_property
    def end(self) -> dt.datetime:
        """The end in UTC (rule 1: ``endTime``)."""
        return self.end_time.astimezone(dt.UTC)

    @cached_property
    def start(self) -> dt.datetime:
        """The start in UTC: ``endTime − duration`` (never ``startTime``, which is +1 s)."""
        return self.end - dt.timedelta(minutes=self.duration)


class AdvancedPrice(_Model):
    """Amber's own forecast band (c/kWh, retail). On feed-in the band is reversed in sign."""

    low: Number
    predicted: Number
    high: Number

    @property
    def all_zero(self) -> bool:
        return self.low == 0 and self.predicted == 0 and self.high == 0


class PriceRange(_Model):
    """Possible spread of spot prices (c/kWh) when volatile."""

    min: Number
    max: Number


class TariffInformation(_Model):
    period: str | None = None
    season: str | None = None
    block: float | None = None
    demand_window: bool | None = Field(default=None, alias="demandWindow")


class Interval(_Span, _Model):
    """One price interval of one channel: Actual, Current or Forecast."""

    type: str
    duration: Count = Field(gt=0, le=24 * 60)
    end_time: AwareDatetime = Field(alias="endTime")
    per_kwh: Number = Field(alias="perKwh")
    channel_type: str = Field(alias="channelType")
    spike_status: str = Field(default="none", alias="spikeStatus")
    descriptor: str | None = None
    spot_per_kwh: Number | None = Field(default=None, alias="spotPerKwh")
    renewables: Number | None = None
    date: dt.date | None = None
    nem_time: AwareDatetime | None = Field(default=None, alias="nemTime")
    start_time: AwareDatetime | None = Field(default=None, alias="startTime")
    estimate: bool | None = None
    advanced_price: AdvancedPrice | None = Field(default=None, alias="advancedPrice")
    range: PriceRange | None = None
    tariff_information: TariffInformation | None = Field(default=None, alias="tariffInformation")

    @model_validator(mode="after")
    def _plausible(self) -> Interval:
        """Prices inside what the NEM's cap and floor allow; an end time with a known year."""
        low, high = price_bounds(self.channel_type)
        prices = {"perKwh": self.per_kwh}
        if self.advanced_price is not None:
            for band in ("low", "predicted", "high"):
                prices[f"advancedPrice.{band}"] = getattr(self.advanced_price, band)
        for name, value in prices.items():
            if not low <= value <= high:
                raise ValueError(
                    f"{name} {value:g} c/kWh is outside the plausible range for a "
                    f"{self.channel_type} price ({low:g} to {high:g} c/kWh)"
                )
        if not 2000 <= self.end_time.year <= 9000:
            raise ValueError(f"endTime {self.end_time.isoformat()} is not a plausible time")
        return self


class Channel(_Model):
    identifier: str
    type: str
    tariff: str | None = None


class Site(_Model):
    id: str
    nmi: str | None = None
    channels: list[Channel] = []
    network: str | None = None
    status: str = "active"
    active_from: dt.date | None = Field(default=None, alias="activeFrom")
    closed_on: dt.date | None = Field(default=None, alias="closedOn")
    interval_length: int = Field(default=30, alias="intervalLength", gt=0)

    @property
    def channel_types(self) -> set[str]:
        return {channel.type for channel in self.channels}


class Renewable(_Model):
    """The share of renewables in a state's grid (``/state/{state}/renewables/current``)."""

    type: str
    duration: int = Field(gt=0)
    end_time: AwareDatetime = Field(alias="endTime")
    renewables: float
    descriptor: str | None = None


class Usage(_Span, _Model):
    """One channel's metered energy in one billing interval (``/sites/{id}/usage``).

    ``kwh`` is taken as a magnitude (feed-in rows are reported positive, although the spec says
    negative); the direction comes from ``channel_type``. ``cost`` is in cents incl. GST
    (negative = paid to the customer, as ``kwh × perKwh`` gives on feed-in).
    """

    type: str = "Usage"
    duration: Count = Field(gt=0, le=24 * 60)
    end_time: AwareDatetime = Field(alias="endTime")
    date: dt.date | None = None
    kwh: Number
    per_kwh: Number = Field(alias="perKwh")
    cost: Number
    quality: str = "billable"
    channel_type: str = Field(alias="channelType")
    channel_identifier: str | None = Field(default=None, alias="channelIdentifier")


class ErrorBody(_Model):
    """Amber's error body: ``{"message": "..."}``."""

    message: str


M = TypeVar("M", bound=_Model)


@cache
def _list_of(model: type[M]) -> TypeAdapter[list[M]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


@dataclass(frozen=True)
class _ListKind:
    """How one kind of Amber list body is described when it is not what it should be."""

    list_name: str  # "an Amber price list"
    expected: str  # "a JSON array of intervals"
    items: str  # "intervals"
    shape_hint: str
    content_hint: str
    name: Callable[[Any], str]


def _parse_list(model: type[M], kind: _ListKind, data: Any, source: str) -> list[M]:
    if not isinstance(data, list):
        raise DataError(
            f"{source} is not {kind.list_name}: expected {kind.expected}, got {_kind(data)}",
            kind.shape_hint,
        )
    try:
        return _list_of(model).validate_python(data)
    except ValidationError as exc:
        raise DataError(
            f"{source} has malformed {kind.items}:\n" + _describe(exc, data, kind.name),
            kind.content_hint,
        ) from exc


def _interval_name(item: Any) -> str:
    if not isinstance(item, dict):
        return "interval"
    parts = [str(item.get(key)) for key in ("channelType", "type") if key in item]
    if "endTime" in item:
        parts.append(f"ending {item['endTime']}")
    return " ".join(parts) or "interval"


_BASE_URL_HINT = "check the Amber API base URL"
_PRICES = _ListKind(
    "an Amber price list",
    "a JSON array of intervals",
    "intervals",
    "pass the body of GET /v1/sites/{id}/prices/current exactly as Amber returns it",
    "check that the data is an unmodified Amber price response",
    _interval_name,
)
_USAGE_LIST = _ListKind(
    "an Amber usage list",
    "a JSON array",
    "usage records",
    _BASE_URL_HINT,
    "check that the data is an unmodified Amber usage response",
    _interval_name,
)
_SITE_LIST = _ListKind(
    "an Amber site list", "a JSON array", "sites", _BASE_URL_HINT, _BASE_URL_HINT, lambda _: "site"
)
_RENEWABLE_LIST = _ListKind(
    "a renewables list",
    "a JSON array",
    "renewables",
    _BASE_URL_HINT,
    _BASE_URL_HINT,
    lambda _: "renewable",
)


def parse_intervals(data: Any, source: str = "the Amber response") -> list[Interval]:
    """Validate a ``/prices/current`` body (a JSON array of intervals)."""
    return _parse_list(Interval, _PRICES, data, source)


def parse_usage(data: Any, source: str = "the Amber response") -> list[Usage]:
    """Validate a ``/usage`` body (a JSON array of usage records)."""
    return _parse_list(Usage, _USAGE_LIST, data, source)


def parse_sites(data: Any, source: str = "the Amber response") -> list[Site]:
    """Validate a ``/sites`` body (a JSON array of sites)."""
    return _parse_list(Site, _SITE_LIST, data, source)


def parse_renewables(data: Any, source: str = "the Amber response") -> list[Renewable]:
    """Validate a renewables body (a JSON array)."""
    return _parse_list(Renewable, _RENEWABLE_LIST, data, source)


def load_intervals_file(path: Path) -> list[Interval]:
    """Read a saved ``/prices/current`` JSON body from ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(
            f"cannot read the price file {path}: {exc}", "check the path given to --prices"
        ) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"the price file {path} is not valid JSON: {exc}",
            "pass a saved Amber /prices/current response body",
        ) from exc
    return parse_intervals(data, source=f"the price file {path}")


def unknown_values(intervals: Iterable[Interval]) -> set[str]:
    """Enumeration values this version does not know (worth a log line, not an error)."""
    unknown: set[str] = set()
    for item in intervals:
        if item.type not in INTERVAL_TYPES:
            unknown.add(f"type={item.type}")
        if item.channel_type not in CHANNEL_TYPES:
            unknown.add(f"channelType={item.channel_type}")
        if item.spike_status not in SPIKE_STATUSES:
            unknown.add(f"spikeStatus={item.spike_status}")
        if item.descriptor is not None and item.descriptor not in DESCRIPTORS:
            unknown.add(f"descriptor={item.descriptor}")
    return unknown


def _kind(data: Any) -> str:
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return f"an Amber error body ({data['message']!r})"
    if isinstance(data, dict):
        keys = ", ".join(list(data)[:5])
        return f"a JSON object (keys: {keys})"
    return f"a JSON {type(data).__name__}"


def _describe(exc: ValidationError, data: list[Any], name: Any) -> str:
    lines = []
    errors = exc.errors()
    for err in errors[:10]:
        loc = list(err["loc"])
        index = loc.pop(0) if loc and isinstance(loc[0], int) else None
        where = ""
        if isinstance(index, int) and 0 <= index < len(data):
            where = f"item {index} ({name(data[index])})"
        field = ".".join(str(part) for part in loc) or "(whole item)"
        got = "" if err["type"] == "missing" or not loc else f" (got {_short(err['input'])})"
        what = f"field {field!r}: " if loc else ""
        lines.append(f"  - {where}: {what}{err['msg']}{got}")
    if len(errors) > 10:
        lines.append(f"  - … and {len(errors) - 10} more")
    return "\n".join(lines)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"
