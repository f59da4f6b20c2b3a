"""The texts of the systemd units (filled in by :mod:`.units`)."""

from __future__ import annotations

from amber_tesla_sync.schedule.host import PROG, SERVICE, TIMER

SERVICE_HEAD = f"""\
# {PROG}: one sync (fetch Amber's prices, push the Powerwall tariff if it
# changed), started every 5 minutes by {TIMER}.
# `{PROG} schedule install{{install_flag}}` writes this file with ExecStart= running the
# program it was run as; a copy made by hand needs the program's real path there.
# Logs: journalctl{{journal_flag}} -u {PROG} (-p warning: warnings and errors only)
#
# No OnFailure= hook, on purpose: with [notify] urls set in the config, sync itself tells you
# when a site starts failing (with what to do) and when it works again, once per change, where
# an OnFailure= unit would fire on every failed run, every 5 minutes; and
# notify.healthcheck_url (a dead man's switch) tells you when runs stop, hang or crash.
"""

SYSTEM_SERVICE = """\
#
# System variant. It runs as the dedicated account "{account}" (create it first: see
# the README, "Running unattended"). Not DynamicUser=: the secrets and the Fleet refresh
# token (which rotates) must outlive the run. The account's settings, its secrets file
# (secrets.store = "file") and its state all live in {state_dir},
# which systemd creates and hands to the account. For your own account's keyring and
# settings use the user variant instead.

[Unit]
Description=Write Amber Electric's prices into a Tesla Powerwall tariff (one sync)
# Not before the clock is set (a board without a real-time clock): a tariff built on a wrong
# clock is shifted in time. With systemd-timesyncd, enable systemd-time-wait-sync.service so
# that time-sync.target waits for the first synchronisation; sync checks the clock too.
Wants=network-online.target time-sync.target
After=network-online.target time-sync.target

[Service]
Type=oneshot
ExecStart={command}
SyslogIdentifier={prog}
# A hung run must not block the ones after it (the timer never starts a second one).
TimeoutStartSec=4min

User={account}
Group={account}
StateDirectory={prog}
StateDirectoryMode=0700
Environment=AMBER_TESLA_SYNC_CONFIG={config}
UMask=0077

# Secrets may also come from systemd credentials (read-only, named like the secret; they
# override the secrets file); not the Fleet refresh token, which rotates.
#LoadCredential=amber_token:/etc/credstore/{prog}/amber_token
#LoadCredential=teslemetry_token:/etc/credstore/{prog}/teslemetry_token
#LoadCredential=tesla_client_secret:/etc/credstore/{prog}/tesla_client_secret
#LoadCredential=fleet_private_key:/etc/credstore/{prog}/fleet_private_key

# Hardening: it needs HTTPS out, DNS and its state directory, nothing else. A --config
# file elsewhere is read-only to it (a drop-in with ReadWritePaths= changes that).
NoNewPrivileges=yes
CapabilityBoundingSet=
PrivateUsers=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateMounts=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RemoveIPC=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
# CPython does not JIT; drop this line for a Python built with the experimental JIT.
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM
"""

USER_SERVICE = """\
#
# User variant: runs as you, with your settings, secret store and state, under your systemd
# user manager. Without lingering it runs only while you are logged in:
#   sudo loginctl enable-linger $USER

[Unit]
Description=Write Amber Electric's prices into a Tesla Powerwall tariff (one sync)

[Service]
Type=oneshot
ExecStart={command}
SyslogIdentifier={prog}
# A hung run must not block the ones after it (the timer never starts a second one).
TimeoutStartSec=4min
UMask=0077

# Secrets may also come from systemd credentials (read-only, named like the secret; they
# override the store); not the Fleet refresh token, which rotates.
#LoadCredential=amber_token:%h/.config/{prog}/credentials/amber_token
#LoadCredential=teslemetry_token:%h/.config/{prog}/credentials/teslemetry_token

# Hardening that works in a user manager (seccomp; no namespaces). The keyring is reached over
# D-Bus (AF_UNIX), Amber and Tesla over HTTPS.
NoNewPrivileges=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
# CPython does not JIT; drop this line for a Python built with the experimental JIT.
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM

# File-system sandboxing in a user service needs PrivateUsers=yes (an unprivileged user
# namespace), which some systems forbid (Ubuntu's AppArmor policy, many containers) and then the
# service would not start at all. Where user namespaces are allowed you may add:
#PrivateUsers=yes
#ProtectSystem=strict
#ProtectHome=read-only
#ReadWritePaths=%h/.config/{prog} %h/.local/state/{prog}
#PrivateTmp=yes
"""

TIMER_TEXT = f"""\
# {PROG}: start {SERVICE} every 5 minutes, 30 s after the boundary
# (hh:00:30, hh:05:30, ...), once Amber has published the new interval's price.
# `{PROG} schedule install{{install_flag}}` installs and enables it.

[Unit]
Description=Run {PROG} every 5 minutes

[Timer]
OnCalendar=*:0/5:30
# Up to 15 s later at random, so that installations do not all call Amber in the same second.
RandomizedDelaySec=15s
AccuracySec=1s
# After downtime that missed a run, run once straight away.
Persistent=true

[Install]
WantedBy=timers.target
"""
