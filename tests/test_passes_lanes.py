"""The lanes pass: a cell's h1 side on a second thread computes exactly what the one-thread cell
computes, in eval and in training (drop path, BN statistics, gradients), and the network still
copies and pickles. Its speed is measured in benchmarks/bench_eager.py, not here."""
from __future__ import annotations

import copy
import ctypes
import importlib
import inspect
import io
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from test_passes_semantics import OPT, _randomize, pass_food

import nasdsl
from nasdsl.cli.dispatch import main as cli
from nasdsl.codegen.generate import generate_source

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"n": 1, "filters": 8, "classes": 10}


def _pair(src, overrides, passes="", **kw):
    """The plain network and one compiled with `passes` + lanes (lanes on), same weights."""
    plain = nasdsl.compile(src, overrides=overrides, **kw)
    laned = nasdsl.compile(src, overrides=overrides, passes=",".join(p for p in (passes, "lanes") if p), **kw)
    _randomize(plain, 0)
    laned.load_state_dict({k: v for k, v in plain.state_dict().items() if k in laned.state_dict()}, strict=True)
    return plain, laned.lanes()


@pytest.mark.parametrize("seed", range(8))
def test_laned_cells_compute_the_same(seed):
    src = pass_food(random.Random(seed))
    plain, laned = _pair(src, SMALL, OPT, aux_head=False)
    plain.eval()
    laned.eval()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        torch.testing.assert_close(laned(x), plain(x), rtol=1e-5, atol=1e-5, msg=src)
    with torch.inference_mode():  # the worker thread runs in the caller's mode
        torch.testing.assert_close(laned(x), plain(x), rtol=1e-5, atol=1e-5, msg=src)


def test_the_food_has_cells_to_split():
    """Most random cells read h1 from an op, so the tests above do run a second lane."""
    split = sum("def h1_side" in generate_source(pass_food(random.Random(s)), overrides=SMALL, passes="lanes")
                for s in range(8))
    assert split >= 6


def test_laned_training_is_the_same_step():
    """Drop path draws on the calling thread in block order; BN statistics and gradients of the h1
    side (computed on the other thread) match the one-thread network's."""
    plain, laned = _pair("nasnet_a_cifar", SMALL, "cse")
    for m in (plain, laned):
        m.train()
        m.set_progress(0.7)  # drop path on (keep 0.6)
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    outs = []
    for m in (plain, laned):
        torch.manual_seed(3)
        logits, aux = m(x)
        (logits.square().mean() + aux.square().mean()).backward()
        outs.append(logits)
    torch.testing.assert_close(outs[1], outs[0], rtol=1e-5, atol=1e-5)
    grads = dict(plain.named_parameters())
    for name, p in laned.named_parameters():  # summed in another order across threads: to 1e-4 of the scale
        expect = grads[name].grad
        torch.testing.assert_close(p.grad, expect, rtol=0, atol=1e-4 * expect.abs().max().item() + 1e-8,
                                   msg=lambda m, name=name: f"{name}: {m}")
    stats = plain.state_dict()
    for name, t in laned.state_dict().items():
        if "running" in name:
            torch.testing.assert_close(t, stats[name], msg=name)


def test_mobile_with_lanes_matches_without():
    plain, laned = _pair("nasnet_a_mobile", None, "cse", aux_head=False)
    plain.eval().fuse()
    laned.eval().fuse()
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        torch.testing.assert_close(laned(x), plain(x), rtol=1e-4, atol=1e-4)


def test_each_h1_side_starts_one_cell_early_and_is_taken_once():
    """The network starts cell k+1's h1 side (its input is cell k-1's output) before cell k runs,
    in cell order; every cell takes the run started for it, none is started twice or left over."""
    src = generate_source("nasnet_a_mobile", passes="cse,lanes")
    features = src[src.index("def features"):src.index("def forward", src.index("def features"))]
    assert features.index("self.cell_1.ahead(x_cell_stem_1)") < features.index("x_cell_0 = self.cell_0(")
    plain, laned = _pair("nasnet_a_cifar", SMALL, "cse", aux_head=False)
    plain.eval()
    laned.eval()
    cells = [m for m in laned.modules() if hasattr(m, "h1_side")]
    lanes = cells[0].lanes
    started, early = [], []
    real_start, real_ahead = lanes.start, lanes.ahead
    lanes.start = lambda fn, *a: started.append(fn.__self__) or real_start(fn, *a)
    lanes.ahead = lambda cell, *a: early.append(cell) or real_ahead(cell, *a)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(laned(x), plain(x), rtol=1e-5, atol=1e-5)
    assert started == early == cells and lanes.early == {}


def test_an_h1_side_started_on_other_inputs_is_not_taken():
    """A cell called on other inputs than the run ahead() started computes on its own inputs."""
    plain, laned = _pair("nasnet_a_cifar", SMALL, "cse", aux_head=False)
    name, cell = next((n, m) for n, m in laned.named_modules()
                      if "x_prev" in inspect.signature(getattr(m, "h1_side", len)).parameters)
    x = torch.randn(2, cell.conv_1x1.conv.in_channels, 32, 32)
    x_prev, other = (torch.randn(2, cell.conv_prev_1x1.conv.in_channels, 32, 32) for _ in range(2))
    plain.eval()
    laned.eval()
    with torch.no_grad():
        cell.ahead(other)
        torch.testing.assert_close(cell(x, x_prev), plain.get_submodule(name)(x, x_prev))
    assert cell.lanes.early == {}


def test_laned_network_copies_pickles_and_turns_off(tmp_path, monkeypatch):
    plain, laned = _pair("nasnet_a_cifar", SMALL, "cse")
    out = tmp_path / "laned_cifar.py"  # torch.save pickles classes by module: an importable file
    out.write_text(generate_source("nasnet_a_cifar", overrides=SMALL, passes="cse,lanes"))
    monkeypatch.syspath_prepend(str(tmp_path))
    laned = importlib.import_module("laned_cifar").build().lanes()
    laned.load_state_dict(plain.state_dict())
    plain.eval()
    laned.eval()
    buf = io.BytesIO()
    torch.save(laned, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=False)
    copied = copy.deepcopy(laned)
    cells = [m for m in laned.modules() if hasattr(m, "h1_side")]
    assert cells and all(m.lanes is cells[0].lanes is not None for m in cells)
    for other in (loaded, copied):
        mine = [m.lanes for m in other.modules() if hasattr(m, "h1_side")]
        assert mine[0] is not cells[0].lanes and all(lane is mine[0] for lane in mine)  # its own thread
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        for other in (loaded, copied, copy.deepcopy(laned).lanes(False)):
            torch.testing.assert_close(other(x), plain(x), rtol=1e-5, atol=1e-5)
    assert all(m.lanes is None for m in laned.lanes(False).modules() if hasattr(m, "h1_side"))


def test_an_error_on_the_second_lane_reaches_the_caller():
    _, laned = _pair("nasnet_a_cifar", SMALL, "cse")
    with pytest.raises(RuntimeError):
        laned(torch.randn(1, 5, 32, 32))  # wrong channel count: the stem fails first, on the caller
    cell = next(m for m in laned.modules() if "x_prev" in inspect.signature(getattr(m, "h1_side", len)).parameters)
    x = torch.randn(1, cell.conv_1x1.conv.in_channels, 32, 32)
    with pytest.raises(RuntimeError):
        cell(x, torch.randn(1, 3, 32, 32))  # x_prev of the wrong width: fails on the lane thread


def test_the_lane_thread_uses_the_callers_intra_op_threads():
    """OpenMP keeps a thread count per thread, and a new thread starts at one per core: a lane left
    so ran its convolutions on a team of its own, three threads on two cores with lanes() at
    torch.set_num_threads(1), and its idle team slowed the caller's parallel work afterwards (2x at
    batch 1 in benchmarks/bench_eager.py's rows after the lanes row)."""
    maps = Path("/proc/self/maps")
    torch_dir = str(Path(torch.__file__).parent)  # torch's own runtime: scikit-learn loads another libgomp
    words = set(maps.read_text().split()) if maps.exists() else set()
    libs = sorted(w for w in words if w.startswith(torch_dir) and ("libgomp" in w or "libiomp" in w))
    if not libs:
        pytest.skip("torch here runs no OpenMP runtime of its own that this test can ask (Linux libgomp/libiomp)")
    omp = ctypes.CDLL(libs[0])
    _, laned = _pair("nasnet_a_cifar", SMALL, "cse")
    lanes = next(m.lanes for m in laned.modules() if hasattr(m, "h1_side"))
    before = torch.get_num_threads()
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            assert lanes.start(omp.omp_get_max_threads)() == n
    finally:
        torch.set_num_threads(before)


def test_laned_source_is_torch_only_and_passes_ruff(tmp_path):
    out = tmp_path / "model.py"
    assert cli(["compile", "nasnet_a_mobile", "--passes", "cse,lanes", "-o", str(out)]) == 0
    src = out.read_text()
    assert src.count("def h1_side") == 5  # every cell class has ops on h1
    imports = [ln for ln in src.splitlines() if ln.startswith(("import ", "from "))]
    assert imports == ["from __future__ import annotations", "import torch",
                       "import torch.nn.functional as F", "from torch import nn"]
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    res = subprocess.run([ruff, "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(out)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_a_laned_network_exports_on_one_thread():
    """export_onnx's fused copy turns lanes off: the exporter traces one forward, and onnxruntime
    computes what the laned network computes."""
    import onnxruntime as ort

    from nasdsl.deploy.export import fused, onnx_proto

    _, laned = _pair("nasnet_a_cifar", SMALL, "cse")
    laned.eval()
    copy_ = fused(laned)
    assert all(m.lanes is None for m in copy_.modules() if hasattr(m, "h1_side"))
    assert all(m.lanes is not None for m in laned.modules() if hasattr(m, "h1_side"))  # the original keeps them
    x = torch.randn(2, 3, 32, 32)
    session = ort.InferenceSession(onnx_proto(copy_, x, 18).SerializeToString(), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expect = laned(x).numpy()
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    assert abs(got - expect).max() <= 1e-5 * abs(expect).max()  # random weights: logits near 1e4


def test_a_forked_child_gets_its_own_lane_thread():
    """A process forked from one that ran the laned network does not inherit the lane thread; the
    child makes one instead of queueing work for a thread that is not there (a hang)."""
    code = f"""
import multiprocessing as mp, sys, torch
sys.path.insert(0, {str(ROOT)!r})
import nasdsl
torch.set_num_threads(1)  # as lanes() is used; torch itself hangs in a forked child after its thread pool ran
def child(model, x, conn):
    with torch.no_grad():
        conn.send(model(x).tolist())
if __name__ == "__main__":
    m = nasdsl.compile("nasnet_a_cifar", overrides={SMALL!r}, passes="cse,lanes").eval().lanes()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expect = m(x).tolist()  # the parent's lane thread is running
    here, there = mp.get_context("fork").Pipe()
    p = mp.get_context("fork").Process(target=child, args=(m, x, there))
    p.start()
    answered = here.poll(60)
    print("same" if answered and here.recv() == expect else "no answer" if not answered else "differs")
    p.kill()
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert res.stdout.strip() == "same", res.stdout + res.stderr[-2000:]
