"""``report``: what the battery earned, day by day, from Amber's bill and the Powerwall's meter."""
