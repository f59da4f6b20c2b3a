"""Text from servers (and anything else headed for the terminal, a log or the history) made safe:
every secret value this process has seen is replaced by ``[redacted]``, and control characters
(terminal escape sequences included) are removed.

Secrets are remembered as they are read from or written to the secret store and as tokens
arrive from Tesla, so an error body that echoes a token cannot carry it any further: every
:class:`~amber_tesla_sync.errors.AppError` passes its message and hint through
:func:`secrets_only` (registered below), wherever it goes next.
"""

from __future__ import annotations

import json
import re
import threading

from amber_tesla_sync import errors

REDACTED = "[redacted]"
MIN_LENGTH = 8  # shorter values would redact ordinary words
_lock = threading.Lock()
_known: set[str] = set()
_shown: dict[str, str] = {}  # values shown in a masked form instead (a healthcheck URL)
_pattern: list[re.Pattern[str]] = []  # the one compiled pattern of every known value
# escape sequences first (CSI, OSC, two-character ones), then any other control character
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)?|\x1b[@-_]?")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\t\n\r]+")


def remember(*values: str | None) -> None:
    """Secret values to redact from now on (a saved Fleet token set: each token inside it)."""
    found: set[str] = set()
    for value in values:
        if not value:
            continue
        found.add(value.strip())
        try:
            data = json.loads(value)
        except ValueError:
            data = None
        if isinstance(data, dict):
            found |= {v for k, v in data.items() if k.endswith("token") and isinstance(v, str)}
        found |= {line.strip() for line in value.splitlines() if "-----" not in line}
    found = {item for item in found if len(item) >= MIN_LENGTH}
    with _lock:
        if found <= _known:
            return
        _known.update(found)
        _compile()


def mask(value: str, shown: str) -> None:
    """From now on ``value`` (a URL that carries a secret) is shown as ``shown``."""
    with _lock:
        if _shown.get(value) == shown:
            return
        _shown[value] = shown
        _compile()


def _compile() -> None:
    ordered = sorted(_known | set(_shown), key=len, reverse=True)  # the longest match wins
    _pattern[:] = [re.compile("|".join(re.escape(item) for item in ordered))]


def secrets_only(text: str) -> str:
    """``text`` with every remembered secret replaced (or shown masked)."""
    patterns = list(_pattern)
    if not patterns:
        return text
    return patterns[0].sub(lambda match: _shown.get(match[0], REDACTED), text)


errors.scrub_with(secrets_only)  # every AppError: the one place server text becomes an error


def clean(text: str) -> str:
    """For output, logs and the history: secrets redacted, control characters removed (line
    breaks and tabs kept)."""
    return _CONTROL.sub("", _ESCAPES.sub("", secrets_only(text)))


def server_text(text: str, limit: int = 300) -> str:
    """A server's words for one line of a message: cleaned, on one line, at most ``limit``
    characters."""
    return _LINE_BREAKS.sub(" ", clean(text)).strip()[:limit]
