"""What is kept between runs, in the state directory: small cached facts about the sites (time
zone, billing interval), the last push, and the Powerwall settings changed on the owner's behalf.

A value the owner had is never lost (design rule 12). Before this tool changes a Powerwall
setting it saves the owner's value here (``Curtailment.user_rule`` for the export rule while
curtailing, ``Overrides`` for the ``sync.ensure_*`` options, ``Override.saved`` in ``manual`` for
an owner's override: :mod:`amber_tesla_sync.store.overrides`). When the value is due back it moves
into a :class:`Restore` record in ``SyncState.restores`` (saved before the command is sent), and
that record is cleared ONLY once Tesla accepted the restore, or once the Powerwall shows that the
owner set a value of their own by hand meanwhile (the owner's value wins: nothing is
overwritten). Until then every run sends it again. A state file written before ``restores``
existed loads as it is: its saved values are kept.

A damaged state file is moved aside (never silently overwritten) and the cache starts afresh.
The file records its schema version (:mod:`amber_tesla_sync.store.state_schema`): an older file
is upgraded in place after a copy of it is kept (``state.json.v1.bak``), a newer one is refused
and left as it is (:mod:`amber_tesla_sync.store.migrate`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from amber_tesla_sync.errors import AppError, BusyError
from amber_tesla_sync.store.migrate import backup_path, newer_file
from amber_tesla_sync.store.notify_memory import NotifyMemory
from amber_tesla_sync.store.overrides import Override
from amber_tesla_sync.store.paths import state_dir
from amber_tesla_sync.store.runlock import run_lock
from amber_tesla_sync.store.state_schema import FIELD, STATE_SCHEMA, found_version, upgraded
from amber_tesla_sync.support.files import atomic_write_bytes, atomic_write_text, file_error

log = logging.getLogger(__name__)


class AmberSiteState(BaseModel):
    model_config = ConfigDict(extra="allow")
    interval_length: int | None = None
    channels: list[str] = Field(default_factory=list)  # general/feedIn, once seen: must stay
    nmi: str | None = None  # the meter's NMI (recorded at `login amber`; older files lack it)


class EnergySiteState(BaseModel):
    model_config = ConfigDict(extra="allow")
    time_zone: str | None = None
    name: str | None = None


class LastPush(BaseModel):
    """The tariff last pushed: rates by slot label ("HH:MM" → [buy, sell] in $/kWh)."""

    rates: dict[str, tuple[float, float]]
    pushed_at: dt.datetime
    fingerprint: str
    # read back as sent; False: the push was accepted (or sent and its answer lost) but not yet
    # seen in effect, so the next run reads the Powerwall's tariff before deciding anything
    verified: bool = True
    answer_lost: bool = False  # sent, but Tesla's answer was lost (accepted or not: unknown)
    # accepted and not read back in its own run: the next check of the Powerwall reads it back
    # (sync.tariff_push.read_back_now says which pushes wait for it); unverified until then
    deferred: bool = False
    # the content (sync.own_pushes.tariff_print) of the tariff this push replaced, when the
    # Powerwall was read in its run: while the push is not in effect yet, that tariff showing
    # is the push lagging, not another one replacing ours
    replaced: str | None = None
    # the demand charge ($/kW) by slot label when the push carried one (tariff.demand): the
    # tariff this push is compared with has it too
    demand: dict[str, float] | None = None


class OwnPush(BaseModel):
    """One tariff this tool sent: the content of its rates and demand charges
    (sync.own_pushes.rates_print), so a tariff of ours read back later is known as ours by what
    it holds, not by when it came."""

    content: str
    pushed_at: dt.datetime


class Curtailment(BaseModel):
    """Export curtailment in progress. ``user_rule`` is the user's own export rule, saved before
    the first change; when feed-in prices recover it moves into a :class:`Restore` record."""

    active: bool = False
    user_rule: str | None = None
    our_rule: str | None = None
    since: dt.datetime | None = None
    confirmed: bool = False  # the Powerwall acknowledged our rule (False: send it again)


class Overrides(BaseModel):
    """Powerwall settings changed on the owner's behalf (opt-in), with the owner's own values,
    saved before the change; when the option is switched off a value moves into a
    :class:`Restore` record."""

    owner_mode: str | None = None
    owner_export_rule: str | None = None


class Restore(BaseModel):
    """An owner's value this tool changed and owes back to the Powerwall (design rule 12): kept
    until Tesla accepts the restore, or until the Powerwall shows a value that is neither ``ours``
    nor ``value`` (the owner set it by hand: their value wins)."""

    model_config = ConfigDict(extra="allow")
    value: str  # the owner's value, to send back
    ours: str | None = None  # the value this tool set (what the Powerwall shows until restored)
    why: str = ""  # what ended the change ("feed-in no longer costs money", …)
    due_since: dt.datetime | None = None
    attempts: int = 0  # attempts that failed
    error: str | None = None  # why the last attempt failed


class SyncState(BaseModel):
    model_config = ConfigDict(extra="allow")
    last_push: LastPush | None = None
    last_remote_check: dt.datetime | None = None
    remote_mode: str | None = None
    remote_export_rule: str | None = None
    remote_reserve: float | None = None  # the backup reserve (%) as last read
    curtailment: Curtailment = Field(default_factory=Curtailment)
    last_run_at: dt.datetime | None = None
    last_outcome: str | None = None
    last_reason: str | None = None
    last_refusal: str | None = None  # the latest refusal's reason
    last_refusal_at: dt.datetime | None = None
    refusing_since: dt.datetime | None = None  # first refusal of the current run of refusals
    overrides: Overrides = Field(default_factory=Overrides)
    # setting ("mode", "export_rule") → the owner's value still owed (see Restore)
    restores: dict[str, Restore] = Field(default_factory=dict)
    # what stops the tariff working, from the last site_info read: key → [problem, fix]
    powerwall: dict[str, tuple[str, str]] = Field(default_factory=dict)
    # the tariffs sent lately (the last 24 h, at most 50; oldest first): one of them on the
    # Powerwall is ours, applied late, never someone else's (older files lack it: empty)
    own_pushes: list[OwnPush] = Field(default_factory=list)
    # the owner's overrides (`override charge|export|hold|pause`), in force or ended lately
    manual: list[Override] = Field(default_factory=list)


Override.model_rebuild(_types_namespace={"Restore": Restore})
SyncState.model_rebuild()


class State(BaseModel):
    model_config = ConfigDict(extra="allow")
    amber_sites: dict[str, AmberSiteState] = Field(default_factory=dict)
    energy_sites: dict[str, EnergySiteState] = Field(default_factory=dict)
    sync: dict[str, SyncState] = Field(default_factory=dict)
    notify: NotifyMemory = Field(default_factory=NotifyMemory)


# far above any real state (a few kilobytes per site); a larger file is damaged, not read to the end
MAX_STATE_BYTES = 16 * 2**20


def state_path() -> Path:
    return state_dir() / "state.json"


def parse_state(data: bytes, path: Path) -> tuple[State, int]:
    """The state in ``data`` (read from ``path``) and the schema version it was written in. A
    file of a newer version is refused (:class:`LocalFileError`); damage raises ValueError,
    ValidationError or RecursionError."""
    raw = json.loads(data.decode("utf-8"))
    found = found_version(raw)
    if found > STATE_SCHEMA:
        raise newer_file(path, "state file", found, STATE_SCHEMA)
    return State.model_validate(upgraded(raw, found)), found


def load_state(path: Path | None = None) -> State:
    """The state; a damaged file (garbage, truncated, nested too deep, wrong shape) is moved aside
    with a warning and the cache starts afresh. An unreadable file or directory is an error that
    says so, and so is a file of a newer version (left as it is). A file of an older version is
    upgraded (see :func:`_upgrade`)."""
    path = path or state_path()
    try:
        with path.open("rb") as file:  # a state is kilobytes: a file read without end is damage
            data = file.read(MAX_STATE_BYTES + 1)
    except FileNotFoundError:
        return State()
    except OSError as exc:
        raise file_error(path, exc, "read the state file") from exc
    try:
        if len(data) > MAX_STATE_BYTES:
            raise ValueError("too large")
        state, found = parse_state(data, path)
    # UnicodeDecodeError is a ValueError; JSON nested deeper than the parser follows is a
    # RecursionError
    except (ValueError, ValidationError, RecursionError) as exc:
        problem = "not in the expected shape" if isinstance(exc, ValidationError) else "not JSON"
        if len(data) > MAX_STATE_BYTES:
            problem = f"larger than {MAX_STATE_BYTES // 2**20} MiB"
        aside = move_aside(path)
        log.warning(
            "the state file %s was damaged (%s); moved it to %s and started afresh",
            path,
            problem,
            aside,
        )
        return State()
    if found < STATE_SCHEMA:
        _upgrade(path, data, found, state)
    return state


def _upgrade(path: Path, data: bytes, found: int, state: State) -> None:
    """Keep the file of version ``found`` as it was (``state.json.v1.bak``), then write it in
    this version's form, under the run lock. A running ``sync`` holds that lock: it writes the
    file in this form itself on its next save. A directory that cannot be written leaves the file
    as it was (read upgraded, as every run reads it until then)."""
    try:
        kept = _kept_copy(path, data, found)
        with run_lock(path.parent / "sync.lock"):  # sync_all's lock
            save_state(state, path)
    except BusyError:
        return
    except (AppError, OSError) as exc:
        detail = exc.message if isinstance(exc, AppError) else str(exc)
        log.warning("could not upgrade the state file %s: %s; read it as it is", path, detail)
        return
    log.info("upgraded the state file %s to schema %d (kept %s)", path, STATE_SCHEMA, kept)


def _kept_copy(path: Path, data: bytes, version: int) -> Path:
    """The copy of ``data`` (``path`` as version ``version``) next to it: an existing identical
    copy, else a new one."""
    copy = path.with_name(f"{path.name}.v{version}.bak")
    if copy.exists() and copy.read_bytes() == data:
        return copy
    copy = backup_path(path, version)
    atomic_write_bytes(copy, data)
    return copy


def move_aside(path: Path) -> Path:
    """Rename a damaged ``path`` to ``<name>.damaged-<time>`` (kept for a look, never reused)."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    number = 1
    while aside.exists():  # never replace an earlier damaged copy
        number += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{number}")
    try:
        path.replace(aside)
    except OSError as exc:
        raise file_error(path, exc, "move aside the damaged file") from exc
    return aside


def save_state(state: State, path: Path | None = None) -> None:
    path = path or state_path()
    fields = {FIELD: STATE_SCHEMA, **state.model_dump(mode="json")}
    try:
        atomic_write_text(path, json.dumps(fields, indent=1, ensure_ascii=False), mode=0o600)
    except OSError as exc:
        raise file_error(path, exc, "save the state file") from exc
