"""The state file's schema version and the steps that bring an older file up to it.

Versions (the ``"schema"`` field at the top of ``state.json``):

1. no ``"schema"`` field: every file written before versions were recorded;
2. ``"schema": 2``: the same layout with its version recorded; the ``restores`` records (design
   rule 12) and a site's ``nmi`` are read with their defaults from a file that lacks them.

A step works on the parsed JSON (a dict), before the models read it; values are never dropped
(the models keep fields they do not know).
"""

from __future__ import annotations

from typing import Any

from amber_tesla_sync.store.migrate import Step, latest, pending

Data = dict[str, Any]
FIELD = "schema"


def _record_version(data: Data) -> None:
    """1 → 2: nothing moves; the fields version 1 lacked take their defaults when read."""


STEPS: tuple[Step[Data], ...] = (Step(1, "the file records its schema version", _record_version),)
STATE_SCHEMA = latest(STEPS)


def found_version(data: Any) -> int:
    """The version ``data`` (the parsed file) says it has; 1 when it says none. A ``"schema"``
    that is not a positive whole number is damage (ValueError)."""
    if not isinstance(data, dict) or FIELD not in data:
        return 1
    value = data[FIELD]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"its schema version {value!r} is not a positive whole number")
    return value


def upgraded(data: Any, found: int) -> Any:
    """``data`` of version ``found`` (at most :data:`STATE_SCHEMA`) with every pending step
    applied, without its version field (the models do not read it)."""
    if not isinstance(data, dict):
        return data  # not the state's shape: the models say so
    data = dict(data)
    data.pop(FIELD, None)
    for step in pending(STEPS, found):
        step.apply(data)
    return data
