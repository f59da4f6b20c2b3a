"""Plain request and response values passed between the HTTP server and the services."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Request:
    """An HTTP request as the services see it."""

    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """A request header (case-insensitive)."""
        return self.headers.get(name.lower())

    def param(self, name: str) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        """The body parsed as JSON (raises ``ValueError``)."""
        return json.loads(self.body.decode("utf-8") or "null")

    def form(self) -> dict[str, str]:
        """The body parsed as ``application/x-www-form-urlencoded`` (first value of each key)."""
        parsed = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}

    def bearer(self) -> str | None:
        """The bearer token; None without an Authorization header, "" when it is malformed."""
        value = self.header("authorization")
        if value is None:
            return None
        scheme, _, token = value.strip().partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""


@dataclass
class Response:
    """An HTTP response, plus notes for the request log."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    token_kind: str = "none"
    category: str = "other"
    drop: bool = False
    delay: float = 0.0
    fault: str | None = None

    def header(self, name: str) -> str | None:
        """A response header (case-insensitive)."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def dumps(obj: Any, *, compact: bool = True) -> bytes:
    """JSON bytes; compact like API Gateway unless ``compact`` is false."""
    if compact:
        return json.dumps(obj, separators=(",", ":")).encode()
    return json.dumps(obj).encode()


def json_response(
    status: int,
    obj: Any,
    headers: list[tuple[str, str]] | None = None,
    *,
    compact: bool = True,
) -> Response:
    """A JSON response."""
    return Response(
        status,
        dumps(obj, compact=compact),
        [("Content-Type", "application/json"), *(headers or [])],
    )


def html_response(status: int, title: str, message: str) -> Response:
    """A minimal HTML page (the way an authorization server shows errors)."""
    page = (
        f"<!DOCTYPE html><html><head><title>{title}</title></head>"
        f"<body><h1>{title}</h1><p>{message}</p></body></html>"
    )
    return Response(status, page.encode(), [("Content-Type", "text/html; charset=utf-8")])


def redirect(location: str) -> Response:
    """A 302 redirect."""
    return Response(302, b"", [("Location", location), ("Cache-Control", "no-store")])
