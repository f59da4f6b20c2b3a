"""What a command works with: the loaded settings, the secret store and the service clients.

Secrets are looked up only as the chosen backend needs them (``tesla.backend`` first, then its
tokens), so a run given its tokens through the environment never opens a store it does not
need; each "not logged in" names the command and the variable that would provide the token."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from amber_tesla_sync.errors import AuthError, ConfigError, SecretsError
from amber_tesla_sync.settings.config import Config
from amber_tesla_sync.settings.environment import variable_for
from amber_tesla_sync.settings.load import LoadedConfig
from amber_tesla_sync.store.fleet_env import REFRESH_VARIABLE
from amber_tesla_sync.store.secrets import (
    AMBER_TOKEN,
    FLEET_TOKENS,
    TESLEMETRY_TOKEN,
    Found,
    SecretStore,
)
from amber_tesla_sync.support.http import NetworkPolicy

if TYPE_CHECKING:  # each client is imported when it is first made: most runs need only Amber's
    from amber_tesla_sync.amber.client import AmberClient
    from amber_tesla_sync.tesla.api import TeslaApi
    from amber_tesla_sync.tesla.connection import TeslaConnection
    from amber_tesla_sync.tesla.tokens import FleetTokens, StaticToken

log = logging.getLogger(__name__)
SECRETS_FILE = "secrets.json"
NOT_LOGGED_IN = (
    "run `amber-tesla-sync login fleet` (Tesla Fleet API) or "
    "`amber-tesla-sync login teslemetry` (Teslemetry), or set TESLEMETRY_TOKEN or "
    f"{REFRESH_VARIABLE}"
)
FLEET_LOGIN = f"run `amber-tesla-sync login fleet`, or set {REFRESH_VARIABLE}"
TESLEMETRY_LOGIN = "run `amber-tesla-sync login teslemetry`, or set TESLEMETRY_TOKEN"


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
            raise AuthError(
                "not logged in to Amber (no API token)", f"{LOGIN_HINT}, or set AMBER_TOKEN"
            )
        return AmberClient(self.config.amber.base_url, token, self.policy)

    def amber_site_id(self) -> str:
        site_id = self.config.amber.site_id
        if not site_id:
            from amber_tesla_sync.amber.client import LOGIN_HINT

            raise ConfigError(
                "no Amber site is configured (amber.site_id)",
                f"{LOGIN_HINT}, or set {variable_for('amber.site_id')}",
            )
        return site_id

    def energy_site_id(self) -> int:
        site_id = self.config.tesla.energy_site_id
        if site_id is None:
            raise ConfigError(
                "no Powerwall is configured (tesla.energy_site_id)",
                f"run `amber-tesla-sync login fleet` or `amber-tesla-sync login teslemetry`, or "
                f"set {variable_for('tesla.energy_site_id')}",
            )
        return site_id

    def fleet_tokens(self) -> FleetTokens:
        from amber_tesla_sync.tesla.oauth import TokenEndpoint
        from amber_tesla_sync.tesla.tokens import FleetTokens

        client_id = self.config.tesla.client_id
        if not client_id:
            raise ConfigError(
                "no Fleet client id is configured (tesla.client_id)",
                f"run `amber-tesla-sync login fleet`, or set {variable_for('tesla.client_id')}",
            )
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
            on_base_url_change=self._fleet_moved,
        )

    def _fleet_moved(self, url: str) -> None:
        """Tesla serves the account from another region: saved for the next runs, unless the
        environment sets the host (then it must change there)."""
        override = self.loaded.overrides.get("tesla.fleet_api_url")
        if override is None:
            self.update({"tesla.fleet_api_url": url})
            return
        log.warning(
            "Tesla serves this account from %s, not from the host %s sets: set it to that",
            url,
            override.variable,
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
        if backend == "teslemetry":
            token = self.store.get(TESLEMETRY_TOKEN)
            if not token:
                raise AuthError("no Teslemetry token", TESLEMETRY_LOGIN)
            return TeslaApi(self.teslemetry_connection(token))
        if backend == "fleet":
            if self.store.find(FLEET_TOKENS) is None:
                missing = AuthError("not logged in to the Tesla Fleet API", FLEET_LOGIN)
                raise self.store.unavailable_for(FLEET_TOKENS) or missing
            return TeslaApi(self.fleet_connection())
        # auto: Fleet when logged in, with Teslemetry to fall back on; a store that cannot be
        # read does not stop a token the environment gives
        fleet, fleet_problem = self._look_up(FLEET_TOKENS)
        teslemetry, teslemetry_problem = self._look_up(TESLEMETRY_TOKEN)
        if fleet is not None:
            connection = self.fleet_connection()
            if teslemetry is not None:
                fallback = self.teslemetry_connection(teslemetry.value)
                return TeslaApi(FallbackConnection(connection, fallback))
            return TeslaApi(connection)
        if teslemetry is not None:
            if fleet_problem is not None:
                log.warning(
                    "using Teslemetry (%s): the secret store, which may hold Fleet tokens, "
                    "cannot be read: %s",
                    teslemetry.origin,
                    fleet_problem.message,
                )
            return TeslaApi(self.teslemetry_connection(teslemetry.value))
        problem = fleet_problem or teslemetry_problem
        if problem is None:
            raise AuthError("not logged in to Tesla", NOT_LOGGED_IN)
        try:
            self.store.backend  # noqa: B018 - the store's own reason, when it cannot be opened
        except SecretsError as reason:
            raise SecretsError(
                f"not logged in to Tesla: {reason.message}, and neither TESLEMETRY_TOKEN nor "
                f"{REFRESH_VARIABLE} is set",
                f"set one of them (for the Fleet API with {variable_for('tesla.client_id')}), "
                f"or {reason.hint}",
            ) from problem
        raise problem

    def _look_up(self, name: str) -> tuple[Found | None, SecretsError | None]:
        """The secret ``name``, or why the store could not say."""
        try:
            return self.store.find(name), None
        except SecretsError as error:
            return None, error
