"""Runtime layers: the torch code a generated file carries, as ordinary modules of this package.

`common.py` (drop path, fusion, BN folding), one module per padding convention (`pad_same.py`:
TF 'SAME'; `pad_symmetric.py`: PyTorch symmetric) and `layers.py` (every layer class, once). The
code generator never imports them (it stays torch-free): `source(padding, names)` reads their text
and returns the definitions that `names` need, transitively, in file order, ready to be pasted into
the generated module; `namespace(padding)` executes all of them, as a generated file would, for
tests. Import lines are not copied: every definition may use `torch`, `F` (torch.nn.functional),
`nn` and the other definitions. A layer added by an extension lives in its own module and is
registered with `register_module(path)`.
"""
from __future__ import annotations

import ast
import types
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Padding:
    """A padding convention: the module defining `out_size`, `conv2d`, `pool2d`, and the pool class
    generated cells construct directly."""

    name: str
    module: str  # file name in this package
    pool_class: str


# THE padding runtimes, named by a skeleton's `padding`
PADDINGS: dict[str, Padding] = {
    "same": Padding("same", "pad_same.py", "Pool2dSame"),
    "symmetric": Padding("symmetric", "pad_symmetric.py", "Pool2d"),
}


# runtime modules added by extensions (a new layer's classes), inlined after layers.py
EXTRA_MODULES: list[Path] = []


def register_module(path: str | Path) -> Path:
    """Make the top-level definitions of another module available to generated code."""
    path = Path(path).resolve()
    if path not in EXTRA_MODULES:
        EXTRA_MODULES.append(path)
    return path


@dataclass(frozen=True)
class Definition:
    name: str
    text: str
    uses: frozenset[str]  # every name it mentions


@lru_cache(maxsize=32)
def definitions(path: Path) -> tuple[Definition, ...]:
    """The top-level functions and classes of a runtime module, in file order."""
    text = path.read_text()
    lines = text.splitlines()
    out = []
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            body = "\n".join(lines[start - 1:node.end_lineno])
            uses = frozenset(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
            out.append(Definition(node.name, body, uses))
    return tuple(out)


def _modules(padding: str, extra: tuple[Path, ...]) -> list[Path]:
    if padding not in PADDINGS:
        raise ValueError(f"no padding runtime {padding!r} (known: {', '.join(PADDINGS)})")
    return [_HERE / "common.py", _HERE / PADDINGS[padding].module, _HERE / "layers.py", *EXTRA_MODULES, *extra]


def names(padding: str, extra: tuple[Path, ...] = ()) -> frozenset[str]:
    """Every name a generated file with this padding may define (kept free for cell classes)."""
    return frozenset(d.name for m in _modules(padding, extra) for d in definitions(m))


def source(padding: str, wanted, extra: tuple[Path, ...] = ()) -> list[str]:
    """The definitions `wanted` needs (itself included, transitively), in file order, as text."""
    defs = [d for m in _modules(padding, extra) for d in definitions(m)]
    by_name = {d.name: d for d in defs}
    unknown = set(wanted) - set(by_name)
    if unknown:
        raise ValueError(f"no runtime definition of {', '.join(sorted(unknown))} for padding {padding!r}")
    need: set[str] = set()
    todo = list(wanted)
    while todo:
        name = todo.pop()
        if name not in need:
            need.add(name)
            todo += [u for u in by_name[name].uses if u in by_name and u != name]
    return [d.text for d in defs if d.name in need]


def namespace(padding: str, extra: tuple[Path, ...] = ()) -> types.ModuleType:
    """Every runtime definition of a padding, executed into one fresh module (as generated code is)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    module = types.ModuleType(f"nasdsl_runtime_{padding}")
    module.__dict__.update(torch=torch, F=F, nn=nn)
    text = "from __future__ import annotations\n\n" + "\n\n\n".join(source(padding, names(padding, extra), extra))
    exec(compile(text, f"<nasdsl-runtime-{padding}>", "exec"), module.__dict__)  # noqa: S102 - our own code
    return module
