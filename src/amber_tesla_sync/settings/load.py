"""Loading ``config.toml``: read (tomllib) and validate it, and describe what is wrong with it,
by line and key, with the nearest known key for a misspelt one."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from amber_tesla_sync.errors import ConfigError, TimeZoneError
from amber_tesla_sync.settings.config import Config
from amber_tesla_sync.settings.config_path import APP_NAME
from amber_tesla_sync.support.masking import masked_value


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
    """The settings in ``raw``; a file whose only fault is a time zone this computer does not
    know (e.g. a zone newer than its tzdata) is the time-zone error (exit 16), any other fault a
    configuration error (exit 3)."""
    try:
        return Config.model_validate(raw, strict=True)
    except ValidationError as exc:
        if all(_is_zone_error(err) for err in exc.errors()):
            raise TimeZoneError(
                f"the configuration file {path} names a time zone not known here:\n"
                + describe_errors(exc, text),
                "nothing was pushed; set the site's IANA zone (`amber-tesla-sync config set "
                "site.timezone Australia/Sydney`), or update the tzdata package if the zone is "
                "new",
            ) from exc
        raise ConfigError(
            f"the configuration file {path} is invalid:\n" + describe_errors(exc, text),
            "fix the key(s) named above (`amber-tesla-sync config keys` lists every key), "
            "or set them with `amber-tesla-sync config set KEY VALUE`",
        ) from exc


def _is_zone_error(err: Any) -> bool:
    loc = tuple(err["loc"])
    return bool(loc) and loc[-1] == "timezone" and err["type"] == "value_error"


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
