"""Where secrets live: the OS keyring by default, or an explicit 0600 file; read-only overrides.

Lookup order for a secret: an environment variable (e.g. ``AMBER_TOKEN``), a systemd credential
(``$CREDENTIALS_DIRECTORY/<name>``), then the configured store. Overrides are read-only: writing a
secret always goes to the store, and a secret that must rotate (the Fleet refresh token) needs a
writable store. Nothing ever falls back to a plaintext file silently: the file store is chosen
explicitly (``secrets.store = "file"``).

Each store has one lock (a file beside the secrets file, or one per user for the keyring): every
change to the secrets file is a read-modify-write under it, and a Fleet token refresh holds it
from reading the old tokens to saving the new ones, whichever state directory the run uses.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import filelock

from amber_tesla_sync.errors import SecretsError
from amber_tesla_sync.support import redact
from amber_tesla_sync.support.files import DISK_FULL, atomic_write_text

log = logging.getLogger(__name__)
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


Locked = Callable[[], AbstractContextManager[None]]


def loose_mode(path: Path) -> int | None:
    """The file's mode when group or others may use it (else None, also for no file)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return mode if mode & 0o077 else None


class FileBackend:
    """A JSON file of secrets, mode 0600, replaced atomically on every write (a read-modify-write
    under the store's lock)."""

    _warned: set[Path] = set()  # noqa: RUF012 - warn once per file and process

    def __init__(self, path: Path, locked: Locked | None = None) -> None:
        self.path = path
        self.description = f"file {path}"
        self._locked = locked or contextlib.nullcontext

    def _read(self) -> dict[str, str]:
        try:
            text = self.path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise SecretsError(
                f"the secret file {self.path} cannot be read: {exc.strerror or exc}",
                f"check its owner and permissions (`ls -l {self.path}`): it must be readable "
                "by the user that runs amber-tesla-sync",
            ) from exc
        except ValueError as exc:
            raise SecretsError(
                f"the secret file {self.path} is damaged (not UTF-8 text)",
                "remove it (or move it away) and log in again; nothing was changed",
            ) from exc
        self._check_mode()
        try:
            data = json.loads(text)
        except ValueError as exc:
            problem = "empty" if not text.strip() else "not valid JSON (damaged or cut short)"
            raise SecretsError(
                f"the secret file {self.path} is {problem}",
                "remove it (or move it away) and log in again; nothing was changed",
            ) from exc
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise SecretsError(
                f"the secret file {self.path} is not in the expected format (a JSON object of "
                "names and text values)",
                "remove it (or move it away) and log in again; nothing was changed",
            )
        return data

    def _check_mode(self) -> None:
        mode = loose_mode(self.path)
        if mode is not None and self.path not in self._warned:
            self._warned.add(self.path)
            log.warning(
                "the secret file %s can be read by other users (mode %04o); run `chmod 600 %s` "
                "or `amber-tesla-sync doctor --fix`",
                self.path,
                mode,
                self.path,
            )

    def get(self, name: str) -> str | None:
        return self._read().get(name)

    def set(self, name: str, value: str) -> None:
        with self._locked():
            data = self._read()
            data[name] = value
            self._write(data)

    def delete(self, name: str) -> None:
        with self._locked():
            data = self._read()
            if data.pop(name, None) is not None:
                self._write(data)

    def _write(self, data: dict[str, str]) -> None:
        try:
            atomic_write_text(self.path, json.dumps(data, indent=1, sort_keys=True), mode=0o600)
        except OSError as exc:
            full = " (the disk is full)" if exc.errno in DISK_FULL else ""
            raise SecretsError(
                f"cannot write the secret file {self.path}: {exc.strerror}{full}; it was not "
                "changed",
                f"make {self.path.parent} writable by the user that runs amber-tesla-sync"
                + (" and free some space" if full else ""),
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
        self.lock_path = (
            file_path.with_name(file_path.name + ".lock") if kind == "file" else _keyring_lock()
        )
        # one lock object per path in this process, so that two stores on one file never wait
        # for each other
        self._lock = filelock.FileLock(self.lock_path, mode=0o600, is_singleton=True)

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = (
                KeyringBackend()
                if self.kind == "keyring"
                else FileBackend(self.file_path, self.locked)
            )
        return self._backend

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's lock (re-entrant within a process; waits for other processes)."""
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._lock.acquire()
        except OSError as exc:
            raise SecretsError(
                f"cannot lock the secret store ({self.lock_path}): {exc.strerror or exc}",
                f"make {self.lock_path.parent} writable by the user that runs amber-tesla-sync",
            ) from exc
        try:
            yield
        finally:
            self._lock.release()

    def find(self, name: str) -> Found | None:
        variable = ENVIRONMENT.get(name)
        if variable and os.environ.get(variable):
            redact.remember(os.environ[variable])
            return Found(os.environ[variable].strip(), f"environment variable {variable}", False)
        credentials = os.environ.get("CREDENTIALS_DIRECTORY")
        if credentials:
            path = Path(credentials) / name
            with contextlib.suppress(OSError):
                credential = path.read_text(encoding="utf-8").strip()
                redact.remember(credential)
                return Found(credential, f"systemd credential {name}", False)
        value = self.backend.get(name)
        if value is None:
            return None
        redact.remember(value)
        return Found(value, self.backend.description, True)

    def get(self, name: str) -> str | None:
        found = self.find(name)
        return found.value if found else None

    def set(self, name: str, value: str) -> None:
        redact.remember(value)
        self.backend.set(name, value)

    def delete(self, name: str) -> None:
        self.backend.delete(name)


def _keyring_lock() -> Path:
    import platformdirs

    return platformdirs.user_cache_path(SERVICE) / "keyring.lock"
