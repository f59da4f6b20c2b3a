"""A tiny HTTP server on 127.0.0.1 for hostile-answer tests: it records every request (path and
headers) and answers each with what the test scripted."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


Answer = Callable[[str, str], tuple[int, Any]]  # (method, path) -> (status, JSON body)


@dataclass
class Stub:
    url: str
    seen: list[Seen] = field(default_factory=list)


@contextmanager
def stub_server(answer: Answer) -> Iterator[Stub]:
    stub = Stub("")

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            stub.seen.append(Seen(self.command, self.path, dict(self.headers.items())))
            status, body = answer(self.command, self.path)
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: Any) -> None:
            return

    with serving(Handler) as url:
        stub.url = url
        yield stub


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` served on a free port of 127.0.0.1 (one thread a request): its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def drip(out: Any, data: bytes, stop: threading.Event, for_at_most: float, every: float) -> None:
    """Write ``data`` one byte every ``every`` seconds, for at most ``for_at_most`` seconds (or
    until ``stop`` is set, or the client hangs up)."""
    ends = time.monotonic() + for_at_most
    for byte in data:
        if stop.is_set() or time.monotonic() > ends:
            return
        try:
            out.write(bytes([byte]))
        except OSError:
            return
        stop.wait(every)
