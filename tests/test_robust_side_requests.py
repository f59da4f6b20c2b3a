"""The requests beside Amber's and Tesla's (``doctor``'s clock check, a healthcheck ping) have the
bounds of every other: a total deadline, however slowly a server drips its answer (each byte well
within the per-read timeout), and a capped body. A ping keeps its own deadline inside a run's, so
a run that ran out of time is still told."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from types import SimpleNamespace
from typing import Any

import pytest

import stubserver
from amber_tesla_sync.doctor import checks
from amber_tesla_sync.notify import healthcheck
from amber_tesla_sync.support.bounds import run_deadline
from test_robust_bodies import MB, gzip_bomb

DRIP_SECONDS = 12.0  # how long the server would drip: the requests must end long before


@contextmanager
def serving(part: str, date: str = "Thu, 15 Jan 2026 05:42:10 GMT") -> Iterator[str]:
    """Every request is answered: ``drip``, a byte of the status line and headers every 0.2 s
    (for at most :data:`DRIP_SECONDS`); ``bomb``, a gzip bomb; ``ok``, a plain 200 with
    ``date``."""
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.close_connection = True
            if part == "drip":
                self._drip(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pad: " * 20)
                return
            body = gzip_bomb(30) if part == "bomb" else b"{}"
            self.send_response_only(200)
            self.send_header("Date", date)
            self.send_header("Content-Type", "application/json")
            if part == "bomb":
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                return

        def _drip(self, data: bytes) -> None:
            stubserver.drip(self.wfile, data, stop, DRIP_SECONDS, 0.2)

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: Any) -> None:
            return

    try:
        with stubserver.serving(Handler) as url:
            yield url
    finally:
        stop.set()


@pytest.fixture
def short_ping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(healthcheck, "TIMEOUT_SECONDS", 1.0)


def test_a_dripping_healthcheck_cannot_hold_the_ping(
    short_ping: None, caplog: pytest.LogCaptureFixture
) -> None:
    with serving("drip") as url:
        started = time.monotonic()
        with caplog.at_level(logging.WARNING):
            assert healthcheck.ping(url + "/check-uuid", "fail", "sync failed") is False
        took = time.monotonic() - started
    assert took < 5, took  # one second's deadline (unbounded: the whole drip, 12 s)
    assert "timed out (no complete answer within 1 s)" in caplog.text
    assert "check-uuid" not in caplog.text


def test_a_healthcheck_answering_a_bomb_is_refused(
    short_ping: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("amber_tesla_sync.support.bounds.MAX_BODY_BYTES", MB)
    with serving("bomb") as url, caplog.at_level(logging.WARNING):
        assert healthcheck.ping(url + "/check-uuid", "success") is False
    assert "larger than 1 MB (decompressed) was refused" in caplog.text


def test_a_ping_is_sent_after_the_runs_deadline_has_passed() -> None:
    with serving("ok") as url, run_deadline(0.01):
        time.sleep(0.05)
        assert healthcheck.ping(url + "/check-uuid", "fail", "the run ran out of time") is True


def clock_context(url: str, timeout: float) -> Any:
    """What ``_clock`` reads of the run's context: Amber's base URL and the network timeout."""
    return SimpleNamespace(
        config=SimpleNamespace(
            amber=SimpleNamespace(base_url=url + "/v1"),
            network=SimpleNamespace(timeout_seconds=timeout),
        )
    )


def test_a_dripping_server_cannot_hold_doctors_clock_check() -> None:
    with serving("drip") as url:
        started = time.monotonic()
        check = checks._clock(
            clock_context(url, 1.0), lambda: checks.dt.datetime.now(checks.dt.UTC)
        )
        took = time.monotonic() - started
    assert took < 5, took
    assert not check.ok
    assert "could not reach" in check.detail
    assert "timed out (no complete answer within 1 s)" in check.detail


@pytest.mark.parametrize(
    ("date", "ok", "detail"),
    [
        ("Thu, 15 Jan 2026 05:42:10 GMT", True, "within 0 s of the server's"),
        ("Thu, 15 Jan 2026 05:52:10 GMT", False, "-600 s off the server's"),
        ("Thu, 15 Jan 2026 05:42:10 -0000", True, "within 0 s"),  # a time without a zone
        ("not a date", False, "no readable Date header"),
    ],
)
def test_doctors_clock_check_reads_the_date(date: str, ok: bool, detail: str) -> None:
    now = checks.dt.datetime(2026, 1, 15, 5, 42, 10, tzinfo=checks.dt.UTC)
    with serving("ok", date) as url:
        check = checks._clock(clock_context(url, 5.0), lambda: now)
    assert check.ok is ok
    assert detail in check.detail
