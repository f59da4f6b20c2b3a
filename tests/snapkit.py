"""The one snapshot kit: what a command prints, and the shape of its ``--json``, compared to files
in ``tests/snapshots/``.

* :func:`pinned_terminal` fixes everything the terminal libraries look at (width, colour, terminal
  detection, the local time zone), so a screen is the same on every machine. The ``pinned``
  fixture applies it to a test (a whole module: ``pytestmark = pytest.mark.usefixtures("pinned")``);
  :func:`check_text` refuses to compare output made without it.
* :func:`ok` is a command's standard output once it has exited as expected, without a traceback.
* :func:`check_text` compares a screen to ``tests/snapshots/<name>.txt`` after
  :func:`normalise` has replaced what truly changes from run to run (temporary paths, loopback
  ports, durations) with named placeholders.
* :func:`check_shape` compares the *shape* of a JSON document (every key path and its value types,
  lists by their elements' shapes) to ``tests/snapshots/<name>.json-shape``: a renamed, removed or
  retyped key fails, while the values themselves may change.

``UPDATE_SNAPSHOTS=1 python -m pytest ...`` writes the files instead of comparing (the test still
checks that the file now holds exactly what was written). A missing file is a failure otherwise.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conftest import CliResult

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
WIDTH = 100

# what rich, click and typer read to decide width, colour and whether they talk to a terminal
PINNED_ENV: Mapping[str, str] = {
    "COLUMNS": str(WIDTH),
    "LINES": "50",
    "TERMINAL_WIDTH": str(WIDTH),  # typer's own help width
    "NO_COLOR": "1",
    "TERM": "dumb",
    "TTY_COMPATIBLE": "0",
    "TTY_INTERACTIVE": "0",
    "_TYPER_FORCE_DISABLE_TERMINAL": "1",
}
UNSET_ENV = (
    "FORCE_COLOR",
    "CLICOLOR_FORCE",
    "PY_COLORS",
    "COLORTERM",
    "JUPYTER_COLUMNS",
    "JUPYTER_LINES",
    "GITHUB_ACTIONS",
    "FORCE_TERMINAL_WIDTH",
)
TIME_ZONE = "UTC"  # the host's local zone, for anything that falls back to it


@contextmanager
def pinned_terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A terminal that looks the same everywhere: 100 columns, no colour, not a TTY, local time
    UTC. The environment comes back afterwards (the time zone too)."""
    for key, value in PINNED_ENV.items():
        monkeypatch.setenv(key, value)
    for key in UNSET_ENV:
        monkeypatch.delenv(key, raising=False)
    saved_tz = os.environ.get("TZ")
    os.environ["TZ"] = TIME_ZONE
    time.tzset()
    try:
        yield
    finally:
        if saved_tz is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved_tz
        time.tzset()


def assert_pinned() -> None:
    """Output about to be compared was made in a pinned terminal."""
    unpinned = {
        key: os.environ.get(key)
        for key, value in PINNED_ENV.items()
        if os.environ.get(key) != value
    }
    unpinned |= {key: os.environ[key] for key in UNSET_ENV if key in os.environ}
    if os.environ.get("TZ") != TIME_ZONE:
        unpinned["TZ"] = os.environ.get("TZ")
    assert not unpinned, f"snapshot taken outside pinned_terminal(): {unpinned}"


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The terminal of the output snapshots: :func:`pinned_terminal` for one test."""
    with pinned_terminal(monkeypatch):
        yield


def ok(result: CliResult, code: int = 0) -> str:
    """The standard output of a command that exited with ``code`` and printed no traceback."""
    assert result.code == code, (result.code, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout


# -- normalising what changes from run to run ---------------------------------------------------

LOOPBACK_PORT = re.compile(r"\b127\.0\.0\.1:\d{4,5}\b")  # what test servers bind (not :1)
TMP_PATH_REST = r"/[^\s'\"`,;:)\]]*[^\s'\"`,;:)\].]"  # a path's rest, not a full stop after it
PEM = re.compile(r"(-----BEGIN ([A-Z ]+)-----)\n[A-Za-z0-9+/=\n]+?\n(-----END \2-----)")
DURATION = re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|s)\b(?=[\s).,;]|$)")


def normalise(
    text: str,
    *,
    tmp: Path | None = None,
    ports: Iterable[int] = (),
    durations: bool = False,
    replace: Mapping[str, str] | None = None,
    patterns: Mapping[str, str] | None = None,
) -> str:
    """``text`` with what truly depends on the run replaced by placeholders:

    * ``replace``: exact strings → placeholders (longest first), e.g. an installed program path;
    * ``patterns``: regular expressions → replacements, for values made at random (an OAuth
      ``state``);
    * PEM blocks (a freshly made key) → ``<key material>`` between their BEGIN and END lines;
    * ``tmp``: the test's temporary directory → ``<tmp>``; any other path under the system's
      temporary directory → ``<tmp-path>``;
    * loopback ports (``127.0.0.1:NNNNN``) and ``ports`` after ``localhost:`` (or ``%3A``) → ``<port>``
      (a fixed default such as the Fleet redirect URI's stays as it is);
    * ``durations=True``: measured times (``0.42 s``, ``12ms``) → ``<duration>``.
    """
    for needle, placeholder in sorted((replace or {}).items(), key=lambda kv: -len(kv[0])):
        text = text.replace(needle, placeholder)
    for pattern, replacement in (patterns or {}).items():
        text = re.sub(pattern, replacement, text)
    text = PEM.sub(r"\1\n<key material>\n\3", text)
    if tmp is not None:
        for form in sorted({str(tmp), str(tmp.resolve())}, key=len, reverse=True):
            text = text.replace(form, "<tmp>")
    for root in sorted({tempfile.gettempdir(), str(Path(tempfile.gettempdir()).resolve())}):
        text = re.sub(re.escape(root.rstrip("/")) + TMP_PATH_REST, "<tmp-path>", text)
    text = LOOPBACK_PORT.sub("127.0.0.1:<port>", text)
    for port in ports:
        text = re.sub(rf"localhost(:|%3A){port}\b", r"localhost\1<port>", text)
    if durations:
        text = DURATION.sub("<duration>", text)
    return text


# -- comparing to files ---------------------------------------------------------------------------


def updating() -> bool:
    return os.environ.get("UPDATE_SNAPSHOTS") == "1"


def _compare(path: Path, text: str) -> None:
    if updating():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        assert path.read_text(encoding="utf-8") == text, f"could not write {path}"
        return
    if not path.exists():
        pytest.fail(
            f"no snapshot {path.relative_to(SNAPSHOTS.parent)}: run with UPDATE_SNAPSHOTS=1 to "
            "write it, then read it before committing it"
        )
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"snapshots/{path.name}",
                tofile="this run",
            )
        )
        pytest.fail(
            f"output differs from snapshots/{path.name} (UPDATE_SNAPSHOTS=1 rewrites it):\n{diff}",
            pytrace=False,
        )


def check_text(name: str, text: str, **normalising: Any) -> str:
    """``text`` (normalised, see :func:`normalise`) equals ``tests/snapshots/<name>.txt``;
    returns the normalised text."""
    assert_pinned()
    assert text.strip(), f"{name}: nothing to snapshot"
    stable = normalise(text, **normalising)
    _compare(SNAPSHOTS / f"{name}.txt", stable)
    return stable


# -- JSON shapes ----------------------------------------------------------------------------------

# object keys that are data, not names (a map by time of day, by id, by date)
DATA_KEYS = (
    (re.compile(r"\d\d:\d\d"), "<HH:MM>"),
    (re.compile(r"PERIOD_\d\d_\d\d"), "PERIOD_<HH_MM>"),
    (re.compile(r"\d{4}-\d\d-\d\d"), "<date>"),
    (re.compile(r"\d+"), "<number>"),
)


def _key(name: str) -> str:
    for pattern, placeholder in DATA_KEYS:
        if pattern.fullmatch(name):
            return placeholder
    return name


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    assert isinstance(value, dict), type(value)
    return "object"


def json_shape(document: Any) -> str:
    """The shape of a JSON document, one line per key path: ``$.sites[].plan[].buy: number``.

    A path's types are every type seen there (``number|null``); a list's elements share the path
    ``[]``; a key missing from some of the objects at its path is marked ``(optional)``; keys that
    are data (times of day, ids, dates) are folded into one placeholder key."""
    kinds: dict[str, set[str]] = {}
    seen: dict[str, int] = {}  # how often each path held a value
    objects: dict[str, int] = {}  # how often each path held an object

    def walk(value: Any, path: str) -> None:
        kinds.setdefault(path, set()).add(_kind(value))
        seen[path] = seen.get(path, 0) + 1
        if isinstance(value, dict):
            objects[path] = objects.get(path, 0) + 1
            for name in {_key(k) for k in value}:
                matching = [v for k, v in value.items() if _key(k) == name]
                for item in matching:
                    walk(item, f"{path}.{name}")
                if len(matching) > 1:  # a folded map counts once per object
                    seen[f"{path}.{name}"] -= len(matching) - 1
        elif isinstance(value, list):
            for item in value:
                walk(item, f"{path}[]")

    walk(document, "$")
    lines = []
    for path in sorted(kinds):
        parent = path.rsplit(".", 1)[0] if path != "$" and not path.endswith("[]") else None
        optional = parent is not None and seen[path] < objects.get(parent, 0)
        types = "|".join(sorted(kinds[path]))
        lines.append(f"{path}: {types}{' (optional)' if optional else ''}")
    return "\n".join(lines) + "\n"


def check_shape(name: str, stdout: str) -> Any:
    """``stdout`` is one JSON document whose shape (see :func:`json_shape`) equals
    ``tests/snapshots/<name>.json-shape``; returns the document."""
    try:
        document = json.loads(stdout)
    except ValueError as error:
        pytest.fail(f"{name}: not one JSON document ({error}): {stdout[:300]!r}")
    _compare(SNAPSHOTS / f"{name}.json-shape", json_shape(document))
    return document
