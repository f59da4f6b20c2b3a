"""Logging in and out: Amber tokens, Tesla Fleet OAuth on a loopback callback, Teslemetry keys."""
