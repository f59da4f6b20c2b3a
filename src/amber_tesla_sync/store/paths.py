"""Where the tool keeps its files (the platform's directories, overridable for tests and demo)."""

from __future__ import annotations

import os
from pathlib import Path

# platformdirs is imported only when a directory is not given: a timer's run (systemd sets
# $STATE_DIRECTORY, the unit the config path) never needs it

APP_NAME = "amber-tesla-sync"
STATE_ENV = "AMBER_TESLA_SYNC_STATE_DIR"


def config_dir() -> Path:
    import platformdirs

    return platformdirs.user_config_path(APP_NAME)


def state_dir() -> Path:
    """State, history, locks: ``$AMBER_TESLA_SYNC_STATE_DIR`` or the platform state directory
    (``$STATE_DIRECTORY`` under systemd, a colon-separated list of which the first is ours).

    ``$AMBER_TESLA_SYNC_STATE_DIR`` is one path, taken whole (a colon in it is part of the name).
    """
    value = os.environ.get(STATE_ENV)
    if value:
        return Path(value)
    value = os.environ.get("STATE_DIRECTORY")
    if value:
        return Path(value.split(":")[0])
    import platformdirs

    return platformdirs.user_state_path(APP_NAME)
