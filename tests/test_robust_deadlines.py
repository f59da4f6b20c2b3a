"""Deadlines: an answer that drips in a byte at a time (each read well within the timeout) ends
its request at the request's deadline, and a sync run ends at the run's, with a service error
(exit 8), its lock released. Everything goes through a proxy on 127.0.0.1 in front of the
sandbox that drips the chosen answers; each drip stops by itself after a few seconds."""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest

import stubserver
from amber_tesla_sync.errors import ExitCode
from synckit import Synced

HOP = ("host", "content-length", "content-encoding", "transfer-encoding", "connection")


@dataclass
class Drip:
    method: str
    path: str  # a path prefix
    part: str = "headers"  # "headers": the status line and headers drip; "body": the body does
    count: int = 3  # answers dripped, then the proxy passes requests through
    every: float = 0.2  # seconds between bytes: well within the per-read timeout
    for_at_most: float = 10.0  # then the drip stops and the connection closes


@contextmanager
def drip_proxy(upstream: str, drip: Drip) -> Iterator[str]:
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.command == drip.method and self.path.startswith(drip.path) and drip.count:
                drip.count -= 1
                self._drip()
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            answer = httpx.request(
                self.command, upstream + self.path, content=body, headers=headers
            )
            self.send_response_only(answer.status_code)  # the sandbox's Date, not this clock's
            for key, value in answer.headers.items():
                if key.lower() not in HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        def _drip(self) -> None:
            self.close_connection = True
            if drip.part == "headers":
                data = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pad: " + b"a" * 999
            else:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "1000")
                self.end_headers()
                data = b" " * 1000
            stubserver.drip(self.wfile, data, stop, drip.for_at_most, drip.every)

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: Any) -> None:
            return

    try:
        with stubserver.serving(Handler) as url:
            yield url
    finally:
        stop.set()


@contextmanager
def through(synced: Synced, drip: Drip, timeout: float = 1.0) -> Iterator[None]:
    """Every request of the CLI goes through a dripping proxy; requests time out after
    ``timeout`` seconds (each read, and now each request in all)."""
    parts = urllib.parse.urlsplit(synced.sandbox.amber_base_url)
    upstream = f"{parts.scheme}://{parts.netloc}"
    config = synced.site.config
    original = config.read_text()
    with drip_proxy(upstream, drip) as proxy:
        config.write_text(
            original.replace(upstream, proxy).replace(
                "timeout_seconds = 2.0", f"timeout_seconds = {timeout}"
            )
        )
        try:
            yield
        finally:
            config.write_text(original)


def timed_sync(synced: Synced) -> tuple[float, Any]:
    started = time.monotonic()
    result = synced.sync()
    return time.monotonic() - started, result


def prices_path(synced: Synced) -> str:
    return f"/amber/v1/sites/{synced.sandbox.amber_site_id}/prices/current"


def tesla_path(synced: Synced, endpoint: str) -> str:
    return f"/teslemetry/api/1/energy_sites/{synced.sandbox.energy_site_id}/{endpoint}"


def test_amber_prices_dripping_in_end_at_the_request_deadline(synced: Synced) -> None:
    with through(synced, Drip("GET", prices_path(synced))):
        took, result = timed_sync(synced)
        assert result.code == ExitCode.SERVICE, result.stderr
        assert "fetching Amber prices failed: timed out" in result.stdout
        assert "within 1 s" in result.stdout
        assert took < 9  # three attempts of 1 s, not three drips of 10 s
        again = synced.sync()  # the lock was released; the proxy passes requests through now
        assert again.code == ExitCode.OK, again.stderr


def test_site_info_dripping_in_ends_at_the_request_deadline(synced: Synced) -> None:
    with through(synced, Drip("GET", tesla_path(synced, "site_info"), part="body")):
        took, result = timed_sync(synced)
        assert result.code == ExitCode.SERVICE, result.stderr
        assert "site_info on Teslemetry failed: timed out" in result.stdout
        assert took < 9
    assert synced.sandbox.tariff_posts() == []


def test_the_tariff_post_answer_dripping_in_ends_at_the_request_deadline(
    synced: Synced,
) -> None:
    drip = Drip("POST", tesla_path(synced, "time_of_use_settings"))
    synced.site.config.write_text(synced.site.config.read_text() + "\n[sync]\nverify_seconds = 0\n")
    with through(synced, drip):
        took, result = timed_sync(synced)
        # sent once, its answer lost: read back (not sent again), unverified rather than failed
        assert result.code == ExitCode.VERIFY, result.stderr
        assert "time_of_use_settings on Teslemetry: sent, but its answer was lost" in result.stderr
        assert "timed out" in result.stdout
        assert "internal error" not in result.stderr
        assert took < 9


def test_a_sync_ends_at_the_runs_deadline(synced: Synced, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each attempt stays within its own deadline (2 s), but the run's (2.5 s) comes first: no
    more attempts, no waiting, a service error that says why."""
    monkeypatch.setattr("amber_tesla_sync.support.bounds.RUN_SECONDS", 2.5)
    with through(synced, Drip("GET", prices_path(synced), count=10), timeout=2.0):
        took, result = timed_sync(synced)
        assert result.code == ExitCode.SERVICE, result.stderr
        assert "a sync may take 2.5 s in all, and that time is up" in result.stdout
        assert "tried 3 times" not in result.stdout
        assert took < 8  # about the run's 2.5 s, not a drip of 10 s
    again = synced.sync()  # the lock was released, and the next run has its own deadline
    assert again.code == ExitCode.OK, again.stderr


def test_other_commands_have_no_run_deadline(
    synced: Synced, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("amber_tesla_sync.support.bounds.RUN_SECONDS", 0.0)
    result = synced.run("status", "--now", synced.now.isoformat())
    assert result.code == ExitCode.OK, result.stderr
