"""Class names of generated code: any DSL name compiles to a module that imports and runs."""
from __future__ import annotations

import ast as pyast
import builtins
import keyword

import pytest
import torch

from nasdsl.cli.dispatch import main as cli
from nasdsl.codegen.generate import generate_source, module_names
from nasdsl.deploy.export import prepare
from nasdsl.lang.load import load_text

CELL = "cell {name} : normal {{ b0 = sep3x3(h0) + id(h1)  out = concat(unused) }}\n"
NETWORK = "network {name} {{ normal = c1  cells = 1 @ 48{extra} }}\n"

# cell names whose class name would be a keyword, or a word Python itself reserves
CELL_NAMES = ["none", "_true", "_false", "class", "None", "True", "lambda", "_none_"]
# network names whose class name would shadow an import, a runtime class or a builtin
NETWORK_NAMES = ["f", "_none", "none", "relu_conv_bn", "scheduled_drop_path", "aux_head", "nn", "torch",
                 "build", "conv_bn", "value_error", "runtime_error", "class", "True", "_c1"]


def _run_file(path, train: bool = False) -> tuple:
    """Import a written module the way a user would, build its network and run it once."""
    ns: dict = {"__name__": "generated"}
    exec(compile(path.read_text(), str(path), "exec"), ns)  # noqa: S102 - the compiler's own output
    net = ns["build"](num_classes=3)
    net.train(train)
    with torch.no_grad():
        out = net(torch.randn(2, 3, 32, 32))
    return out if isinstance(out, tuple) else (out,)


def _classes(src: str) -> list[str]:
    return [n.name for n in pyast.parse(src).body if isinstance(n, pyast.ClassDef)]


@pytest.mark.parametrize("name", CELL_NAMES)
def test_cell_named_like_a_keyword_compiles_and_runs(tmp_path, name):
    nas = tmp_path / "cells.nas"
    nas.write_text(CELL.format(name=name))
    out = tmp_path / "model.py"
    assert cli(["check", str(nas)]) == 0
    assert cli(["compile", str(nas), "-o", str(out)]) == 0
    assert all(not keyword.iskeyword(c) for c in _classes(out.read_text()))
    assert _run_file(out)[0].shape == (2, 3)


@pytest.mark.parametrize("name", NETWORK_NAMES)
def test_network_named_like_a_module_global_compiles_and_runs(tmp_path, name):
    nas = tmp_path / "net.nas"
    extra = "  aux_head = true" if name == "aux_head" else ""
    nas.write_text("cell c1 : normal { b0 = sep3x3(h0) + id(h1)  out = concat(unused) }\n"
                   + NETWORK.format(name=name, extra=extra))
    out = tmp_path / "model.py"
    assert cli(["compile", str(nas), "-o", str(out)]) == 0
    outs = _run_file(out, train=bool(extra))
    assert outs[0].shape == (2, 3) and len(outs) == (2 if extra else 1)
    module, _ = prepare(str(nas), classes=3)  # the export path compiles the same way
    assert module(torch.randn(1, 3, 32, 32)).shape == (1, 3)


def test_class_names_never_rebind_a_module_global():
    """Every top-level name of a generated module is bound once, and none is a builtin."""
    text = "".join(CELL.format(name=n).replace(": normal ", "") for n in ("c1", "nn", "f", "sep_conv", "exception"))
    text += NETWORK.format(name="torch", extra="  reduction = nn")
    src = generate_source(load_text(text))
    bound = []
    for node in pyast.parse(src).body:
        if isinstance(node, (pyast.ClassDef, pyast.FunctionDef)):
            bound.append(node.name)
        elif isinstance(node, (pyast.Import, pyast.ImportFrom)):
            bound += [(a.asname or a.name).split(".")[0] for a in node.names]
    assert len(bound) == len(set(bound))
    assert not set(_classes(src)) & set(dir(builtins))


def test_module_names_come_from_the_templates_and_runtime():
    names = module_names("same")
    assert {"torch", "F", "nn", "annotations", "build", "ReluConvBn", "AuxHead", "None", "ValueError"} <= names


def test_ordinary_names_keep_their_class_names():
    src = generate_source(load_text(CELL.format(name="my_cell") + NETWORK.format(name="my_net", extra="")
                                    .replace("c1", "my_cell")))
    classes = _classes(src)
    assert "MyNet" in classes and "MyCellReduction" in classes
