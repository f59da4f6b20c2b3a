"""Delivering a message to each configured URL with Apprise (imported only when used).

Notification URLs often carry tokens: only their masked form (:mod:`.masking`) is ever shown or
logged, and Apprise's own log lines are kept out of ours.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from amber_tesla_sync.support.masking import apprise_plugin, masked_url, quiet_apprise

log = logging.getLogger(__name__)
Kind = Literal["info", "success", "warning", "failure"]


@dataclass(frozen=True)
class Delivery:
    url: str  # masked (:func:`masked_url`)
    ok: bool
    detail: str


def check(urls: Sequence[str]) -> list[Delivery]:
    """Whether Apprise understands each URL (nothing is sent)."""
    try:
        import apprise  # noqa: F401
    except ImportError:
        return [Delivery(masked_url(url), False, "apprise is not installed") for url in urls]
    found = []
    for url in urls:
        understood = apprise_plugin(url) is not None
        detail = "understood" if understood else _NOT_UNDERSTOOD
        found.append(Delivery(masked_url(url), understood, detail))
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
        return [Delivery(masked_url(url), False, "apprise is not installed") for url in urls]

    notify_type = {
        "info": apprise.NotifyType.INFO,
        "success": apprise.NotifyType.SUCCESS,
        "warning": apprise.NotifyType.WARNING,
        "failure": apprise.NotifyType.FAILURE,
    }[kind]
    results = []
    with quiet_apprise():
        for url in urls:
            plugin = apprise_plugin(url)
            shown = masked_url(url)
            if plugin is None:
                results.append(Delivery(shown, False, _NOT_UNDERSTOOD))
                continue
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
