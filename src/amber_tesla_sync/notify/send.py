"""Delivering a message to each configured URL with Apprise (imported only when used).

Notification URLs often carry tokens: only Apprise's privacy form of a URL (secrets masked) is
ever shown or logged, and Apprise's own log lines are kept out of ours.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

log = logging.getLogger(__name__)
Kind = Literal["info", "success", "warning", "failure"]


@dataclass(frozen=True)
class Delivery:
    url: str  # the privacy form (secrets masked)
    ok: bool
    detail: str


def _scheme(url: str) -> str:
    return url.split("://", 1)[0] + "://…" if "://" in url else "(not a URL)"


@contextlib.contextmanager
def _quiet_apprise() -> Iterator[None]:
    logger = logging.getLogger("apprise")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    try:
        yield
    finally:
        logger.setLevel(level)
        logger.propagate = propagate


def _plugin(url: str) -> Any:
    import apprise

    return apprise.Apprise.instantiate(url, suppress_exceptions=True)


def check(urls: Sequence[str]) -> list[Delivery]:
    """Whether Apprise understands each URL (nothing is sent)."""
    try:
        import apprise  # noqa: F401
    except ImportError:
        return [Delivery(_scheme(url), False, "apprise is not installed") for url in urls]
    found = []
    with _quiet_apprise():
        for url in urls:
            plugin = _plugin(url)
            if plugin is None:
                found.append(Delivery(_scheme(url), False, _NOT_UNDERSTOOD))
            else:
                found.append(Delivery(plugin.url(privacy=True), True, "understood"))
    return found


_NOT_UNDERSTOOD = (
    "Apprise does not understand this URL (check its scheme and form in the Apprise wiki)"
)


def send(urls: Sequence[str], title: str, body: str, kind: Kind = "info") -> list[Delivery]:
    """Send one message to each URL; never raises (a failure is logged and reported)."""
    try:
        import apprise
    except ImportError:
        log.warning("cannot notify: the apprise package is not installed (pip install apprise)")
        return [Delivery(_scheme(url), False, "apprise is not installed") for url in urls]

    notify_type = {
        "info": apprise.NotifyType.INFO,
        "success": apprise.NotifyType.SUCCESS,
        "warning": apprise.NotifyType.WARNING,
        "failure": apprise.NotifyType.FAILURE,
    }[kind]
    results = []
    with _quiet_apprise():
        for url in urls:
            plugin = _plugin(url)
            if plugin is None:
                results.append(Delivery(_scheme(url), False, _NOT_UNDERSTOOD))
                continue
            shown = plugin.url(privacy=True)
            try:
                ok = bool(plugin.notify(body=body, title=title, notify_type=notify_type))
            except Exception as error:  # a plugin's own failure must never end the sync
                ok, detail = False, f"failed ({type(error).__name__})"
            else:
                detail = "sent" if ok else "not delivered (the service did not accept it)"
            results.append(Delivery(shown, ok, detail))
    for result in results:
        if not result.ok:
            log.warning("notification to %s: %s", result.url, result.detail)
    return results
