"""The sandbox in the foreground (``amber-tesla-sync sandbox``): :func:`serve_forever` and the
banner of its URLs, throwaway credentials and settings."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import TextIO

from amber_tesla_sync.sandbox.config import DEFAULT_CALLBACK_PORT
from amber_tesla_sync.sandbox.runner import Sandbox


def banner(sandbox: Sandbox) -> str:
    """The foreground banner: base URLs and the sandbox's own throwaway credentials."""
    c = sandbox.credentials
    sites = sandbox.app.amber_sites
    lines = [
        f"amber-tesla-sync sandbox listening on {sandbox.base_url} (seed {sandbox.seed})",
        "",
        f"  Amber API            {sandbox.amber_base_url}",
        f"  Tesla auth           {sandbox.tesla_auth_base_url}",
        f"  Fleet API (NA)       {sandbox.fleet_na_base_url}",
        f"  Fleet API (EU)       {sandbox.fleet_eu_base_url}   (answers 421: user is in NA)",
        f"  Teslemetry           {sandbox.teslemetry_base_url}",
        f"  Control              {sandbox.control_base_url}",
        "",
        "Throwaway credentials (they work only against this sandbox):",
        f"  Amber token          {c.amber_token}",
        f"  Teslemetry token     {c.teslemetry_token}",
        f"  Fleet client_id      {c.client_id}",
        f"  Fleet client_secret  {c.client_secret}",
        f"  Redirect URI         {c.redirect_uri}",
        f"  Partner domain       {c.allowed_domain}",
        "",
        "Amber sites:",
        *(f"  {s.id}  {s.interval_length}-minute, {s.status}, NMI {s.nmi}" for s in sites),
        f"Energy site id: {sandbox.energy_site_id}",
        "",
        "Settings that point amber-tesla-sync here (save as sandbox.toml, then use",
        "`amber-tesla-sync --config sandbox.toml login amber` and so on):",
        "",
        "  [amber]",
        f'  base_url = "{sandbox.amber_base_url}"',
        "  [tesla]",
        f'  authorize_url = "{sandbox.authorize_url}"',
        f'  token_url = "{sandbox.token_url}"',
        f'  fleet_api_url = "{sandbox.fleet_na_base_url}"',
        f'  teslemetry_url = "{sandbox.teslemetry_base_url}"',
        f'  redirect_uri = "{c.redirect_uri}"',
        "  [secrets]",
        '  store = "file"',
        "",
        "To make `register` pass here (the sandbox plays Tesla downloading your public key from",
        "your domain, so hand it the key first):",
        "  amber-tesla-sync --config sandbox.toml keygen --output public-key.pem",
        f"  curl --data-binary @public-key.pem {sandbox.control_base_url}/public_keys/"
        f"{c.allowed_domain}",
        f"  amber-tesla-sync --config sandbox.toml register --domain {c.allowed_domain} \\",
        f"      --client-id {c.client_id} --client-secret-stdin   (then type the client_secret)",
        "Then `login fleet` with the same client_id and client_secret.",
        "",
        "Press Ctrl+C to stop.",
    ]
    return "\n".join(lines)


def serve_forever(
    port: int,
    *,
    seed: int = 0,
    callback_port: int = DEFAULT_CALLBACK_PORT,
    public_key_file: Path | None = None,
    partner_registered: bool = False,
    out: TextIO | None = None,
) -> None:
    """Run the sandbox in the foreground on 127.0.0.1:``port`` until interrupted.

    Prints the base URLs and the credentials that work against it. ``public_key_file`` is the
    PEM the sandbox "downloads" when a partner account is registered (e.g. the file ``keygen``
    wrote). Raises ``OSError`` when the port is taken.
    """
    stream = out or sys.stdout
    sandbox = Sandbox(
        seed=seed,
        port=port,
        callback_port=callback_port,
        public_key_file=public_key_file,
        partner_registered=partner_registered,
    )
    sandbox.start()
    print(banner(sandbox), file=stream, flush=True)
    try:
        while sandbox.running:
            threading.Event().wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
