"""Every environment variable the tool reads, with its meaning: the settings' (derived from the
settings models), the secrets' and the paths'. ``config keys --env`` prints them; the README's
table is this one (a test holds them equal)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from amber_tesla_sync.settings.config_path import CONFIG_ENV
from amber_tesla_sync.settings.environment import setting_variables
from amber_tesla_sync.settings.keys import key_infos
from amber_tesla_sync.store.paths import STATE_ENV
from amber_tesla_sync.store.secrets import VARIABLES
from amber_tesla_sync.support.logs import PREFIX_ENV

Kind = Literal["setting", "secret", "path"]


@dataclass(frozen=True)
class Variable:
    name: str
    kind: Kind
    key: str | None  # the setting's dotted key, or the secret's name
    meaning: str

    def to_json(self) -> dict[str, str | None]:
        return {"name": self.name, "kind": self.kind, "key": self.key, "meaning": self.meaning}


PATHS = (
    Variable(
        CONFIG_ENV,
        "path",
        None,
        "the settings file, as --config (which wins); default: the platform's config directory",
    ),
    Variable(
        STATE_ENV,
        "path",
        None,
        "the state directory (state, history, run lock); default: systemd's $STATE_DIRECTORY, "
        "else the platform's state directory",
    ),
    Variable(
        PREFIX_ENV,
        "path",
        None,
        "1: each log line starts with its syslog priority (<3> error, <4> warning, …)",
    ),
    Variable(
        "CREDENTIALS_DIRECTORY",
        "path",
        None,
        "systemd credentials (LoadCredential=): one file per secret, named by the secret "
        "(amber_token, teslemetry_token, tesla_client_secret, fleet_private_key, "
        "mqtt_password)",
    ),
)


def variables() -> list[Variable]:
    """Every variable: the settings' (in the order of ``config keys``), the secrets', the
    paths'."""
    descriptions = {info.key: info.description for info in key_infos()}
    settings = [
        Variable(name, "setting", key, descriptions[key])
        for name, key in setting_variables().items()
    ]
    secrets = [Variable(v.name, "secret", v.secret, v.meaning) for v in VARIABLES]
    return [*settings, *secrets, *PATHS]


def markdown_table(rows: list[Variable]) -> str:
    """The README's table of ``rows``."""
    lines = ["| variable | setting or secret | meaning |", "| --- | --- | --- |"]
    for row in rows:
        key = {"setting": f"`{row.key}`", "secret": f"secret `{row.key}`"}.get(row.kind, "")
        meaning = row.meaning.replace("|", "\\|")
        lines.append(f"| `{row.name}` | {key} | {meaning} |")
    return "\n".join(lines) + "\n"
