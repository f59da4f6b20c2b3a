"""Loading the settings: ``config.toml`` read (tomllib), the environment's settings laid over it
(see :mod:`amber_tesla_sync.settings.environment`), the whole validated; what is wrong is said
by line and key for the file, by variable for the environment, with the nearest known key for a
misspelt one."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from amber_tesla_sync.errors import ConfigError, TimeZoneError
from amber_tesla_sync.settings.config import Config
from amber_tesla_sync.settings.config_path import APP_NAME
from amber_tesla_sync.settings.environment import (
    ENV_INVALID,
    FIX_HINT,
    Override,
    expects,
    read_overrides,
)
from amber_tesla_sync.support.masking import masked_value


@dataclass
class LoadedConfig:
    """The settings of a run: the file as found on disk (its path, its raw table), the
    environment's settings laid over it, and the validated model of both."""

    path: Path
    exists: bool
    raw: dict[str, Any]
    config: Config
    text: str = ""
    overrides: dict[str, Override] = field(default_factory=dict)  # by dotted key

    def origin(self, key: str) -> str:
        """Where ``key``'s value comes from: the variable that sets it, ``file`` or
        ``default``."""
        if key in self.overrides:
            return self.overrides[key].variable
        section, _, name = key.partition(".")
        table = self.raw.get(section)
        return "file" if isinstance(table, dict) and name in table else "default"


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> LoadedConfig:
    """Read and validate ``path`` with the settings of ``environ`` (default: this process's
    environment) laid over it; a missing file gives the defaults."""
    overrides = read_overrides(os.environ if environ is None else environ)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        config = validate_config({}, path, "", overrides)
        return LoadedConfig(path, exists=False, raw={}, config=config, overrides=overrides)
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
    config = validate_config(raw, path, text, overrides)
    return LoadedConfig(path, exists=True, raw=raw, config=config, text=text, overrides=overrides)


def laid_over(raw: dict[str, Any], overrides: Mapping[str, Override]) -> dict[str, Any]:
    """The file's table with the environment's settings in their places (the file unchanged)."""
    merged = {
        name: dict(table) if isinstance(table, dict) else table for name, table in raw.items()
    }
    for override in overrides.values():
        section, _, name = override.key.partition(".")
        table = merged.get(section)
        if not isinstance(table, dict):  # absent (or not a table: the variable replaces it)
            table = merged[section] = {}
        table[name] = override.value
    return merged


def validate_config(
    raw: dict[str, Any],
    path: Path,
    text: str = "",
    overrides: Mapping[str, Override] | None = None,
) -> Config:
    """The settings in ``raw`` with ``overrides`` laid over it. Settings whose only fault is a
    time zone this computer does not know (e.g. a zone newer than its tzdata) are the time-zone
    error (exit 16), any other fault a configuration error (exit 3); each fault is named by its
    file line and key, or by its variable."""
    overrides = overrides or {}
    try:
        return Config.model_validate(laid_over(raw, overrides), strict=True)
    except ValidationError as exc:
        errors = exc.errors()
        env = [err for err in errors if _key(err) in overrides]
        file = [err for err in errors if _key(err) not in overrides]
        lines = "\n".join(
            ([_describe(file, text)] if file else [])
            + [_describe_variable(err, overrides[_key(err)]) for err in env]
        )
        if all(_is_zone_error(err) for err in errors):
            where = f"the configuration file {path}" if file else "the environment"
            zone = "`amber-tesla-sync config set site.timezone Australia/Sydney`"
            if env:
                zone = f"{overrides['site.timezone'].variable}=Australia/Sydney"
            raise TimeZoneError(
                f"{where} names a time zone not known here:\n" + lines,
                f"nothing was pushed; set the site's IANA zone ({zone}), or update the tzdata "
                "package if the zone is new",
            ) from exc
        if not env:
            raise ConfigError(
                f"the configuration file {path} is invalid:\n" + lines, FILE_HINT
            ) from exc
        if not file:
            raise ConfigError(f"{ENV_INVALID}:\n" + lines, FIX_HINT) from exc
        raise ConfigError(
            f"the configuration file {path} and the settings from the environment are "
            "invalid:\n" + lines,
            f"{FILE_HINT}; {FIX_HINT}",
        ) from exc


FILE_HINT = (
    "fix the key(s) named above (`amber-tesla-sync config keys` lists every key), "
    "or set them with `amber-tesla-sync config set KEY VALUE`"
)


def _key(err: Any) -> str:
    """The dotted key of a validation error (``notify.urls`` for ``("notify", "urls", 0)``)."""
    return ".".join(str(part) for part in tuple(err["loc"])[:2])


def _describe_variable(err: Any, override: Override) -> str:
    message = err["msg"].removeprefix("Value error, ")
    if "expected" not in message:
        message += f"; expected {expects(override.key)}"
    return f"  - {override.variable}: {message} (got {override.shown!r})"


def _is_zone_error(err: Any) -> bool:
    loc = tuple(err["loc"])
    return bool(loc) and loc[-1] == "timezone" and err["type"] == "value_error"


def describe_errors(exc: ValidationError, text: str = "") -> str:
    """One line per problem: where (line N, when the file text is known), the key, what is
    expected, and for an unknown key the nearest known one."""
    return _describe(exc.errors(), text)


def _describe(errors: list[Any], text: str) -> str:
    lines = []
    for err in errors:
        loc = tuple(err["loc"])
        key = ".".join(str(part) for part in loc)
        line = line_of(text, loc) if text else None
        where = f"line {line}: " if line else ""
        if err["type"] == "extra_forbidden":
            section = _model_at(loc[:-1])
            known = list(section.model_fields) if section is not None else []
            from amber_tesla_sync.settings.keys import did_you_mean  # only for a bad file

            guess = did_you_mean(str(loc[-1]), known)
            detail = f" — did you mean {guess!r}?" if guess else ""
            lines.append(f"  - {where}unknown key {key!r}{detail} (known here: {', '.join(known)})")
        else:
            message = err["msg"].removeprefix("Value error, ")
            got = masked_value(key, err["input"])  # a notification URL is never quoted whole
            lines.append(f"  - {where}key {key!r}: {message} (got {got!r})")
    return "\n".join(lines)


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
