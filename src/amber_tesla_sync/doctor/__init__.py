"""The ``doctor`` command's checks: settings, secrets, the tool's own files, the schedule, the
Powerwall's settings. A command room: it reads through the stores and clients below it."""
