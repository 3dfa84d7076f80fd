"""The README stays true: its two set-up commands are the scripts CI runs, its command
reference names every CLI command, and its tour's lines parse (those on zoo names run)."""
from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

from nasdsl.cli.dispatch import COMMANDS, _Parser, main

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


def _tour() -> list[list[str]]:
    """The tour's command lines (continuations joined, comments dropped), split into argv."""
    block = re.search(r"## A tour\n```\n(.*?)```", README, re.DOTALL).group(1).replace("\\\n", " ")
    return [shlex.split(line.split("#")[0]) for line in block.splitlines() if line.startswith("nasdsl ")]


def test_every_tour_line_parses_with_its_command():
    for argv in _tour():
        name, rest = argv[1], argv[2:]
        parser = _Parser(prog=f"nasdsl {name}")
        importlib.import_module(COMMANDS[name][0]).configure(parser)
        parser.parse_args(rest)  # a flag the command no longer has exits 2 here


def test_tour_lines_on_zoo_names_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ran = [argv for argv in _tour() if argv[1] in ("ir", "stats", "viz", "compile")]
    assert len(ran) == 4
    for argv in ran:
        assert main(argv[1:]) == 0, (argv, capsys.readouterr().err)
