"""HTTP plumbing: a stdlib ``ThreadingHTTPServer`` bound to 127.0.0.1 that turns requests into
:class:`wire.Request` values for :class:`app.SandboxApp` and writes its responses back."""

from __future__ import annotations

import contextlib
import email.utils
import socket
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from amber_tesla_sync.sandbox.app import SandboxApp
from amber_tesla_sync.sandbox.config import HOST
from amber_tesla_sync.sandbox.wire import Request, Response, json_response


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 256

    def __init__(self, port: int, app: SandboxApp) -> None:
        self.app = app
        super().__init__((HOST, port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "amber-tesla-sync-sandbox"
    sys_version = ""
    timeout = 30
    disable_nagle_algorithm = True
    server: _HTTPServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header, on the sandbox clock."""
        when = self.server.app.clock().timestamp() if timestamp is None else timestamp
        return email.utils.formatdate(when, usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default access log (it would show query strings)."""

    def _read_request(self) -> Request | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "bad Content-Length")
            return None
        split = urlsplit(self.path)
        return Request(
            method=self.command,
            path=split.path or "/",
            query=parse_qs(split.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length > 0 else b"",
        )

    def _answer(self, request: Request) -> Response:
        try:
            return self.server.app.handle(request)
        except Exception:  # a sandbox bug: answer like a failing server and keep serving
            traceback.print_exc(file=sys.stderr)
            return json_response(500, {"message": "Internal server error"})

    def _serve(self) -> None:
        try:
            request = self._read_request()
            if request is None:
                return
            response = self._answer(request)
            if response.drop:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True


class HTTPService:
    """Serves a :class:`SandboxApp` on 127.0.0.1 in a background thread."""

    def __init__(self, app: SandboxApp, port: int) -> None:
        self.app = app
        self._server = _HTTPServer(port, app)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-{self.port}",
            daemon=True,
        )

    def start(self) -> None:
        """Start serving."""
        self._thread.start()

    @property
    def running(self) -> bool:
        """Whether the server thread is alive."""
        return self._thread.is_alive()

    def stop(self) -> None:
        """Stop serving and release the port."""
        self.app.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
