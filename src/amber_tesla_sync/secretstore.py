"""Where secrets live: the OS keyring by default, or an explicit 0600 file; read-only overrides.

Lookup order for a secret: an environment variable (e.g. ``AMBER_TOKEN``), a systemd credential
(``$CREDENTIALS_DIRECTORY/<name>``), then the configured store. Overrides are read-only: writing a
secret always goes to the store, and a secret that must rotate (the Fleet refresh token) needs a
writable store. Nothing ever falls back to a plaintext file silently: the file store is chosen
explicitly (``secrets.store = "file"``).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from amber_tesla_sync.errors import SecretsError
from amber_tesla_sync.fsutil import atomic_write_text

SERVICE = "amber-tesla-sync"
StoreKind = Literal["keyring", "file"]

AMBER_TOKEN = "amber_token"
TESLEMETRY_TOKEN = "teslemetry_token"
FLEET_CLIENT_SECRET = "tesla_client_secret"
FLEET_TOKENS = "fleet_tokens"
FLEET_PRIVATE_KEY = "fleet_private_key"
ALL_SECRETS = (AMBER_TOKEN, TESLEMETRY_TOKEN, FLEET_CLIENT_SECRET, FLEET_TOKENS, FLEET_PRIVATE_KEY)

# read-only overrides: environment variable per secret (systemd credentials use the secret's name)
ENVIRONMENT = {
    AMBER_TOKEN: "AMBER_TOKEN",
    TESLEMETRY_TOKEN: "TESLEMETRY_TOKEN",
    FLEET_CLIENT_SECRET: "TESLA_CLIENT_SECRET",
}

FILE_STORE_EXPLAINED = (
    "the file store keeps secrets in a file readable only by your user (mode 0600) in the "
    "config directory, unencrypted: anyone who can read your files (or your backups) can read "
    "them; it is the usual choice on a headless server where no OS keyring runs"
)


class Backend(Protocol):
    description: str

    def get(self, name: str) -> str | None: ...
    def set(self, name: str, value: str) -> None: ...
    def delete(self, name: str) -> None: ...


class KeyringBackend:
    """The OS keyring (Secret Service, macOS Keychain, …) through ``keyring``."""

    def __init__(self) -> None:
        import keyring  # only the keyring store needs it (a slow import)
        from keyring.backends import fail

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 1) <= 0:
            raise SecretsError(
                "no OS keyring is available here (typical on a headless server)",
                "choose the file store: `amber-tesla-sync config set secrets.store file` ("
                + FILE_STORE_EXPLAINED
                + "), or provide secrets through environment variables or systemd credentials",
            )
        self._backend = backend
        self.description = f"OS keyring ({type(backend).__module__}.{type(backend).__name__})"

    def get(self, name: str) -> str | None:
        with self._errors("read"):
            return self._backend.get_password(SERVICE, name)

    def set(self, name: str, value: str) -> None:
        with self._errors("write"):
            self._backend.set_password(SERVICE, name, value)

    def delete(self, name: str) -> None:
        import keyring.errors

        with self._errors("delete"), contextlib.suppress(keyring.errors.PasswordDeleteError):
            self._backend.delete_password(SERVICE, name)

    @contextlib.contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        import keyring.errors

        try:
            yield
        except keyring.errors.KeyringError as exc:
            raise SecretsError(
                f"the OS keyring failed to {action} a secret: {type(exc).__name__}",
                "unlock the keyring, or choose the file store with "
                "`amber-tesla-sync config set secrets.store file`",
            ) from exc


class FileBackend:
    """A JSON file of secrets, mode 0600, replaced atomically on every write."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"file {path} (mode 0600)"

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise SecretsError(
                f"the secret file {self.path} cannot be read: {type(exc).__name__}",
                "check its permissions; if it is damaged, remove it and log in again",
            ) from exc
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise SecretsError(
                f"the secret file {self.path} is not in the expected format",
                "remove it and log in again",
            )
        return data

    def get(self, name: str) -> str | None:
        return self._read().get(name)

    def set(self, name: str, value: str) -> None:
        data = self._read()
        data[name] = value
        self._write(data)

    def delete(self, name: str) -> None:
        data = self._read()
        if data.pop(name, None) is not None:
            self._write(data)

    def _write(self, data: dict[str, str]) -> None:
        try:
            atomic_write_text(self.path, json.dumps(data, indent=1, sort_keys=True), mode=0o600)
        except OSError as exc:
            raise SecretsError(
                f"cannot write the secret file {self.path}: {exc.strerror}",
                "check that the config directory is writable",
            ) from exc


@dataclass(frozen=True)
class Found:
    value: str
    origin: str  # "environment variable AMBER_TOKEN", "systemd credential …", or the store
    writable: bool


class SecretStore:
    """Secrets by name: read-only overrides first, then the configured backend."""

    def __init__(self, kind: StoreKind, file_path: Path) -> None:
        self.kind = kind
        self.file_path = file_path
        self._backend: Backend | None = None

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = (
                KeyringBackend() if self.kind == "keyring" else FileBackend(self.file_path)
            )
        return self._backend

    def find(self, name: str) -> Found | None:
        variable = ENVIRONMENT.get(name)
        if variable and os.environ.get(variable):
            return Found(os.environ[variable].strip(), f"environment variable {variable}", False)
        credentials = os.environ.get("CREDENTIALS_DIRECTORY")
        if credentials:
            path = Path(credentials) / name
            with contextlib.suppress(OSError):
                return Found(
                    path.read_text(encoding="utf-8").strip(), f"systemd credential {name}", False
                )
        value = self.backend.get(name)
        if value is None:
            return None
        return Found(value, self.backend.description, True)

    def get(self, name: str) -> str | None:
        found = self.find(name)
        return found.value if found else None

    def set(self, name: str, value: str) -> None:
        self.backend.set(name, value)

    def delete(self, name: str) -> None:
        self.backend.delete(name)
