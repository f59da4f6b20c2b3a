"""The one JSON convention of every ``--json`` output (documented in the README).

Every document is an object with:

- ``schema`` — the version of this convention (:data:`SCHEMA`); it changes only when a field is
  removed or changes meaning (new fields may appear at any time);
- ``command`` — the command that printed it (``status``, ``sync``, ``doctor``, …);
- ``generated_at`` — when, ISO 8601 with an offset;
- ``price_unit`` — ``"c/kWh"``: every price in the document is in Australian cents per kWh,
  buy prices as paid and sell prices as earned (positive = you are paid). The only exception is
  ``tesla_request`` in ``tariff``, which is Tesla's own request body, verbatim ($/kWh);

and then the command's own fields. Times are ISO 8601 with their offset, always.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

SCHEMA = 1
PRICE_UNIT = "c/kWh"


def iso(moment: dt.datetime | None) -> str | None:
    """An aware time as ISO 8601 with its offset (a naive one is a bug: refuse it)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r} in JSON output")
    return moment.isoformat()


def cents(dollars: float | None) -> float | None:
    """$/kWh (Tesla's unit) → c/kWh, rounded to 4 decimals."""
    return None if dollars is None else round(dollars * 100, 4)


def envelope(
    command: str, fields: dict[str, Any], now: dt.datetime | None = None
) -> dict[str, Any]:
    """The document for ``command``: the common header, then ``fields``."""
    moment = now or dt.datetime.now(dt.UTC)
    head: dict[str, Any] = {
        "schema": SCHEMA,
        "command": command,
        "generated_at": iso(moment),
        "price_unit": PRICE_UNIT,
    }
    return head | fields


def emit(command: str, fields: dict[str, Any], now: dt.datetime | None = None) -> None:
    """Print the document for ``command`` on stdout (one JSON object, indented)."""
    text = json.dumps(envelope(command, fields, now), indent=2, ensure_ascii=False)
    sys.stdout.write(text + "\n")
