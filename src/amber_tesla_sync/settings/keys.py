"""The settable keys of ``config.toml``: each with its default and description, lookup by dotted
name (with the nearest known key for a misspelt one), and the effective settings as shown (with
where each value comes from: the default, the file or an environment variable)."""

from __future__ import annotations

import difflib
import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from amber_tesla_sync.errors import ConfigError
from amber_tesla_sync.settings.config import Config
from amber_tesla_sync.settings.config_path import APP_NAME
from amber_tesla_sync.support.masking import masked_settings


def array_from_text(text: str) -> list[Any] | None:
    """A list key's value given as text (on the command line, in a variable): a TOML or JSON
    array (``'["a", "b"]'``); None when the text is neither."""
    try:
        parsed = tomllib.loads(f"value = {text}")
    except tomllib.TOMLDecodeError:
        parsed = {}
    found: Any = parsed.get("value") if list(parsed) == ["value"] else None
    if found is None:
        try:
            found = json.loads(text)
        except ValueError:
            found = None
    return found if isinstance(found, list) else None


def did_you_mean(word: str, choices: list[str]) -> str | None:
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return found[0] if found else None


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


def effective_data(config: Config) -> dict[str, Any]:
    """The configuration as shown: every default filled in (unset keys are omitted), every
    notification URL masked (the file holds the real ones)."""
    data = config.model_dump(exclude_none=True, mode="json")
    if not data.get("sites"):
        data.pop("sites", None)
    return masked_settings(data)


ALIGN_UP_TO = 48  # origin comments line up after values this long; a longer one has its own


def annotated_toml(config: Config, origin: Callable[[str], str]) -> str:
    """:func:`effective_data` as TOML, each value followed by where it comes from: ``# default``,
    ``# file`` or ``# env VARIABLE`` (``origin`` says which, by dotted key); ``[[sites]]`` come
    from the file only."""
    import tomli_w

    data = effective_data(config)
    out: list[str] = []
    for section, table in data.items():
        if section == "sites" or not isinstance(table, dict):
            continue
        rows = [
            (tomli_w.dumps({name: value}).rstrip("\n").split("\n"), origin(f"{section}.{name}"))
            for name, value in table.items()
        ]
        width = max((len(lines[0]) for lines, _ in rows if len(lines[0]) <= ALIGN_UP_TO), default=0)
        out.append(f"[{section}]")
        for lines, source in rows:
            label = source if source in ("default", "file") else f"env {source}"
            out.append(f"{lines[0]:<{width}}  # {label}")
            out.extend(lines[1:])
        out.append("")
    if "sites" in data:
        out.append("# [[sites]]: from the file")
        out.append(tomli_w.dumps({"sites": data["sites"]}))
    return "\n".join(out).rstrip("\n") + "\n"
