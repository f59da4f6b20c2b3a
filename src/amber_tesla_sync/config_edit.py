"""Saving settings without disturbing the file: comments, order and layout survive (tomlkit).

Every command that saves settings (``config set``/``unset``/``init``, ``login``, ``register``,
a Fleet region change) comes through here. The edited document is validated as a whole before
anything is written, and written atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomlkit
from pydantic import TypeAdapter, ValidationError
from tomlkit.items import Table
from tomlkit.toml_document import TOMLDocument

from amber_tesla_sync.config import (
    APP_NAME,
    Config,
    LoadedConfig,
    describe_errors,
    split_key,
)
from amber_tesla_sync.errors import ConfigError
from amber_tesla_sync.fsutil import atomic_write_text
from amber_tesla_sync.resources import example_config_text

_NOT_SAVED = f"nothing was saved; `{APP_NAME} config keys` says what each key expects"


def _document(loaded: LoadedConfig) -> TOMLDocument:
    """The file as written (re-read, so an edit made since loading is not lost)."""
    try:
        text = loaded.path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return tomlkit.document()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the configuration file {loaded.path}: {exc}") from exc
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(
            f"the configuration file {loaded.path} is not valid TOML: {exc}",
            "fix the line it names first; nothing was saved",
        ) from exc


def _table(document: TOMLDocument, name: str) -> Table:
    found = document.get(name)
    if isinstance(found, Table):
        return found
    if found is not None:
        raise ConfigError(
            f"{name!r} in the configuration file is not a table", "fix it by hand; " + _NOT_SAVED
        )
    table = tomlkit.table()
    document.add(name, table)
    return table


def _assign(document: TOMLDocument, key: str, value: Any) -> None:
    section_name, field_name, _ = split_key(key)
    table = _table(document, section_name)
    table[field_name] = value


def _save(path: Path, document: TOMLDocument) -> Config:
    text = tomlkit.dumps(document)
    data = document.unwrap()
    try:
        config = Config.model_validate(data, strict=True)
    except ValidationError as exc:
        raise ConfigError(
            "the change would make the settings invalid:\n" + describe_errors(exc, text),
            _NOT_SAVED,
        ) from exc
    try:
        atomic_write_text(path, text, mode=0o644)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the configuration file {path}: {exc}",
            "check that its directory is writable, or pass another file with --config",
        ) from exc
    return config


def set_value(loaded: LoadedConfig, key: str, text: str) -> Config:
    """Set ``key`` from its command-line text; validate the whole file; save it atomically."""
    _, _, annotation = split_key(key)
    try:
        value = TypeAdapter(annotation).validate_python(text)
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise ConfigError(f"invalid value for {key}: {message} (got {text!r})", _NOT_SAVED) from exc
    document = _document(loaded)
    _assign(document, key, value)
    return _save(loaded.path, document)


def unset_value(loaded: LoadedConfig, key: str) -> Config:
    """Remove ``key`` from the file so that its default applies again (the section stays)."""
    section_name, field_name, _ = split_key(key)
    document = _document(loaded)
    section = document.get(section_name)
    if not (isinstance(section, Table) and field_name in section):
        return loaded.config  # not in the file: nothing to write
    del section[field_name]
    return _save(loaded.path, document)


def update_config(loaded: LoadedConfig, updates: dict[str, Any]) -> LoadedConfig:
    """Set already-typed values (``{"amber.site_id": "…"}``), validate, save atomically."""
    document = _document(loaded)
    for key, value in updates.items():
        _assign(document, key, value)
    config = _save(loaded.path, document)
    text = tomlkit.dumps(document)
    return LoadedConfig(
        path=loaded.path, exists=True, raw=document.unwrap(), config=config, text=text
    )


def write_example(path: Path, force: bool) -> None:
    """``config init``: the commented example file, where there is none yet (or ``force``)."""
    if path.exists() and not force:
        raise ConfigError(
            f"{path} already exists; nothing was written",
            f"change keys with `{APP_NAME} config set`, or pass --force to replace the file",
        )
    try:
        atomic_write_text(path, example_config_text(), mode=0o644)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the configuration file {path}: {exc}",
            "check that its directory is writable, or pass another file with --config",
        ) from exc
