"""What a command works with: the loaded settings, the secret store and the service clients."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from amber_tesla_sync.errors import AuthError, ConfigError
from amber_tesla_sync.settings.config import Config
from amber_tesla_sync.settings.load import LoadedConfig
from amber_tesla_sync.store.secrets import (
    AMBER_TOKEN,
    FLEET_TOKENS,
    TESLEMETRY_TOKEN,
    SecretStore,
)
from amber_tesla_sync.support.http import NetworkPolicy

if TYPE_CHECKING:  # each client is imported when it is first made: most runs need only Amber's
    from amber_tesla_sync.amber.client import AmberClient
    from amber_tesla_sync.tesla.api import TeslaApi
    from amber_tesla_sync.tesla.connection import TeslaConnection
    from amber_tesla_sync.tesla.tokens import FleetTokens, StaticToken

SECRETS_FILE = "secrets.json"
NOT_LOGGED_IN = (
    "run `amber-tesla-sync login fleet` (Tesla Fleet API) or "
    "`amber-tesla-sync login teslemetry` (Teslemetry)"
)


@dataclass
class AppContext:
    loaded: LoadedConfig
    _store: SecretStore | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        return self.loaded.config

    @property
    def store(self) -> SecretStore:
        if self._store is None:
            self._store = SecretStore(
                self.config.secrets.store, self.loaded.path.parent / SECRETS_FILE
            )
        return self._store

    @property
    def policy(self) -> NetworkPolicy:
        network = self.config.network
        return NetworkPolicy(
            timeout=network.timeout_seconds,
            attempts=network.attempts,
            backoff=network.backoff_seconds,
        )

    def update(self, updates: dict[str, Any]) -> None:
        from amber_tesla_sync.settings.edit import update_config  # tomlkit: only when editing

        self.loaded = update_config(self.loaded, updates)

    def amber(self) -> AmberClient:
        from amber_tesla_sync.amber.client import LOGIN_HINT, AmberClient

        token = self.store.get(AMBER_TOKEN)
        if not token:
            raise AuthError("not logged in to Amber (no API token)", LOGIN_HINT)
        return AmberClient(self.config.amber.base_url, token, self.policy)

    def amber_site_id(self) -> str:
        site_id = self.config.amber.site_id
        if not site_id:
            from amber_tesla_sync.amber.client import LOGIN_HINT

            raise ConfigError("no Amber site is configured (amber.site_id)", LOGIN_HINT)
        return site_id

    def energy_site_id(self) -> int:
        site_id = self.config.tesla.energy_site_id
        if site_id is None:
            raise ConfigError("no Powerwall is configured (tesla.energy_site_id)", NOT_LOGGED_IN)
        return site_id

    def fleet_tokens(self) -> FleetTokens:
        from amber_tesla_sync.tesla.oauth import TokenEndpoint
        from amber_tesla_sync.tesla.tokens import FleetTokens

        client_id = self.config.tesla.client_id
        if not client_id:
            raise ConfigError("no Fleet client id is configured (tesla.client_id)", NOT_LOGGED_IN)
        return FleetTokens(
            self.store,
            TokenEndpoint(self.config.tesla.token_url, self.policy),
            client_id,
        )

    def fleet_connection(self, tokens: FleetTokens | StaticToken | None = None) -> TeslaConnection:
        from amber_tesla_sync.tesla.connection import TeslaConnection

        return TeslaConnection(
            "fleet",
            self.config.tesla.fleet_api_url,
            tokens or self.fleet_tokens(),
            self.policy,
            on_base_url_change=lambda url: self.update({"tesla.fleet_api_url": url}),
        )

    def teslemetry_connection(self, token: str) -> TeslaConnection:
        from amber_tesla_sync.tesla.connection import TeslaConnection
        from amber_tesla_sync.tesla.tokens import StaticToken

        return TeslaConnection(
            "teslemetry", self.config.tesla.teslemetry_url, StaticToken(token), self.policy
        )

    def tesla(self) -> TeslaApi:
        """The configured backend; ``auto`` is Fleet when logged in, else Teslemetry, and falls
        back to Teslemetry when Fleet cannot serve (see :mod:`amber_tesla_sync.tesla.fallback`)."""
        from amber_tesla_sync.tesla.api import TeslaApi
        from amber_tesla_sync.tesla.fallback import FallbackConnection

        backend = self.config.tesla.backend
        has_fleet = self.store.find(FLEET_TOKENS) is not None
        teslemetry = self.store.get(TESLEMETRY_TOKEN)
        if backend == "fleet" or (backend == "auto" and has_fleet):
            if not has_fleet:
                raise AuthError(
                    "not logged in to the Tesla Fleet API", "run `amber-tesla-sync login fleet`"
                )
            fleet = self.fleet_connection()
            if backend == "auto" and teslemetry:
                return TeslaApi(FallbackConnection(fleet, self.teslemetry_connection(teslemetry)))
            return TeslaApi(fleet)
        if not teslemetry:
            if backend == "teslemetry":
                raise AuthError("no Teslemetry token", "run `amber-tesla-sync login teslemetry`")
            raise AuthError("not logged in to Tesla", NOT_LOGGED_IN)
        return TeslaApi(self.teslemetry_connection(teslemetry))
