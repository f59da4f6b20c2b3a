"""The OAuth redirect's landing place: a one-shot HTTP listener on 127.0.0.1, or a pasted URL."""

from __future__ import annotations

import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from amber_tesla_sync.errors import AuthError

PAGE = (
    "<!doctype html><meta charset=utf-8><title>amber-tesla-sync</title>"
    "<body style='font-family:sans-serif'><h1>{title}</h1><p>{text}</p></body>"
)


@dataclass(frozen=True)
class Redirect:
    """What came back on the redirect URI: a code (and state), or an error."""

    code: str | None
    state: str | None
    error: str | None

    @classmethod
    def from_query(cls, query: str) -> Redirect:
        params = urllib.parse.parse_qs(query)

        def one(name: str) -> str | None:
            values = params.get(name)
            return values[0] if values else None

        error = one("error")
        if error and one("error_description"):
            error = f"{error}: {one('error_description')}"
        return cls(code=one("code"), state=one("state"), error=error)


def parse_pasted(text: str, redirect_uri: str) -> Redirect:
    """The URL the browser was sent to (pasted from the address bar)."""
    url = urllib.parse.urlsplit(text.strip())
    expected = urllib.parse.urlsplit(redirect_uri)
    if not url.query or url.path.rstrip("/") != expected.path.rstrip("/"):
        raise AuthError(
            "that is not the redirected URL (it should start with "
            f"{redirect_uri} and carry ?code=…&state=…)",
            "copy the whole address from the browser's address bar after approving, and run "
            "`amber-tesla-sync login fleet --paste` again",
        )
    return Redirect.from_query(url.query)


class CallbackListener:
    """Listens on 127.0.0.1 at the redirect URI's port for the one request that matters."""

    def __init__(self, redirect_uri: str, expected_state: str | None = None) -> None:
        parts = urllib.parse.urlsplit(redirect_uri)
        if parts.port is None:
            raise AuthError(
                f"the redirect URI {redirect_uri} has no port",
                "set tesla.redirect_uri to e.g. http://localhost:58585/callback (and register it "
                "at developer.tesla.com)",
            )
        self.path = parts.path or "/"
        self.port = parts.port
        self._result: Redirect | None = None
        self._arrived = threading.Event()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                if url.path.rstrip("/") != listener.path.rstrip("/") or not url.query:
                    self._reply(404, "Not found", "This is not the page you are looking for.")
                    return
                result = Redirect.from_query(url.query)
                if result.error:
                    self._reply(400, "Login failed", "Tesla reported an error; see the terminal.")
                elif expected_state is not None and result.state != expected_state:
                    self._reply(
                        400,
                        "Login failed",
                        "This approval does not belong to the login in progress (it may be "
                        "forged or stale); nothing was saved. See the terminal.",
                    )
                else:
                    self._reply(
                        200, "Logged in", "You can close this window and go back to the terminal."
                    )
                listener.deliver(result)

            def _reply(self, status: int, title: str, text: str) -> None:
                body = PAGE.format(title=title, text=text).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # never log codes
                return

        try:
            self._server = HTTPServer(("127.0.0.1", self.port), Handler)
        except OSError as exc:
            raise PortBusy(self.port, exc.strerror or str(exc)) from exc
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def deliver(self, result: Redirect) -> None:
        if not self._arrived.is_set():
            self._result = result
            self._arrived.set()

    def wait(self, timeout: float) -> Redirect | None:
        self._arrived.wait(timeout)
        return self._result

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class PortBusy(Exception):
    def __init__(self, port: int, reason: str) -> None:
        super().__init__(f"port {port}: {reason}")
        self.port = port
        self.reason = reason
