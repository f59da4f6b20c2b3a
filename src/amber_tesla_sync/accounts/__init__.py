"""Logging in and out (the ``login``, ``logout``, ``keygen`` and ``register`` commands' logic):
Amber tokens, Tesla Fleet OAuth on a loopback callback, Teslemetry keys, choosing the energy site.

A command room: it may use the pipeline's ``sync.context`` and everything below it; views and the
CLI stay above it (see the house plan in README.md and ``[tool.importlinter]``)."""
