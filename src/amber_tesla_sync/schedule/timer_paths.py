"""What the system service cannot see (ProtectHome=, PrivateTmp=): checked before installing."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from amber_tesla_sync.errors import SchedulerError
from amber_tesla_sync.schedule.host import PROG, SYSTEM_STATE_DIR

# The system service cannot see these (ProtectHome=yes, PrivateTmp=yes).
HIDDEN_FROM_SYSTEM_SERVICE = ("/home", "/root", "/run/user", "/tmp", "/var/tmp")


def hidden_from_system_service(path: Path) -> Path | None:
    """Where ``path`` leads into a directory hidden from the system service, if it does
    (checked as written and with symlinks followed: the service opens the former, the kernel
    follows the latter)."""
    for candidate in (path.absolute(), path.resolve()):
        for prefix in map(Path, HIDDEN_FROM_SYSTEM_SERVICE):
            if candidate == prefix or prefix in candidate.parents:
                return candidate
    return None


def python_paths() -> list[tuple[str, Path]]:
    """The Python installation the program runs on (a venv's python is often a symlink into a
    home directory, e.g. pyenv's)."""
    return [
        ("the Python interpreter", Path(sys.executable)),
        ("the Python installation", Path(sys.base_prefix)),
    ]


def check_system_paths(command: Sequence[str], config: Path | None) -> None:
    paths = [("the program", Path(command[0])), *python_paths()]
    if config is not None:
        paths.append(("the config file", config))
    for what, path in paths:
        hidden = hidden_from_system_service(path)
        if hidden is not None:
            where = "" if hidden == path.absolute() else f" (that is {hidden})"
            raise SchedulerError(
                f"the system service cannot use {what} {path}{where}: it cannot see home "
                "directories or /tmp (ProtectHome=yes, PrivateTmp=yes)",
                f"install {PROG} and its Python outside them (e.g. `sudo PIPX_HOME=/opt/pipx "
                "PIPX_BIN_DIR=/usr/local/bin pipx install .`) and keep the service's config "
                f"under {SYSTEM_STATE_DIR}; or run the timer as yourself: "
                f"`{PROG} schedule install --user`",
            )
