"""The README stays true: its two set-up commands are the scripts CI runs, and its command
reference names every CLI command."""
from __future__ import annotations

import re
from pathlib import Path

from nasdsl.cli.dispatch import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_quick_start_commands_exist_and_ci_runs_the_test_command():
    quick = re.search(r"## Quick start\n.*?```\n(.*?)```", README, re.DOTALL).group(1)
    commands = [line.split("#")[0].strip() for line in quick.splitlines() if line.strip()]
    assert commands == ["bash scripts/quickstart.sh", "bash scripts/test.sh"]
    for c in commands:
        assert (ROOT / c.split()[1]).is_file()
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert ci[-1] == "bash scripts/test.sh"


def test_command_reference_names_every_command():
    table = README[README.index("## Command reference"):README.index("## Exact against")]
    documented = re.findall(r"^\| `([a-z-]+)[ `]", table, re.MULTILINE)
    assert sorted(documented) == sorted(COMMANDS)


def test_no_placeholder_left():
    assert "PENDING" not in README and "TODO" not in README
