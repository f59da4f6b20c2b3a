"""Saving settings without disturbing the file: comments, order and layout survive (tomlkit).

Every command that saves settings (``config set``/``unset``/``init``, ``login``, ``register``,
a Fleet region change) comes through here. The edited document is validated as a whole before
anything is written, and written atomically. Only the file is edited: a setting the environment
gives (``AMBER_TESLA_SYNC_<SECTION>__<KEY>``) still overrides what is saved, and saving one says
so (:func:`overriding`).
"""

from __future__ import annotations

import logging
import stat
import tomllib
from pathlib import Path
from typing import Any, get_origin

import tomlkit
from pydantic import TypeAdapter, ValidationError
from tomlkit.items import Table
from tomlkit.toml_document import TOMLDocument

from amber_tesla_sync.errors import ConfigError
from amber_tesla_sync.settings.config import Config
from amber_tesla_sync.settings.config_path import APP_NAME
from amber_tesla_sync.settings.keys import array_from_text, split_key
from amber_tesla_sync.settings.load import LoadedConfig, describe_errors, validate_config
from amber_tesla_sync.settings.resources import example_config_text
from amber_tesla_sync.support.files import DISK_FULL, atomic_write_text
from amber_tesla_sync.support.masking import NOT_A_URL, holds_urls, masked_value

log = logging.getLogger(__name__)
PRIVATE = 0o600  # a file holding notification URLs (their tokens)
NEW_FILE = 0o644

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
    _write(path, text, data)
    return config


def file_mode(path: Path, data: dict[str, Any]) -> int:
    """The mode to write the settings ``data`` to ``path`` with: 0600 when they hold
    notification URLs; otherwise the file's own mode (a user's ``chmod 600`` survives every
    save), 0644 for a new file."""
    if holds_urls(data):
        return PRIVATE
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return NEW_FILE
    except OSError as exc:
        raise _not_written(path, exc) from exc


def _write(path: Path, text: str, data: dict[str, Any]) -> None:
    try:
        # through a symbolic link (a config kept with one's dotfiles): the link stays, the file
        # it points to is replaced
        target = path.resolve() if path.is_symlink() else path
        atomic_write_text(target, text, mode=file_mode(target, data))
    except OSError as exc:
        raise _not_written(path, exc) from exc


def _not_written(path: Path, exc: OSError) -> ConfigError:
    """A failed write, said plainly (a full disk is not a permissions problem); the file is as
    it was (writes are atomic)."""
    full = exc.errno in DISK_FULL
    return ConfigError(
        f"cannot write the configuration file {path}: "
        + ("no space left on the device" if full else (exc.strerror or str(exc)))
        + "; it was not changed",
        "free some space on its file system"
        if full
        else "check that its directory is writable, or pass another file with --config",
    )


def set_value(loaded: LoadedConfig, key: str, text: str) -> Config:
    """Set ``key`` from its command-line text; validate the whole file; save it atomically."""
    _, _, annotation = split_key(key)
    try:
        typed = _array(key, text) if get_origin(annotation) is list else text
        value = TypeAdapter(annotation).validate_python(typed)
    except ValidationError as exc:
        error = exc.errors()[0]
        message = error["msg"].removeprefix("Value error, ")
        where = "".join(f"[{part}]" for part in error["loc"])
        given = masked_value(key, error["input"])  # a notification URL is never quoted whole
        raise ConfigError(
            f"invalid value for {key}{where}: {message} (got {given!r})", _NOT_SAVED
        ) from exc
    document = _document(loaded)
    _assign(document, key, value)
    return _save(loaded.path, document)


def _array(key: str, text: str) -> list[Any]:
    """A list key's command-line text: a TOML or JSON array (``'["a", "b"]'``)."""
    found = array_from_text(text)
    if found is not None:
        return found
    example = '\'["ntfy://ntfy.sh/my-topic", "tgram://BOT_TOKEN/CHAT_ID"]\''
    given = masked_value(key, text)  # a notification URL is never quoted whole
    raise ConfigError(
        f"invalid value for {key}: expected a list, written as a TOML or JSON array of quoted "
        f"strings, e.g. {example}" + ("" if given == NOT_A_URL else f" (got {given!r})"),
        f"quote the whole array for the shell: `{APP_NAME} config set {key} {example}`; "
        "`[]` empties it; nothing was saved",
    )


def unset_value(loaded: LoadedConfig, key: str) -> Config:
    """Remove ``key`` from the file so that its default applies again (the section stays)."""
    section_name, field_name, _ = split_key(key)
    document = _document(loaded)
    section = document.get(section_name)
    if not (isinstance(section, Table) and field_name in section):
        return loaded.config  # not in the file: nothing to write
    del section[field_name]
    return _save(loaded.path, document)


def overriding(loaded: LoadedConfig, key: str) -> str | None:
    """The environment variable that overrides ``key`` (whatever the file says), if any."""
    override = loaded.overrides.get(key)
    return override.variable if override is not None else None


def update_config(loaded: LoadedConfig, updates: dict[str, Any]) -> LoadedConfig:
    """Set already-typed values (``{"amber.site_id": "…"}``), validate, save atomically; the
    settings returned keep the environment's overrides (a warning names each one that hides a
    value just saved)."""
    document = _document(loaded)
    for key, value in updates.items():
        _assign(document, key, value)
    _save(loaded.path, document)
    text = tomlkit.dumps(document)
    raw = document.unwrap()
    for key in updates:
        variable = overriding(loaded, key)
        if variable:
            log.warning(
                "%s was saved in %s, but %s overrides this value while it is set",
                key,
                loaded.path,
                variable,
            )
    config = validate_config(raw, loaded.path, text, loaded.overrides)
    return LoadedConfig(
        loaded.path, exists=True, raw=raw, config=config, text=text, overrides=loaded.overrides
    )


def write_example(path: Path, force: bool) -> None:
    """``config init``: the commented example file, where there is none yet (or ``force``)."""
    if path.exists() and not force:
        raise ConfigError(
            f"{path} already exists; nothing was written",
            f"change keys with `{APP_NAME} config set`, or pass --force to replace the file",
        )
    text = example_config_text()
    _write(path, text, tomllib.loads(text))
