"""Tesla's JSON envelope: ``{"response": …}`` on success, ``{"response": null, "error": …}``."""

from __future__ import annotations

from typing import Any

from amber_tesla_sync.sandbox.wire import Response, json_response


def ok(payload: Any, **extra: Any) -> Response:
    """A 200 with ``{"response": payload}`` (plus top-level ``extra`` keys such as ``count``)."""
    return json_response(200, {"response": payload, **extra})


def error(status: int, message: str, description: str = "") -> Response:
    """An error in Tesla's envelope."""
    return json_response(
        status, {"response": None, "error": message, "error_description": description}
    )


def command_result(result: bool, reason: str = "") -> Response:
    """A command's ``{"response": {"result": …, "reason": …}}``."""
    return ok({"result": result, "reason": reason})
