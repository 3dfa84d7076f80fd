"""The pass manager: registry, pipelines, lint after each pass, failures naming the pass."""
import networkx as nx
import pytest

from nasdsl.cli.dispatch import main
from nasdsl.errors import NasError
from nasdsl.ir.graph import cell_graph, print_graph
from nasdsl.ir.passes import PassError, parse_pipeline, passes, run_pipeline
from nasdsl.ir.passes.manager import PASSES, Pass, copy_graph
from nasdsl.ir.passes.shape import CellContext
from nasdsl.lang.load import load, load_text

CTX = CellContext(32, (16, 16), 32, (16, 16), 32, False, "nasnet")


def _normal() -> nx.DiGraph:
    return cell_graph(load("nasnet_a_normal").cells["nasnet_a_normal"])


def test_registry_has_the_builtin_passes():
    assert {"shape", "cse", "fold-identity", "dead-block", "cost"} <= set(passes())
    assert all(p.doc for p in passes().values())


def test_unknown_pass_suggests():
    with pytest.raises(NasError, match="unknown pass 'cse2'.*did you mean 'cse'"):
        parse_pipeline("shape,cse2")


def test_pipeline_is_pure_and_reports_changes():
    g = _normal()
    before = print_graph(g)
    r = run_pipeline(g, "shape,cse,fold-identity,dead-block,cost", CTX, dump=True)
    assert print_graph(g) == before
    assert r.changed == {"shape": True, "cse": True, "fold-identity": False, "dead-block": False, "cost": False}
    assert [name for name, _ in r.dumps] == ["input", "shape", "cse", "fold-identity", "dead-block", "cost"]
    assert "%b3 = combine add(%b3.0, %b3.0)" in r.dump_text()
    assert r.graph.graph["params"] == sum(d["meta"]["params"] for _, d in r.graph.nodes(data=True))


def _with(monkeypatch, name, fn):
    monkeypatch.setitem(PASSES, name, Pass(name, fn, "test pass"))


def test_failing_pass_is_named_with_those_before_it(monkeypatch):
    def boom(g, ctx):
        raise KeyError("meta")
    _with(monkeypatch, "boom", boom)
    with pytest.raises(PassError, match=r"pass 'boom' \(after shape, cse\) failed: KeyError"):
        run_pipeline(_normal(), "shape,cse,boom,dead-block", CTX)


def test_malformed_graph_is_caught_by_lint(monkeypatch):
    def breaks(g, ctx):
        out = copy_graph(g)
        out.remove_node("b0.0")  # the combine b0 now has a hole in its ports
        return out, True
    _with(monkeypatch, "breaks", breaks)
    with pytest.raises(PassError, match=r"pass 'breaks' \(after shape\) left a malformed graph") as e:
        run_pipeline(_normal(), "shape,breaks,cse", CTX)
    assert "ports [1] are not 0..0" in str(e.value)


def test_a_pass_must_not_return_its_input(monkeypatch):
    _with(monkeypatch, "lazy", lambda g, ctx: (g, False))
    with pytest.raises(PassError, match=r"pass 'lazy' \(after no other pass\) returned its input"):
        run_pipeline(_normal(), "lazy", CTX)


def test_user_errors_stay_nas_errors_and_name_the_pass():
    with pytest.raises(NasError, match=r"pass 'cse' \(after no other pass\): cse needs shape metadata"):
        run_pipeline(_normal(), "cse")
    with pytest.raises(NasError, match="shape pass needs to know where the cell sits"):
        run_pipeline(_normal(), "shape")
    with pytest.raises(NasError, match=r"pass 'shape'.*impossible shape"):
        run_pipeline(_normal(), "shape", CellContext(32, (16, 16), 32, (64, 64), 32))


def test_dead_block_needs_no_shapes():
    g = cell_graph(load_text("cell c {\n b0 = id(h0) + id(h1)\n b1 = id(b0) + id(h1)\n"
                             " out = concat(h0, b0)\n}\n").cells["c"])
    r = run_pipeline(g, "dead-block")
    assert r.changed["dead-block"] and "b1" not in r.graph


def test_ir_cli_prints_after_passes(capsys):
    assert main(["ir", "nasnet_a_mobile", "--passes", "shape,cse", "--cell", "nasnet_a_normal"]) == 0
    out = capsys.readouterr().out
    assert "# nasnet_a_normal at cell_0 of nasnet_a_mobile: input 88ch 28x28, previous 44ch 56x56, F=44" in out
    assert "# passes: shape (changed), cse (changed)" in out
    assert "  %b3 = combine add(%b3.0, %b3.0)  # channels=44 hw=28x28" in out
    assert "layer=sep_conv" in out


def test_ir_cli_network_implies_shape_and_at_picks_the_instance(capsys):
    assert main(["ir", "nasnet_a_large", "--cell", "nasnet_a_reduce", "--at", "reduction_cell_1"]) == 0
    out = capsys.readouterr().out
    assert "at reduction_cell_1 of nasnet_a_large" in out and "F=672, reduction" in out
    assert "%b0.0 = op sep5x5(%h0)  # channels=672 hw=11x11" in out


def test_ir_cli_plain_and_dump(capsys):
    assert main(["ir", "pnasnet5", "--no-meta"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# pnasnet5\ncell pnasnet5\n") and "#" not in out.split("\n", 1)[1]
    assert main(["ir", "nasnet_a_mobile", "--cell", "nasnet_a_reduce", "--passes", "shape,cse", "--dump"]) == 0
    out = capsys.readouterr().out
    assert out.count("# after ") == 3 and "# after cse\n" in out


def test_ir_cli_errors(capsys):
    assert main(["ir", "nasnet_a_mobile", "--cell", "nasnet_a_norml"]) == 2
    assert "did you mean 'nasnet_a_normal'" in capsys.readouterr().err
    assert main(["ir", "nasnet_a_normal", "--passes", "cse"]) == 2
    assert "run the shape pass first" in capsys.readouterr().err
    assert main(["ir", "nasnet_a_normal", "--passes", "shape,cse"]) == 2
    assert "needs a network it sits in: add --network N (it sits in nasnet_a_cifar" in capsys.readouterr().err
    assert main(["ir", "nasnet_a_normal", "--passes", "shape,cse", "--network", "nasnet_a_mobile"]) == 0
    assert "# nasnet_a_normal at cell_0 of nasnet_a_mobile" in capsys.readouterr().out
    assert main(["ir", "nasnet_a_mobile", "--at", "cell_99"]) == 2
    assert "no cell instance 'cell_99'" in capsys.readouterr().err
    assert main(["ir", "--list-passes"]) == 0
    assert "fold-identity" in capsys.readouterr().out
    assert main(["ir"]) == 2
    assert "required: FILE|NAME (or --list-passes)" in capsys.readouterr().err


def test_ir_and_convert_print_the_cells_a_zoo_name_names(capsys):
    """As viz draws them: a network's pair, not every cell of its file (darts_nets.nas imports eight),
    and a search space, which names no cell, is refused (it printed the cells of its file)."""
    assert main(["ir", "darts_v2_cifar", "--no-meta"]) == 0
    heads = [line for line in capsys.readouterr().out.splitlines() if line.startswith("# ")]
    assert heads == ["# darts_v2_normal", "# darts_v2_reduce"]
    assert main(["convert", "--from", "nas", "darts_v2_cifar"]) == 0
    out = capsys.readouterr().out
    assert "cell darts_v2_normal" in out and "cell darts_v2_reduce" in out and "darts_v1" not in out
    for argv in (["ir", "nasnet"], ["convert", "--from", "nas", "nasnet"]):
        assert main(argv) == 2, argv
        assert "a search space has no cell" in capsys.readouterr().err
