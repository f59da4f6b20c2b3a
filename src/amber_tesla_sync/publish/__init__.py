"""The numbers where owners already look: every ``sync``'s figures on an MQTT broker (with Home
Assistant discovery) and in a Prometheus textfile for node_exporter.

:mod:`.figures` is the data (pure: what a run knew, nothing read here), :mod:`.topics` the MQTT
messages and Home Assistant discovery configs, :mod:`.exposition` the Prometheus text; only
:mod:`.mqtt` (the broker, through the optional paho-mqtt), :mod:`.textfile` (an atomic file
write) and :mod:`.outlets` (both, after a sync) do I/O. Publishing never fails a sync: each
problem is one warning and the next run tries again.

Prices are in Australian dollars per kWh (``AUD/kWh``), as the Powerwall's tariff holds them and
as Home Assistant's energy dashboard takes a price entity; sell prices are what exporting a kWh
earns (negative when exporting costs money).
"""
