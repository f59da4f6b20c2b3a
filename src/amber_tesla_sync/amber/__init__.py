"""Amber Electric: the data models (pure) and the one HTTP client that knows Amber's URLs and
wire format. Below everything that fetches prices; above only ``support`` and ``errors``."""
