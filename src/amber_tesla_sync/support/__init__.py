"""Plumbing every room may use: parsing times (``times``), redaction and masking, HTTP policy,
logging and atomic files. Imports nothing of the tool but ``errors`` (and its version)."""
