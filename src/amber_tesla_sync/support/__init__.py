"""Plumbing every room may use: time and zones, redaction, HTTP, logging, files."""
