"""The README's exit-code table is the code's: every ExitCode documented, nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from amber_tesla_sync.errors import ExitCode

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_table_lists_exactly_the_exit_codes() -> None:
    text = README.read_text(encoding="utf-8")
    table = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", table, re.MULTILINE)}
    assert documented == {int(code) for code in ExitCode}
