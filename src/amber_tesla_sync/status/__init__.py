"""What ``status`` and ``history`` show: ``gather`` and ``history`` read the stores and clients,
``summary`` and ``explain`` work out what it means (pure), ``model`` is what the views receive."""
