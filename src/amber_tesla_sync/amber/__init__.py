"""Amber Electric: data models (and, later, the API client)."""
