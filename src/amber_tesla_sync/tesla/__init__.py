"""Tesla: one client for the Fleet API and Teslemetry, OAuth login and token refresh, keys and
partner registration."""
