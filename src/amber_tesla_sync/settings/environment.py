"""Settings from the environment: ``AMBER_TESLA_SYNC_<SECTION>__<KEY>`` for every key of every
section (``AMBER_TESLA_SYNC_TARIFF__MAX_GAP_SLOTS=6``).

The variables are derived from the settings models, so a key added later has its variable at
once. Here they are read and typed; :mod:`amber_tesla_sync.settings.load` lays them over the
file. Precedence: a command-line option, then the environment, then the file, then the default.

- An empty variable counts as unset (``KEY=`` in a compose file changes nothing).
- A list (``notify.urls``) is a JSON or TOML array of quoted strings.
- A variable that looks like a setting but names none (``AMBER_TESLA_SYNC_X__Y``, or one that is a
  near miss of a setting's) is an error with the nearest one; the tool's other variables
  (:data:`OTHER_VARIABLES`: the settings file, the state directory, the log prefix) are not
  settings and stay valid.
- ``[[sites]]`` (several sites) cannot come from the environment; the single-site keys can.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from amber_tesla_sync.errors import ConfigError
from amber_tesla_sync.settings.config import Config
from amber_tesla_sync.settings.config_path import APP_NAME, CONFIG_ENV
from amber_tesla_sync.settings.keys import array_from_text, did_you_mean, key_infos, split_key
from amber_tesla_sync.support.logs import PREFIX_ENV
from amber_tesla_sync.support.masking import NOT_A_URL, masked_value

PREFIX = "AMBER_TESLA_SYNC_"
SEPARATOR = "__"
STATE_DIR_ENV = "AMBER_TESLA_SYNC_STATE_DIR"  # store.paths.STATE_ENV (a test holds them equal)
OTHER_VARIABLES = (CONFIG_ENV, STATE_DIR_ENV, PREFIX_ENV)
LISTS_HELP = '\'["ntfy://ntfy.sh/my-topic", "tgram://BOT_TOKEN/CHAT_ID"]\''
ENV_INVALID = "the settings from the environment are invalid"
FIX_HINT = (
    f"fix or unset the variable(s) named above (`{APP_NAME} config keys --env` lists every "
    "variable and what it takes); nothing was saved"
)


def variable_for(key: str) -> str:
    """The variable of a dotted key: ``tariff.max_gap_slots`` →
    ``AMBER_TESLA_SYNC_TARIFF__MAX_GAP_SLOTS``."""
    section, _, name = key.partition(".")
    return f"{PREFIX}{section.upper()}{SEPARATOR}{name.upper()}"


def setting_variables() -> dict[str, str]:
    """Every setting's variable and its dotted key, in the order of ``config keys``."""
    return {variable_for(info.key): info.key for info in key_infos()}


@dataclass(frozen=True)
class Override:
    """A setting the environment gives: its key, its variable, the text and the typed value."""

    key: str
    variable: str
    text: str
    value: Any

    @property
    def shown(self) -> Any:
        """The text as it may be quoted (a notification URL masked)."""
        return masked_value(self.key, self.text)


def read_overrides(environ: Mapping[str, str]) -> dict[str, Override]:
    """The settings ``environ`` gives, by key; every unknown or mistyped variable is a
    ConfigError naming it (nothing is read from a half-wrong environment)."""
    known = setting_variables()
    overrides: dict[str, Override] = {}
    problems: list[str] = []
    for name in sorted(environ):
        if not name.startswith(PREFIX) or name in OTHER_VARIABLES:
            continue
        key = known.get(name)
        if key is None:
            problem = unknown_variable(name, list(known))
            if problem:
                problems.append(problem)
            continue
        text = environ[name].strip()
        if not text:
            continue  # empty: unset
        try:
            overrides[key] = Override(key, name, text, typed_value(key, text))
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        raise ConfigError(
            f"{ENV_INVALID}:\n" + "\n".join(f"  - {problem}" for problem in problems),
            FIX_HINT,
        )
    return overrides


def unknown_variable(name: str, known: list[str]) -> str | None:
    """What is wrong with ``name``, a variable that is no setting's: None when it does not look
    like one (``AMBER_TESLA_SYNC_SOMETHING`` of another program, say)."""
    rest = name.removeprefix(PREFIX)
    keys = [variable.removeprefix(PREFIX) for variable in known]  # the shared prefix says nothing
    if SEPARATOR in rest:
        if rest.partition(SEPARATOR)[0] == "SITES":
            return (
                f"{name}: [[sites]] (several sites) cannot come from the environment; list them "
                "in the configuration file, or use the single-site keys "
                f"({variable_for('amber.site_id')}, {variable_for('tesla.energy_site_id')})"
            )
        guess = did_you_mean(rest, keys)
        return f"{name}: no such setting" + (f" — did you mean {PREFIX}{guess}?" if guess else "")
    close = difflib.get_close_matches(rest, keys, n=1, cutoff=0.9)
    if close:
        return (
            f"{name}: no such setting — did you mean {PREFIX}{close[0]}? (two underscores "
            "between the section and the key)"
        )
    return None


def _field(key: str) -> FieldInfo:
    section, _, name = key.partition(".")
    model = Config.model_fields[section].annotation
    assert isinstance(model, type)
    found: FieldInfo = model.model_fields[name]
    return found


def _kinds(annotation: Any) -> list[Any]:
    """The types a field takes, None left out and ``Annotated`` unwrapped."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _kinds(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [
            kind for arg in get_args(annotation) if arg is not type(None) for kind in _kinds(arg)
        ]
    return [annotation]


def _is_text(annotation: Any) -> bool:
    return all(kind is str or get_origin(kind) is Literal for kind in _kinds(annotation))


def typed_value(key: str, text: str) -> Any:
    """``text`` as the value of ``key``: a list from an array, a number or a truth value from
    its spelling; text stays text (the settings model checks the rest)."""
    _, _, annotation = split_key(key)
    if get_origin(annotation) is list:
        return _array(key, text)
    if _is_text(annotation):
        return text
    try:
        return TypeAdapter(annotation).validate_python(text)
    except ValidationError:
        raise ValueError(f"expected {expects(key)} (got {masked_value(key, text)!r})") from None


def _array(key: str, text: str) -> list[Any]:
    found = array_from_text(text)
    if found is not None:
        return found
    given = masked_value(key, text)
    raise ValueError(
        f"expected {expects(key)}" + ("" if given == NOT_A_URL else f" (got {given!r})")
    )


def expects(key: str) -> str:
    """What a key takes, in words: ``a whole number from 0 to 48``, ``one of: auto, fleet, …``."""
    field = _field(key)
    kinds = _kinds(field.annotation)
    kind = kinds[0] if len(kinds) == 1 else None
    if get_origin(field.annotation) is list:
        return f"an array of quoted strings (JSON or TOML), e.g. {LISTS_HELP}"
    if get_origin(kind) is Literal:
        return "one of: " + ", ".join(str(choice) for choice in get_args(kind))
    if kind is bool:
        return "true or false"
    if kind in (int, float):
        noun = "a whole number" if kind is int else "a number"
        return noun + _bounds(field)
    if key.endswith("timezone"):
        return "an IANA time zone name, e.g. Australia/Sydney"
    pattern = next((getattr(m, "pattern", None) for m in field.metadata), None)
    if pattern == r"^https?://":
        return "an http:// or https:// URL"
    if pattern:
        return f"text matching {pattern}"
    return "text (not empty)"


def _bounds(field: FieldInfo) -> str:
    low = high = ""
    for item in field.metadata:
        if isinstance(item, annotated_types.Ge):
            low = f"from {item.ge}"
        elif isinstance(item, annotated_types.Gt):
            low = f"above {item.gt}"
        elif isinstance(item, annotated_types.Le):
            high = f"to {item.le}" if low.startswith("from") else f"at most {item.le}"
        elif isinstance(item, annotated_types.Lt):
            high = f"below {item.lt}"
    if low.startswith("from") and not high:
        low = f"of at least {low.removeprefix('from ')}"
    if low and high and not high.startswith("to"):
        high = "and " + high
    return "".join(f" {part}" for part in (low, high) if part)
