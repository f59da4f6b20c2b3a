"""A loopback simulator of the Amber Electric API, the Tesla Fleet API and Teslemetry.

Everything is served on one port of 127.0.0.1 under path prefixes:

* ``/amber/v1`` — Amber (``/sites``, ``/sites/{id}/prices[/current]``, ``/sites/{id}/usage``,
  ``/state/{state}/renewables/current``)
* ``/auth`` — Tesla authorization (``/oauth2/v3/authorize``, ``/oauth2/v3/token``)
* ``/fleet/na``, ``/fleet/eu`` — Fleet API regional hosts (the user lives in ``na``)
* ``/teslemetry`` — Teslemetry
* ``/_sandbox`` — the control API for tests (see :mod:`amber_tesla_sync.sandbox.control`)

``Sandbox`` runs it in-process (tests, ``demo``); ``serve_forever`` runs it in the foreground.
"""

from amber_tesla_sync.sandbox.clock import SandboxClock
from amber_tesla_sync.sandbox.config import SandboxConfig, SandboxCredentials
from amber_tesla_sync.sandbox.foreground import banner, serve_forever
from amber_tesla_sync.sandbox.runner import Sandbox

__all__ = [
    "Sandbox",
    "SandboxClock",
    "SandboxConfig",
    "SandboxCredentials",
    "banner",
    "serve_forever",
]
