"""Injected faults: make the next N requests to a path fail in a chosen way."""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from amber_tesla_sync.sandbox.wire import Response

FaultKind = Literal["status", "delay", "malformed", "drop"]
Malformation = Literal["truncated", "wrong_shape", "not_json"]
KINDS: tuple[FaultKind, ...] = ("status", "delay", "malformed", "drop")
MALFORMATIONS: tuple[Malformation, ...] = ("truncated", "wrong_shape", "not_json")


@dataclass
class Fault:
    """One rule: the next ``remaining`` requests whose path starts with ``path`` (and whose method
    is ``method``, if given) fail as ``kind`` says.

    * ``status``: answer ``status`` with ``body`` (JSON value or raw text) and ``headers``.
    * ``delay``: wait ``delay_seconds`` (real time) before answering normally.
    * ``malformed``: answer normally but spoil the body (``truncated`` JSON, ``wrong_shape``,
      ``not_json``).
    * ``drop``: close the connection without any response.

    With ``applied``, the request is carried out first (a tariff stored, a setting changed) and
    only its answer is spoiled: ``delay`` holds the answer back, ``drop`` closes the connection
    instead of answering, ``status`` answers ``status`` (e.g. a 504 from a gateway that gave up
    waiting). Without it those three never reach the service.
    """

    path: str
    kind: FaultKind
    remaining: int = 1
    method: str | None = None
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0
    malformed: Malformation = "truncated"
    applied: bool = False  # carried out first, then the answer is spoiled (see above)
    id: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule applies to a request."""
        if self.remaining <= 0 or not path.startswith(self.path):
            return False
        return self.method is None or self.method.upper() == method.upper()

    def to_json(self) -> dict[str, Any]:
        """The rule as JSON."""
        return asdict(self)


def fault_from_json(data: Any) -> Fault:
    """Build a rule from a control-API body (raises ``ValueError`` when malformed)."""
    if not isinstance(data, dict):
        raise ValueError("a fault must be a JSON object")
    path = data.get("path")
    kind = data.get("kind")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError("path must be an absolute path prefix such as /amber/v1/sites")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    malformed = data.get("malformed", "truncated")
    if malformed not in MALFORMATIONS:
        raise ValueError(f"malformed must be one of {MALFORMATIONS}")
    headers = data.get("headers") or {}
    if not isinstance(headers, dict):
        raise ValueError("headers must be an object")
    return Fault(
        path=path,
        kind=kind,
        remaining=int(data.get("count", data.get("remaining", 1)) or 0),
        method=data.get("method"),
        status=int(data.get("status", 500)),
        body=data.get("body"),
        headers={str(k): str(v) for k, v in headers.items()},
        delay_seconds=float(data.get("delay_seconds", 0.0)),
        malformed=malformed,
        applied=bool(data.get("applied", False)),
    )


class FaultBook:
    """The active fault rules (thread-safe)."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        """Add a rule; returns it with its id."""
        with self._lock:
            fault.id = next(self._ids)
            self._faults.append(fault)
            return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first rule matching the request, with one use consumed."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
            return None

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._faults.clear()

    def remove(self, fault_id: int) -> bool:
        """Remove one rule by id."""
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            return len(self._faults) != before

    def list(self) -> list[dict[str, Any]]:
        """The active rules as JSON."""
        with self._lock:
            return [f.to_json() for f in self._faults]


def status_response(fault: Fault) -> Response:
    """The response of a ``status`` fault."""
    if isinstance(fault.body, str):
        body = fault.body.encode()
        content_type = "text/plain; charset=utf-8"
    else:
        payload = fault.body if fault.body is not None else {"message": "Internal server error"}
        body = json.dumps(payload, separators=(",", ":")).encode()
        content_type = "application/json"
    headers = [("Content-Type", content_type), *fault.headers.items()]
    return Response(fault.status, body, headers)


def spoil(response: Response, how: Malformation) -> Response:
    """A copy of ``response`` with its body spoiled."""
    body = response.body
    headers = [(k, v) for k, v in response.headers if k.lower() != "content-type"]
    if how == "truncated":
        spoiled = body[: max(1, len(body) // 2)]
        content_type = "application/json"
    elif how == "wrong_shape":
        try:
            value = json.loads(body or b"null")
        except ValueError:
            value = None
        if isinstance(value, list):
            shape: Any = {"items": value[:1], "unexpected": True}
        elif isinstance(value, dict):
            shape = [value.get("response", "unexpected")]
        else:
            shape = {"unexpected": True}
        spoiled = json.dumps(shape, separators=(",", ":")).encode()
        content_type = "application/json"
    else:
        spoiled = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        content_type = "text/html"
    return Response(
        response.status,
        spoiled,
        [("Content-Type", content_type), *headers],
        token_kind=response.token_kind,
        category=response.category,
    )
