"""Typed models of the Tesla answers this tool reads: ``site_info``, ``live_status`` and the
``products`` list, validated where the answer is received (:class:`~amber_tesla_sync.tesla.api.
TeslaApi`).

Only the fields the tool reads are declared, and as tolerantly as it always read them: a field
that is missing, ``null`` or of another type reads as None (the check that needs it is skipped,
the screen shows ``?``); fields not declared are ignored. ``raw`` keeps the answer as received,
for what shows it whole (``status --json``) or reads a field not declared here.
"""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _number(value: Any) -> int | float | None:
    """A number as JSON gives it (an int stays an int); a boolean is not one."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _reading(value: Any) -> float | None:
    """A live reading: whatever Python takes for a number (as the screens always did)."""
    return float(value) if isinstance(value, int | float) else None


def _object(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def _label(value: Any) -> str | None:
    """A name shown as given (any non-empty value, as text)."""
    return str(value) if value else None


Text = Annotated[str | None, BeforeValidator(_text)]
Flag = Annotated[bool | None, BeforeValidator(_flag)]
Number = Annotated[int | float | None, BeforeValidator(_number)]
Reading = Annotated[float | None, BeforeValidator(_reading)]
Object = Annotated[dict[str, Any] | None, BeforeValidator(_object)]
Label = Annotated[str | None, BeforeValidator(_label)]
Whole = Annotated[int | None, BeforeValidator(_whole)]


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @classmethod
    def parse(cls, payload: Any) -> Self:
        """The model of an answer (anything but an object reads as an empty one)."""
        data: dict[str, Any] = payload if isinstance(payload, dict) else {}
        model = cls.model_validate(data)
        model._raw = data
        return model

    @property
    def raw(self) -> dict[str, Any]:
        """The answer as received."""
        return self._raw


class TouSettings(_Answer):
    optimization_strategy: Text = None


class Components(_Answer):
    export_rule: Text = Field(None, validation_alias="customer_preferred_export_rule")
    tou_capable: Flag = None
    grid_charging_disallowed: Flag = Field(
        None, validation_alias="disallow_charge_from_grid_with_solar_installed"
    )


def _tou_settings(value: Any) -> TouSettings | None:
    return TouSettings.parse(value) if isinstance(value, dict) else None


def _components(value: Any) -> Components:
    return value if isinstance(value, Components) else Components.parse(value)


class SiteInfo(_Answer):
    """``site_info``: the Powerwall's settings and its tariff."""

    tariff: Object = Field(None, validation_alias="tariff_content_v2")
    time_zone: Text = Field(None, validation_alias="installation_time_zone")
    mode: Text = Field(None, validation_alias="default_real_mode")
    backup_reserve: Number = Field(None, validation_alias="backup_reserve_percent")
    # optimization_strategy where the site reports it (not every response does)
    tou_settings: Annotated[TouSettings | None, BeforeValidator(_tou_settings)] = None
    components: Annotated[Components, BeforeValidator(_components)] = Field(
        default_factory=Components
    )

    @property
    def strategy(self) -> str | None:
        return self.tou_settings.optimization_strategy if self.tou_settings else None

    @property
    def export_rule(self) -> str | None:
        return self.components.export_rule

    @property
    def tou_capable(self) -> bool:
        return self.components.tou_capable is not False


class LiveStatus(_Answer):
    """``live_status``: power flows (W) and the state of charge (%) now."""

    percentage_charged: Reading = None
    solar_power: Reading = None
    load_power: Reading = None
    grid_power: Reading = None  # > 0 importing
    battery_power: Reading = None  # > 0 discharging


class Product(_Answer):
    """One entry of ``products`` (an energy site has an ``energy_site_id``)."""

    energy_site_id: Whole = None
    site_name: Label = None
    resource_type: Label = None
