"""The Prometheus textfile (``metrics.textfile``): replaced atomically after every sync, so
node_exporter never reads half a file; and doctor's check that it can be.

The file is written beside itself (a hidden ``.NAME.*.tmp`` that the collector, which reads
``*.prom`` only, never looks at) and renamed over the old one, mode 0644: node_exporter usually
runs as another user. The directory is not created: it is node_exporter's
(``--collector.textfile.directory``), and a missing one is more likely a typo.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from amber_tesla_sync.support.files import atomic_write_text

MODE = 0o644


class TextfileError(Exception):
    """Why the textfile cannot be written, and what to do (one line)."""


def textfile_path(setting: str) -> Path:
    return Path(setting).expanduser()


def write_textfile(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically; TextfileError says why it could not be."""
    _check_directory(path)
    try:
        atomic_write_text(path, text, mode=MODE)
    except OSError as exc:
        raise TextfileError(
            f"cannot write the metrics textfile {path}: {exc.strerror or exc}; make "
            f"{path.parent} writable by the user that runs amber-tesla-sync"
        ) from exc


def check_textfile(path: Path) -> str:
    """That the textfile can be written (a probe file is made and removed in its directory):
    a line saying so, or TextfileError."""
    _check_directory(path)
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise TextfileError(
            f"the metrics directory {path.parent} is not writable ({exc.strerror or exc}); make "
            "it writable by the user that runs amber-tesla-sync"
        ) from exc
    os.close(fd)
    with contextlib.suppress(OSError):
        Path(probe).unlink()
    return f"{path.parent} is writable; {path.name} is replaced after every sync"


def _check_directory(path: Path) -> None:
    if not path.parent.is_dir():
        raise TextfileError(
            f"the metrics directory {path.parent} does not exist; create it, or set "
            "metrics.textfile to a file in node_exporter's --collector.textfile.directory"
        )
