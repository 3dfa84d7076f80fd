"""Export-time graph passes (nasdsl/deploy/graph_passes.py): golden text of small hand-built
graphs after each pass, the same outputs under onnxruntime before and after, and the reason they
exist: onnxruntime runs every convolution of NASNet-A Mobile in its blocked layout after them.
Regenerate the golden files with NASDSL_UPDATE_GOLDEN=1 after checking the difference by eye."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from proc_helpers import run_cli

from nasdsl.deploy.graph_passes import GRAPH_PASSES, describe, run_passes

GOLDEN = Path(__file__).parent / "golden" / "graph_passes"
END = 2**63 - 1


class _Builder:
    """A small ONNX graph in a few lines: random weights, deterministic by seed."""

    def __init__(self, channels: int, size: tuple[int, int], seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.input = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", channels, *size])
        self.k = 0

    def _name(self, base: str) -> str:
        self.k += 1
        return f"{base}{self.k}"

    def const(self, value) -> str:
        name = self._name("c")
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op: str, *inputs: str, **attrs) -> str:
        out = self._name(op.lower())
        self.nodes.append(helper.make_node(op, list(inputs), [out], name=out, **attrs))
        return out

    def conv(self, x: str, cin: int, cout: int, k: int = 1, group: int = 1, **attrs) -> str:
        w = self.const(self.rng.standard_normal((cout, cin // group, k, k)).astype(np.float32))
        b = self.const(self.rng.standard_normal(cout).astype(np.float32))
        return self.op("Conv", x, w, b, kernel_shape=[k, k], group=group, **attrs)

    def const_node(self, value) -> str:
        """A constant written as a Constant node, the way the TorchScript exporter writes them."""
        return self.op("Constant", value=numpy_helper.from_array(np.asarray(value)))

    def slice(self, x: str, start: int, axis: int, step: int = 2, const_nodes: bool = False) -> str:
        c = self.const_node if const_nodes else self.const
        return self.op("Slice", x, c([start]), c([END]), c([axis]), c([step]))

    def model(self, *outputs: str) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, "g", [self.input], [], self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
        typed = {v.name: v for v in onnx.shape_inference.infer_shapes(model).graph.value_info}
        model.graph.output.extend(typed[o] for o in outputs)
        return model


def stem_like() -> onnx.ModelProto:
    """A NASNet stem in small: 11 channels (not a multiple of the block), a depthwise conv, an add
    with a pool, the factorized reduction (two strided slices into 1x1 convs, concatenated) added to
    a pooled branch, a classifier, and an op the padding pass does not know (Sigmoid)."""
    b = _Builder(3, (16, 16))
    r = b.op("Relu", b.conv("x", 3, 11, 3, pads=[1, 1, 1, 1]))
    sep = b.conv(b.conv(r, 11, 11, 3, group=11, pads=[1, 1, 1, 1]), 11, 11)
    s = b.op("Add", sep, b.op("AveragePool", r, kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
    q1 = b.conv(b.slice(b.slice(r, 0, 2), 0, 3), 11, 5)
    q2 = b.conv(b.slice(b.slice(r, 1, 2), 1, 3), 11, 6)
    t = b.op("Add", b.op("MaxPool", s, kernel_shape=[2, 2], strides=[2, 2]), b.op("Concat", q1, q2, axis=1))
    mean = b.op("ReduceMean", t, b.const([2, 3]), keepdims=0)
    logits = b.op("Gemm", mean, b.const(b.rng.standard_normal((4, 11)).astype(np.float32)),
                  b.const(np.zeros(4, np.float32)), transB=1)
    return b.model(logits, b.op("Sigmoid", t))


def odd_shift(size: int) -> onnx.ModelProto:
    """The factorized reduction's shifted path on an odd or even size: x[:, :, 1::2, 1::2], then a
    1x1 conv padded at the end (applies only where the strided conv gives the same size)."""
    b = _Builder(8, (size, size))
    shifted = b.slice(b.slice("x", 1, 2), 1, 3)
    return b.model(b.conv(shifted, 8, 8, pads=[0, 0, 1, 1]), b.conv(b.slice(b.slice("x", 0, 2), 0, 3), 8, 8))


CASES = {
    "stem_like": (stem_like, ["slice-into-conv", "pad-channels"]),
    "stem_like_pad_only": (stem_like, ["pad-channels"]),
    "odd_shift_15": (lambda: odd_shift(15), ["slice-into-conv"]),
    "even_shift_16": (lambda: odd_shift(16), ["slice-into-conv"]),
}


def _run(model: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    s = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return s.run(None, {"x": x})


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case):
    build, passes = CASES[case]
    model = build()
    run_passes(model, passes)
    onnx.checker.check_model(model, full_check=True)
    got = f"# passes: {', '.join(passes)}\n" + describe(model)
    path = GOLDEN / f"{case}.out"
    if os.environ.get("NASDSL_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got)
    assert got == path.read_text()


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_outputs_under_onnxruntime(case):
    build, passes = CASES[case]
    model = build()
    x = np.random.default_rng(1).standard_normal([3] + [d.dim_value for d in
                                                        model.graph.input[0].type.tensor_type.shape.dim[1:]])
    x = x.astype(np.float32)
    before = _run(model, x)
    run_passes(model, passes)
    after = _run(model, x)
    assert len(before) == len(after)
    for a, b in zip(before, after):
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5)


def test_what_each_pass_does_to_the_small_stem():
    model = stem_like()
    assert run_passes(model, ["slice-into-conv"]) == ["slice-into-conv"]
    ops = [n.op_type for n in model.graph.node]
    assert "Slice" not in ops
    assert run_passes(model, ["slice-into-conv"]) == []  # nothing left to do: a fixed point
    assert run_passes(model, ["pad-channels"]) == ["pad-channels"]
    weights = {t.name: tuple(t.dims) for t in model.graph.initializer}
    shapes = [weights[n.input[1]] for n in model.graph.node if n.op_type == "Conv"]
    assert all(s[0] % 8 == 0 for s in shapes), shapes  # every conv writes whole blocks
    # the unknown Sigmoid and the graph's outputs read the original 11 channels, through a Gather
    assert [n.op_type for n in model.graph.node].count("Gather") == 1


def test_even_size_with_end_pad_is_left_alone():
    model = odd_shift(16)
    run_passes(model, ["slice-into-conv"])
    # the padded shifted path would change size as a strided conv: its slices stay
    assert [n.op_type for n in model.graph.node].count("Slice") == 2


def _dead_outputs(model: onnx.ModelProto) -> list[str]:
    """Outputs of nodes that no node reads and that are not graph outputs."""
    read = {i for n in model.graph.node for i in n.input} | {o.name for o in model.graph.output}
    return [o for n in model.graph.node for o in n.output if o not in read]


def test_a_removed_slice_takes_its_constant_nodes_with_it():
    b = _Builder(8, (15, 15))
    model = b.model(b.conv(b.slice(b.slice("x", 1, 2, const_nodes=True), 1, 3, const_nodes=True), 8, 8))
    assert run_passes(model, ["slice-into-conv"]) == ["slice-into-conv"]
    assert [n.op_type for n in model.graph.node] == ["Conv"]
    assert _dead_outputs(model) == []


def test_a_torchscript_export_keeps_no_dead_nodes(tmp_path):
    # onnxruntime warns about each unused constant when it loads a model (32 lines for a small net)
    from nasdsl.deploy.export import export_onnx, prepare
    from nasdsl.testing import SMALL_NAS

    src = tmp_path / "small.nas"
    src.write_text(SMALL_NAS)
    module, card = prepare(str(src), image=16, classes=10)
    out = export_onnx(module.eval(), card, tmp_path / "small.onnx", exporter="torchscript", opset=17)
    model = onnx.load(str(out))
    assert "Conv" in {n.op_type for n in model.graph.node}
    assert _dead_outputs(model) == []


def test_unknown_pass_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown graph pass 'fuse-all'.*pad-channels"):
        run_passes(stem_like(), ["fuse-all"])
    assert set(GRAPH_PASSES) == {"slice-into-conv", "pad-channels"}


@pytest.mark.slow
def test_onnxruntime_blocks_every_convolution_of_nasnet_mobile(tmp_path):
    """Why the passes exist: without them onnxruntime runs the stem cells' 11- and 22-channel
    convolutions in plain NCHW (with reorders around them); with them every convolution is in its
    blocked NCHWc layout. Outputs stay those of PyTorch (verify)."""
    from nasdsl.deploy.export import export_onnx, prepare, verify

    module, card = prepare("nasnet_a_mobile", image=96)

    def plain_convs(path: Path) -> tuple[int, int]:
        opts = ort.SessionOptions()
        opts.optimized_model_filepath = str(path.with_suffix(".opt.onnx"))
        opts.log_severity_level = 3
        ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        nodes = onnx.load(opts.optimized_model_filepath).graph.node
        convs = [n for n in nodes if n.op_type == "Conv"]
        return len(convs), sum(n.domain != "com.microsoft.nchwc" for n in convs)

    bare = export_onnx(module, card, tmp_path / "bare.onnx", graph_passes=())
    passed = export_onnx(module, card, tmp_path / "passed.onnx")
    total, plain = plain_convs(bare)
    if plain == total:
        pytest.skip("onnxruntime uses no NCHWc convolutions on this CPU")
    assert plain > 0
    assert plain_convs(passed)[1] == 0
    assert verify(module, passed).ok
    exporter = {p.key: p.value for p in onnx.load(str(passed)).metadata_props}["nasdsl.exporter"]
    assert exporter.endswith("graph passes: slice-into-conv, pad-channels")


def test_cli_rejects_an_unknown_graph_pass(tmp_path):
    r = run_cli("export", "nasnet_a_mobile", "--graph-passes", "pad-channels,bogus", "-o", str(tmp_path / "m.onnx"))
    assert r.returncode == 2
    assert r.stderr.strip() == ("nasdsl: error: --graph-passes: unknown pass 'bogus' "
                                "(known: slice-into-conv, pad-channels, or none)")
    assert not (tmp_path / "m.onnx").exists()
