"""The dead man's switch: ``URL/start`` when a run starts, ``URL`` on success, ``URL/fail`` on
failure (healthchecks.io style; the body is a short summary). A ping that fails is logged and
never fails the sync. The URL's path is what lets anyone ping the check: it is logged masked
(scheme and host only), httpx's own request line included.

A ping has the bounds of every request (:func:`~amber_tesla_sync.support.http.bounded_request`):
:data:`TIMEOUT_SECONDS` in all, however slowly the server answers, and its answer's body capped.
It keeps that deadline of its own inside a run's: a run that ran out of time is still told."""

from __future__ import annotations

import logging
from typing import Literal

import httpx

from amber_tesla_sync.support import redact
from amber_tesla_sync.support.http import bounded_request, transport_failure
from amber_tesla_sync.support.masking import masked_url

log = logging.getLogger(__name__)
Signal = Literal["start", "success", "fail"]
TIMEOUT_SECONDS = 10.0


def ping_url(url: str, signal: Signal) -> str:
    base = url.rstrip("/")
    return base if signal == "success" else f"{base}/{signal}"


def ping(url: str | None, signal: Signal, summary: str = "") -> bool:
    if not url:
        return False
    # every log line (httpx's request line included) shows the URL masked
    redact.mask(url.rstrip("/"), masked_url(url, healthcheck=True))
    try:
        response = bounded_request(
            "POST",
            ping_url(url, signal),
            TIMEOUT_SECONDS,
            content=summary.encode()[:10_000],
            within_run=False,
        )
    except httpx.InvalidURL as error:
        log.warning("the healthcheck ping (%s) failed: %s", signal, type(error).__name__)
        return False
    except httpx.HTTPError as error:
        why = transport_failure(error).description
        log.warning("the healthcheck ping (%s) failed: %s", signal, why)
        return False
    if response.status_code >= 400:
        log.warning("the healthcheck ping (%s) was answered %d", signal, response.status_code)
        return False
    return True
