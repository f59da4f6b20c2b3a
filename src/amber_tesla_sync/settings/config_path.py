"""Which settings file a run uses (cheap to import: no pydantic, no TOML)."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "amber-tesla-sync"
CONFIG_ENV = "AMBER_TESLA_SYNC_CONFIG"


def default_config_path() -> Path:
    import platformdirs

    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def resolve_config_path(option: Path | None) -> tuple[Path, bool]:
    """``--config`` wins, then ``$AMBER_TESLA_SYNC_CONFIG``, then the platform default.

    The flag says whether the path was chosen explicitly (then it must exist, except for the
    commands that create it).
    """
    if option is not None:
        return option, True
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env), True
    return default_config_path(), False
