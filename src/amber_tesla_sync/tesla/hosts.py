"""Where a Tesla credential may go: Tesla's documented Fleet API hosts and Teslemetry's (https
only), or a host the user configured themselves (the sandbox, a test server).

A server's answer (a 421 "use base URL: …", or ``users/region``) may name a host; the tool
follows it only when it is on this list, so a hostile or broken answer cannot send the bearer
token elsewhere, nor rewrite the configuration to do so later.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable

from amber_tesla_sync.errors import ServiceError

FLEET_HOSTS = frozenset(
    {
        "fleet-api.prd.na.vn.cloud.tesla.com",  # North America and Asia-Pacific
        "fleet-api.prd.eu.vn.cloud.tesla.com",  # Europe, Middle East, Africa
        "fleet-api.prd.cn.vn.cloud.tesla.cn",  # China
    }
)
TESLEMETRY_HOSTS = frozenset({"api.teslemetry.com", "na.teslemetry.com", "eu.teslemetry.com"})


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port


def is_documented(url: str, backend: str = "fleet") -> bool:
    """An https URL on one of the backend's documented API hosts (default port): Tesla's Fleet
    hosts for ``fleet``, Teslemetry's for ``teslemetry`` (a token never crosses over)."""
    origin = _origin(url)
    if origin is None:
        return False
    scheme, host, port = origin
    hosts = TESLEMETRY_HOSTS if backend == "teslemetry" else FLEET_HOSTS
    return scheme == "https" and port in (None, 443) and host in hosts


def is_trusted(url: str, configured: Iterable[str], backend: str = "fleet") -> bool:
    """May the backend's credential be sent to ``url``? Yes for its documented hosts, or for the
    same origin (scheme, host and port) as a base URL the user configured."""
    if is_documented(url, backend):
        return True
    origin = _origin(url)
    return origin is not None and any(origin == _origin(base) for base in configured)


def check_region_url(
    url: str, configured: Iterable[str], source: str, backend: str = "fleet"
) -> str:
    """``url`` (without a trailing slash) if the backend's credential may go there, else a clear
    error."""
    if not is_trusted(url, configured, backend):
        raise ServiceError(
            f"{source} names {_shown(url)} as the account's Fleet API host, which is not one of "
            "Tesla's documented hosts; refused (nothing was sent there and the configuration "
            "was not changed)",
            "if your account really is in another region, set tesla.fleet_api_url to Tesla's "
            "host for it (see the README, 'Tesla regions'); otherwise something between this "
            "machine and Tesla is tampering with the answers",
        )
    return url.rstrip("/")


def _shown(url: str) -> str:
    """The URL for a message: printable characters only, at most 120 of them."""
    text = "".join(c if c.isprintable() else "?" for c in url)
    return repr(text[:120])
