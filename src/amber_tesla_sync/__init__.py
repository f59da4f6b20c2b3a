"""amber-tesla-sync: Amber Electric prices → Tesla Powerwall time-of-use tariff."""

__version__ = "0.1.0"
