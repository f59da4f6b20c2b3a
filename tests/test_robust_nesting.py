"""JSON nested deeper than the parser can follow (a RecursionError, not a ValueError): a state
file so nested is damage like any other, and a Tesla answer so nested is a malformed answer."""

from __future__ import annotations

from pathlib import Path

from amber_tesla_sync.errors import ExitCode
from amber_tesla_sync.store.state import load_state
from synckit import Synced


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_a_state_file_nested_too_deep_is_moved_aside_whole(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(nested(200_000))
    assert load_state(path).sync == {}
    assert not path.exists()
    (aside,) = tmp_path.glob("state.json.damaged-*")
    assert aside.read_text() == nested(200_000)  # kept as it was, for a look


def test_sync_goes_on_past_a_state_file_nested_too_deep(synced: Synced) -> None:
    state = synced.site.state / "state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text('{"sync": ' + nested(200_000) + "}")
    result = synced.sync()
    assert result.code == ExitCode.OK, result.stderr
    assert "was damaged" in result.stderr
    assert len(list(state.parent.glob("state.json.damaged-*"))) == 1


def test_a_tesla_answer_nested_too_deep_is_a_malformed_answer(synced: Synced) -> None:
    path = f"/teslemetry/api/1/energy_sites/{synced.sandbox.energy_site_id}/site_info"
    synced.sandbox.add_fault(path, "status", status=200, body=nested(100_000), count=10)
    result = synced.sync()
    assert result.code == ExitCode.SERVICE, result.stderr
    assert "malformed response" in result.stderr
    assert "internal error" not in result.stderr
    assert synced.sandbox.tariff_posts() == []  # nothing was pushed


def test_a_tesla_error_nested_too_deep_is_still_an_error(synced: Synced) -> None:
    path = f"/teslemetry/api/1/energy_sites/{synced.sandbox.energy_site_id}/site_info"
    synced.sandbox.add_fault(path, "status", status=400, body=nested(100_000), count=10)
    result = synced.sync()
    assert result.code == ExitCode.SERVICE, result.stderr
    assert "400 (HTTP 400)" in result.stderr
    assert "internal error" not in result.stderr
