"""Smoke tests of the core: parse, load, validate, IR."""
import pytest

from nasdsl.errors import NasError
from nasdsl.ir.graph import cell_graph, lint, print_graph
from nasdsl.lang.load import load, load_text, zoo_index


def test_zoo_loads():
    names = zoo_index()
    assert {"nasnet_a_mobile", "nasnet_a_normal", "darts_v2_cifar", "pnasnet5_large", "nasnet"} <= set(names)
    for name in names:
        program = load(name)
        assert name in {**program.cells, **program.networks, **program.spaces}, name


def test_nasnet_mobile_spec():
    spec = load("nasnet_a_mobile").network_spec("nasnet_a_mobile")
    assert (spec.n, spec.filters, spec.image, spec.stem) == (4, 44, 224, "imagenet")


def test_errors_reported_together():
    text = "cell c : normal {\n  b0 = sep3x4(h0) + id(h2)\n  b0 = id(b9)\n  out = concat(unused)\n}\n"
    with pytest.raises(NasError) as e:
        load_text(text, "c.nas")
    msgs = [d.message for d in e.value.diagnostics]
    assert len(msgs) == 4, msgs
    assert e.value.diagnostics[0].line == 2 and "sep3x3" in e.value.diagnostics[0].hint


def test_cycle_reported():
    text = "cell c {\n  b0 = id(b1) + id(h0)\n  b1 = id(b0) + id(h1)\n  out = concat(unused)\n}\n"
    with pytest.raises(NasError, match="cycle: b0 -> b1 -> b0"):
        load_text(text, "c.nas")


def test_ir_prints_and_lints():
    g = cell_graph(load("nasnet_a_normal").cells["nasnet_a_normal"])
    lint(g)
    text = print_graph(g)
    assert "%b3 = combine add(%b3.0, %b3.1)" in text
    assert text.splitlines()[-1] == "  %out = output concat(%h1, %b0, %b1, %b2, %b3, %b4)"
