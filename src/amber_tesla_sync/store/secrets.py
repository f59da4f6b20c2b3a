"""Where secrets live: the OS keyring by default, or an explicit 0600 file; read-only overrides.

Lookup order for a secret: an environment variable (:data:`VARIABLES`, e.g. ``AMBER_TOKEN``), a
systemd credential (``$CREDENTIALS_DIRECTORY/<name>``), then the configured store. The store is
opened only when a secret is not found before it, so a run given everything it needs through the
environment needs no store at all (no keyring, no file); when it needs the store and there is
none, the error names the variable that would do instead.

Overrides are read-only: writing a secret always goes to the store. The Fleet tokens, which
rotate, are the exception (see :mod:`amber_tesla_sync.store.fleet_env`): tokens refreshed from
``TESLA_FLEET_REFRESH_TOKEN`` are kept for the run and saved in the store when it is writable;
never does a run fail because they cannot be saved. Nothing ever falls back to a plaintext file
silently: the file store is chosen explicitly (``secrets.store = "file"``).

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
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from amber_tesla_sync.errors import SecretsError
from amber_tesla_sync.store import fleet_env
from amber_tesla_sync.store.secret_names import (
    ALL_SECRETS,
    AMBER_TOKEN,
    ENVIRONMENT,
    FLEET_CLIENT_SECRET,
    FLEET_PRIVATE_KEY,
    FLEET_TOKENS,
    TESLEMETRY_TOKEN,
    VARIABLES,
    variables_for,
)
from amber_tesla_sync.support import redact
from amber_tesla_sync.support.files import DISK_FULL, atomic_write_text

__all__ = [
    "ALL_SECRETS",
    "AMBER_TOKEN",
    "ENVIRONMENT",
    "FLEET_CLIENT_SECRET",
    "FLEET_PRIVATE_KEY",
    "FLEET_TOKENS",
    "TESLEMETRY_TOKEN",
    "VARIABLES",
    "Found",
    "SecretStore",
    "variables_for",
]

log = logging.getLogger(__name__)
SERVICE = "amber-tesla-sync"
StoreKind = Literal["keyring", "file"]

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
    # a new value can be set: the store's own, and Fleet tokens from the environment (a refresh
    # is kept for the run and saved in the store when it can be)
    writable: bool


class SecretStore:
    """Secrets by name: read-only overrides first, then the configured backend."""

    def __init__(self, kind: StoreKind, file_path: Path) -> None:
        self.kind = kind
        self.file_path = file_path
        self._backend: Backend | None = None
        self._unavailable: SecretsError | None = None  # why the store cannot be opened
        self._kept: dict[str, str] = {}  # Fleet tokens refreshed from the environment, this run
        self.lock_path = (
            file_path.with_name(file_path.name + ".lock") if kind == "file" else _keyring_lock()
        )

    @property
    def backend(self) -> Backend:
        if self._unavailable is not None:
            raise self._unavailable
        if self._backend is None:
            try:
                self._backend = (
                    KeyringBackend()
                    if self.kind == "keyring"
                    else FileBackend(self.file_path, self.locked)
                )
            except SecretsError as exc:
                self._unavailable = exc
                raise
        return self._backend

    def available(self) -> bool:
        """Whether the store can be opened (an OS keyring exists; the file store always can)."""
        try:
            self.backend  # noqa: B018 - opening it is the question
        except SecretsError:
            return False
        return True

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's lock (re-entrant within a process; waits for other processes).
        Without a store (no OS keyring: the secrets come from the environment) there is nothing
        to guard, and a lock that cannot be taken is no error."""
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            import filelock  # only to write: reads take no lock

            # one lock object per path in this process, so that two stores on one file never
            # wait for each other
            lock = filelock.FileLock(self.lock_path, mode=0o600, is_singleton=True)
            lock.acquire()
        except OSError as exc:
            if not self.available():
                log.debug("no secret store and no lock (%s): going on without", exc)
                yield
                return
            raise SecretsError(
                f"cannot lock the secret store ({self.lock_path}): {exc.strerror or exc}",
                f"make {self.lock_path.parent} writable by the user that runs amber-tesla-sync",
            ) from exc
        try:
            yield
        finally:
            lock.release()

    def find(self, name: str) -> Found | None:
        variable = ENVIRONMENT.get(name)
        if variable and os.environ.get(variable):
            redact.remember(os.environ[variable])
            return Found(os.environ[variable].strip(), f"environment variable {variable}", False)
        tokens = fleet_env.from_environment(os.environ) if name == FLEET_TOKENS else None
        if tokens is not None:
            return self._environment_tokens(tokens)
        credentials = os.environ.get("CREDENTIALS_DIRECTORY")
        if credentials:
            path = Path(credentials) / name
            with contextlib.suppress(OSError):
                credential = path.read_text(encoding="utf-8").strip()
                redact.remember(credential)
                return Found(credential, f"systemd credential {name}", False)
        try:
            backend = self.backend
        except SecretsError as exc:
            if name == FLEET_TOKENS:  # whether there are any decides a choice (auto: Fleet or
                return None  # Teslemetry; what status and doctor check): a missing store has none
            raise _instead(exc, variables_for(name)) from exc
        value = backend.get(name)
        if value is None:
            return None
        redact.remember(value)
        return Found(value, backend.description, True)

    def _environment_tokens(self, tokens: fleet_env.EnvironmentTokens) -> Found:
        """The Fleet tokens of the environment: refreshed in this run, else refreshed from the
        same variable by an earlier run and saved in the store, else the variables' own."""
        redact.remember(tokens.access, tokens.refresh)
        kept = self._kept.get(FLEET_TOKENS)
        if kept is not None:
            return Found(kept, f"{tokens.origin}, refreshed in this run", True)
        try:
            backend = self.backend
            saved = backend.get(FLEET_TOKENS)
        except SecretsError as exc:  # no store, or an unreadable one: the variables serve
            log.debug("Fleet tokens from %s; the secret store is not used: %s", tokens.origin, exc)
            saved = None
        if saved is not None and fleet_env.seed_of(saved) == tokens.seed:
            redact.remember(saved)
            return Found(saved, f"{backend.description} (refreshed from {tokens.origin})", True)
        return Found(tokens.token_set(time.time()), tokens.origin, True)

    def unavailable_for(self, name: str) -> SecretsError | None:
        """Why ``name`` cannot be had when the store cannot be opened (no OS keyring), naming
        the variable that would give it; None when the store is there."""
        try:
            self.backend  # noqa: B018 - opening it is the question
        except SecretsError as exc:
            return _instead(exc, variables_for(name))
        return None

    def get(self, name: str) -> str | None:
        found = self.find(name)
        return found.value if found else None

    def set(self, name: str, value: str) -> None:
        redact.remember(value)
        tokens = fleet_env.from_environment(os.environ) if name == FLEET_TOKENS else None
        if tokens is None:
            self.backend.set(name, value)
            return
        self._kept[name] = value  # the run goes on with them whatever happens to the store
        try:
            self.backend.set(name, fleet_env.seeded(value, tokens.seed))
        except SecretsError as exc:
            log.warning(
                "the refreshed Fleet tokens serve this run only: the secret store cannot keep "
                "them (%s). %s has been used, and Tesla accepts a used refresh token only "
                "briefly: give the tool a writable secret store (secrets.store = file, on "
                "persistent storage) or renew the variable",
                exc.message,
                fleet_env.REFRESH_VARIABLE,
            )

    def delete(self, name: str) -> None:
        self._kept.pop(name, None)
        self.backend.delete(name)


def _instead(error: SecretsError, variables: list[str]) -> SecretsError:
    """The store's error when a secret is looked for there, naming the variable(s) that would
    give it instead."""
    if not variables:
        return error
    named = " or ".join(variables)
    return SecretsError(
        f"{error.message}, and {named} {'is' if len(variables) == 1 else 'are'} not set",
        f"set {named} to give it through the environment, or " + (error.hint or ""),
    )


def _keyring_lock() -> Path:
    import platformdirs

    return platformdirs.user_cache_path(SERVICE) / "keyring.lock"
