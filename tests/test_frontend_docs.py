"""docs/language.md stays true: every key and op is documented with its default, examples load."""
import re
from pathlib import Path

import pytest

from nasdsl.lang.fmt import format_value
from nasdsl.lang.load import load_text, zoo_index
from nasdsl.lang.ops import OPS
from nasdsl.lang.spec import NETWORK_KEYS, SPACE_KEYS

DOC = (Path(__file__).resolve().parent.parent / "docs" / "language.md").read_text()


def _row(name: str) -> list[str]:
    rows = [line for line in DOC.splitlines() if line.startswith(f"| `{name}` |")]
    assert rows, f"{name} is not in docs/language.md"
    return [c.strip() for c in rows[0].strip("|").split("|")]


@pytest.mark.parametrize("key", [*NETWORK_KEYS.values(), *SPACE_KEYS.values()], ids=lambda k: k.name)
def test_keys_documented_with_defaults(key):
    cells = _row(key.name)
    default = key.default
    if default is None:
        want = "—"
    elif isinstance(default, tuple):
        want = ", ".join(default)
    elif isinstance(default, (bool, int, float)):
        want = format_value(default)
    else:
        want = str(default)
    assert cells[2] == want, (key.name, cells)
    assert cells[1].startswith(key.type)
    assert cells[3] == key.range_text(), (key.name, cells)  # the bounds `check` enforces


@pytest.mark.parametrize("op", list(OPS.values()), ids=lambda o: o.name)
def test_ops_documented(op):
    cells = _row(op.name)
    assert cells[1:4] == [op.family, str(op.kernel), str(op.dilation)]


def test_examples_load():
    blocks = re.findall(r"```nas\n(.*?)```", DOC, re.DOTALL)
    assert len(blocks) >= 4
    for block in blocks:
        if 'import "' in block:  # names a file that only exists in the example
            block = "\n".join(line for line in block.splitlines() if 'import "' not in line)
        load_text(block, "docs/language.md")


def test_zoo_names_documented():
    for name in zoo_index():
        assert f"`{name}`" in DOC or name.endswith(("_cifar", "_imagenet")), name
