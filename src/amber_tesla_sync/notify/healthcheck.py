"""The dead man's switch: ``URL/start`` when a run starts, ``URL`` on success, ``URL/fail`` on
failure (healthchecks.io style; the body is a short summary). A ping that fails is logged and
never fails the sync. The URL's path is what lets anyone ping the check: it is logged masked
(scheme and host only), httpx's own request line included."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Literal

import httpx

from amber_tesla_sync.httpbase import tls_context
from amber_tesla_sync.notify.masking import masked_url

log = logging.getLogger(__name__)
Signal = Literal["start", "success", "fail"]
TIMEOUT_SECONDS = 10.0


def ping_url(url: str, signal: Signal) -> str:
    base = url.rstrip("/")
    return base if signal == "success" else f"{base}/{signal}"


@contextlib.contextmanager
def _masked_request_log(url: str, signal: Signal) -> Iterator[None]:
    """While this thread pings, httpx's request log line (``-v``) shows the URL masked."""
    shown = ping_url(masked_url(url, healthcheck=True), signal)
    thread = threading.get_ident()

    def mask(record: logging.LogRecord) -> bool:
        if record.thread == thread and isinstance(record.args, tuple):
            record.args = tuple(shown if isinstance(a, httpx.URL) else a for a in record.args)
        return True

    logger = logging.getLogger("httpx")
    logger.addFilter(mask)
    try:
        yield
    finally:
        logger.removeFilter(mask)


def ping(url: str | None, signal: Signal, summary: str = "") -> bool:
    if not url:
        return False
    target = ping_url(url, signal)
    try:
        with _masked_request_log(url, signal):
            response = httpx.post(
                target,
                content=summary.encode()[:10_000],
                timeout=TIMEOUT_SECONDS,
                verify=tls_context(),
            )
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        log.warning("the healthcheck ping (%s) failed: %s", signal, type(error).__name__)
        return False
    if response.status_code >= 400:
        log.warning("the healthcheck ping (%s) was answered %d", signal, response.status_code)
        return False
    return True
