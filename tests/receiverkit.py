"""A small HTTP receiver on 127.0.0.1 for notifications (Apprise ``json://``) and healthcheck
pings: it records every request's method, path and body."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Received:
    method: str
    path: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    port: int
    received: list[Received] = field(default_factory=list)
    status: int = 200

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def notify_url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def at(self, prefix: str) -> list[Received]:
        return [r for r in self.received if r.path.startswith(prefix)]

    def messages(self) -> list[dict[str, Any]]:
        return [r.json() for r in self.at("/hook")]

    def clear(self) -> None:
        self.received.clear()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found: list[Received] = []
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            found.append(Received(self.command, self.path, self.rfile.read(length)))
            self.send_response(holder["r"].status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"OK")

        do_GET = do_POST = do_HEAD = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    holder["r"] = Receiver(server.server_address[1], found)
    try:
        yield holder["r"]
    finally:
        server.shutdown()
        server.server_close()
