"""Notification URLs as they may be shown: secrets masked, everywhere they are printed or logged.

Notification URLs carry bot tokens, passwords and API keys, and a healthcheck URL's path is what
lets anyone ping the check. Every output that quotes one (``config show``/``get``, ``doctor``,
``notify test``, an error naming a bad value, a log line) goes through :func:`masked_url`.
Apprise is imported only when there is a URL to mask.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

HEALTHCHECK_KEY = "notify.healthcheck_url"
URLS_KEY = "notify.urls"
SECRET_KEYS = (URLS_KEY, HEALTHCHECK_KEY)
ELIDED = "…"
NOT_A_URL = "(not a URL)"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


@contextlib.contextmanager
def quiet_apprise() -> Iterator[None]:
    """Apprise's own log lines (which may quote a URL) are kept out of ours."""
    logger = logging.getLogger("apprise")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    try:
        yield
    finally:
        logger.setLevel(level)
        logger.propagate = propagate


def apprise_plugin(url: str) -> Any:
    """Apprise's plugin for ``url``; None when Apprise does not understand it (or is missing)."""
    try:
        import apprise
    except ImportError:
        return None
    with quiet_apprise():
        return apprise.Apprise.instantiate(url, suppress_exceptions=True)


def _looks_like_host(host: str) -> bool:
    """A name a server answers to (``hc-ping.com``, ``localhost``, an address), not a token in
    the host's place (``tgram://BOT_TOKEN/…`` of a scheme Apprise did not recognise)."""
    return host == "localhost" or "." in host or ":" in host


def scheme_and_host(url: str) -> str:
    """``https://hc-ping.com/…``: the scheme and the host, nothing that could be a secret (no
    user, password, path or query; no host either when it does not look like one)."""
    text = url.strip()
    scheme, separator, _ = text.partition("://")
    if not separator or not _SCHEME.fullmatch(scheme):
        return NOT_A_URL
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:
        host = ""
    if not (host and _looks_like_host(host)):
        return f"{scheme.lower()}://{ELIDED}"
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme.lower()}://{shown}/{ELIDED}"


def masked_url(url: str, healthcheck: bool = False) -> str:
    """``url`` as it may be shown: Apprise's privacy form where Apprise understands it, else (and
    always for a ``healthcheck`` URL) the scheme and host only."""
    if not healthcheck:
        plugin = apprise_plugin(url)
        if plugin is not None:
            # without the query: Apprise spells out every option there, defaults included
            return str(plugin.url(privacy=True)).split("?", 1)[0]
    return scheme_and_host(url)


def _mask_any(value: Any, healthcheck: bool) -> Any:
    if isinstance(value, str):
        return masked_url(value, healthcheck)
    if isinstance(value, list | tuple):
        return [_mask_any(item, healthcheck) for item in value]
    if isinstance(value, dict):
        return {
            key: _mask_any(item, healthcheck or key == "healthcheck_url")
            for key, item in value.items()
        }
    return value


def is_secret_key(key: str) -> bool:
    """Whether a dotted key (``notify.urls``, ``notify.urls.0``, or the ``notify`` table itself)
    may hold a notification URL."""
    return key == "notify" or any(key == name or key.startswith(name + ".") for name in SECRET_KEYS)


def masked_value(key: str, value: Any) -> Any:
    """``value`` of the setting ``key`` as it may be shown: each notification URL in it masked
    (a list of URLs stays a list); any other setting's value is returned unchanged."""
    if not is_secret_key(key):
        return value
    return _mask_any(value, key.startswith(HEALTHCHECK_KEY))


def masked_settings(data: dict[str, Any]) -> dict[str, Any]:
    """Settings (``{"notify": {"urls": [...]}, ...}``) with every notification URL masked."""
    notify = data.get("notify")
    if not isinstance(notify, dict):
        return data
    return data | {"notify": masked_value("notify", notify)}


def masked_keys(data: dict[str, Any]) -> list[str]:
    """The keys of settings (a raw table or a dumped model) that hold notification URLs."""
    notify = data.get("notify")
    if not isinstance(notify, dict):
        return []
    return [key for key in SECRET_KEYS if notify.get(key.removeprefix("notify."))]


def holds_urls(data: dict[str, Any]) -> bool:
    """Whether settings (a raw table or a dumped model) hold a notification URL."""
    return bool(masked_keys(data))
