"""The secrets by name (as the store and systemd credentials call them) and the environment
variables that give them (read-only overrides of the store; see :mod:`.secrets`)."""

from __future__ import annotations

from dataclasses import dataclass

from amber_tesla_sync.store import fleet_env

AMBER_TOKEN = "amber_token"
TESLEMETRY_TOKEN = "teslemetry_token"
FLEET_CLIENT_SECRET = "tesla_client_secret"
FLEET_TOKENS = "fleet_tokens"
FLEET_PRIVATE_KEY = "fleet_private_key"
MQTT_PASSWORD = "mqtt_password"  # the MQTT broker's, for mqtt.username (see publish/)
ALL_SECRETS = (
    AMBER_TOKEN,
    TESLEMETRY_TOKEN,
    FLEET_CLIENT_SECRET,
    FLEET_TOKENS,
    FLEET_PRIVATE_KEY,
    MQTT_PASSWORD,
)

# read-only overrides: environment variable per secret (systemd credentials use the secret's name)
ENVIRONMENT = {
    AMBER_TOKEN: "AMBER_TOKEN",
    TESLEMETRY_TOKEN: "TESLEMETRY_TOKEN",
    FLEET_CLIENT_SECRET: "TESLA_CLIENT_SECRET",
    FLEET_PRIVATE_KEY: "TESLA_FLEET_PRIVATE_KEY",
    MQTT_PASSWORD: "MQTT_PASSWORD",
}


@dataclass(frozen=True)
class SecretVariable:
    name: str  # the environment variable
    secret: str  # the secret it gives (the store's and the systemd credential's name)
    meaning: str


VARIABLES = (
    SecretVariable("AMBER_TOKEN", AMBER_TOKEN, "Amber's API token (`login amber` stores one)"),
    SecretVariable(
        "TESLEMETRY_TOKEN", TESLEMETRY_TOKEN, "a Teslemetry token (`login teslemetry` stores one)"
    ),
    SecretVariable(
        fleet_env.REFRESH_VARIABLE,
        FLEET_TOKENS,
        "a Tesla Fleet API refresh token; refreshed tokens are kept for the run and saved in the "
        "secret store when it is writable (else the variable needs renewing)",
    ),
    SecretVariable(
        fleet_env.ACCESS_VARIABLE,
        FLEET_TOKENS,
        "a Tesla Fleet API access token: with the refresh token, used until it expires; alone, "
        "until Tesla refuses it",
    ),
    SecretVariable(
        "TESLA_CLIENT_SECRET",
        FLEET_CLIENT_SECRET,
        "your Fleet API app's client secret (`login fleet`, `register`)",
    ),
    SecretVariable(
        "TESLA_FLEET_PRIVATE_KEY",
        FLEET_PRIVATE_KEY,
        "the Fleet app's private key, PEM (`register`; `keygen` makes one)",
    ),
    SecretVariable(
        "MQTT_PASSWORD", MQTT_PASSWORD, "the MQTT broker's password for mqtt.username ([mqtt])"
    ),
)


def variables_for(name: str) -> list[str]:
    """The environment variables that give the secret ``name``."""
    return [variable.name for variable in VARIABLES if variable.secret == name]
