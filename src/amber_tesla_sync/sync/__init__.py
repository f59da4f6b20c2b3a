"""The pipeline, one site at a time: ``sources`` (fetch Amber's prices) → the fold (``tariff``,
options from ``fold_settings``) → ``decide`` → ``powerwall`` (push, read back, curtail, the
owner's settings) → ``run`` (record). ``watched`` wraps a run with notifications, ``zones`` is
the one rule for a site's time zone, ``targets`` chooses the sites, ``context`` opens the clients.
It never imports the CLI or the views."""
