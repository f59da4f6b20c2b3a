"""Where the tool keeps its files (the platform's directories, overridable for tests and demo)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "amber-tesla-sync"
STATE_ENV = "AMBER_TESLA_SYNC_STATE_DIR"


def config_dir() -> Path:
    return platformdirs.user_config_path(APP_NAME)


def state_dir() -> Path:
    """State, history, locks: ``$AMBER_TESLA_SYNC_STATE_DIR`` or the platform state directory
    (``$STATE_DIRECTORY`` under systemd)."""
    for variable in (STATE_ENV, "STATE_DIRECTORY"):
        value = os.environ.get(variable)
        if value:
            return Path(value.split(":")[0])
    return platformdirs.user_state_path(APP_NAME)
