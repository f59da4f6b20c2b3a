"""``report``: what the battery earned, day by day, from Amber's bill and the Powerwall's meter.
``gather`` reads (and caches) the answers; ``compute``, ``coverage`` and ``totals`` are pure."""
