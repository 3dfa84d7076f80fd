"""The supernet compiled from a space: with one child's path selected and that child's weights, it
computes what the stand-alone compiled child computes (the meaning of shared weights)."""
import random
import subprocess
import sys

import pytest
import torch

import nasdsl
from nasdsl.codegen.supernet import Proxy, compile_supernet, supernet_source
from nasdsl.errors import NasError
from nasdsl.testing import randomize_bn
from nasdsl_search.space import ProxyNet, load_space, to_nas

SIZES = {"cells": 1, "filters": 8, "image": 8, "classes": 10}
TOL = 1e-5


def _child(space, arch):
    return nasdsl.compile(to_nas(space, arch, ProxyNet(**SIZES)), network="proxy")


def _chain(space) -> tuple[int, ...]:
    """Every block reads the one before, so each cell concatenates only its last block: F channels,
    which makes the cell after next take its h1 as is (no ReLU-1x1-BN), as the shape pass decides."""
    arch = []
    for _cell in range(2):
        for b in range(space.blocks):
            prev = 0 if b == 0 else 2 + b - 1
            arch += [prev, 1 if b == 0 else prev][: space.inputs]
            arch += [space.ops.index("sep3x3")] * space.inputs
            arch.append(space.combine.index("add"))
    return tuple(arch)


def _archs(space, n, seed=0):
    rng = random.Random(seed)
    return [tuple(rng.randrange(k) for k in space.sizes) for _ in range(n)]


def _distinct(space, arch) -> bool:
    """No block runs the same op on the same state twice (the supernet shares that candidate, a
    stand-alone child has two modules: copying a child in cannot keep both)."""
    per, k = space.per_block, space.inputs
    return all(len({(arch[b * per + s], arch[b * per + k + s]) for s in range(k)}) == k
               for b in range(2 * space.blocks))


@pytest.fixture(scope="module", params=[pytest.param("nasnet", marks=pytest.mark.slow), "darts", "enas"])
def setup(request):
    torch.manual_seed(0)
    space = load_space(request.param)
    net = compile_supernet(request.param, Proxy(**SIZES))
    randomize_bn(net)
    return space, net.eval()


def test_supernet_path_equals_the_compiled_child(setup):
    space, net = setup
    x = torch.randn(3, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    archs = _archs(space, 4) + ([_chain(space)] if space.output == "unused" else [])
    for arch in archs:
        child = _child(space, arch)
        child.load_state_dict(net.child_state_dict(arch), strict=True)
        child.eval()
        with torch.no_grad():
            diff = (net(x, arch) - child(x)).abs().max().item()
        assert diff < TOL, (space.name, arch, diff)


def _cell_outputs(net, *inputs) -> dict[str, torch.Tensor]:
    """What each cell of `net` returns in `net(*inputs)` (a supernet cell's output without its index)."""
    out, hooks = {}, []
    for name, m in net.named_children():
        if "cell" in name:
            hooks.append(m.register_forward_hook(
                lambda _m, _i, y, name=name: out.__setitem__(name, y[0] if isinstance(y, tuple) else y)))
    try:
        with torch.no_grad():
            net(*inputs)
    finally:
        for h in hooks:
            h.remove()
    return out


def test_each_cell_on_the_path_outputs_the_childs_channels_alone(setup):
    """No padding on the path: every supernet cell hands on exactly its counterpart's output in the
    compiled child, as wide and equal, so the supernet's layers run no wider than the child's."""
    space, net = setup
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(3))
    for arch in _archs(space, 3, seed=7):
        child = _child(space, arch)
        child.load_state_dict(net.child_state_dict(arch), strict=True)
        ours, theirs = _cell_outputs(net, x, arch), _cell_outputs(child.eval(), x)
        assert ours.keys() == theirs.keys() and len(ours) >= 3
        for name, y in ours.items():
            assert y.shape == theirs[name].shape, (space.name, arch, name)
            assert (y - theirs[name]).abs().max().item() < TOL, (space.name, arch, name)


def test_child_weights_copied_in_give_the_child(setup):
    space, net = setup
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    archs = [a for a in _archs(space, 50, seed=5) if _distinct(space, a)][:3]
    assert len(archs) == 3
    for seed, arch in enumerate(archs):
        torch.manual_seed(seed)
        child = randomize_bn(_child(space, arch), seed=seed).eval()
        net.load_child_state_dict(arch, child.state_dict())
        with torch.no_grad():
            diff = (net(x, arch) - child(x)).abs().max().item()
            other = _archs(space, 1, seed=99)[0]
            moved = (net(x, other) - child(x)).abs().max().item()
        assert diff < TOL, (space.name, arch, diff)
        assert moved > 1e-3  # another child of the supernet computes something else


def test_mixture_with_one_hot_weights_is_the_child():
    """DARTS mixture: logits that put all weight on the child's op on its edges and on `none`
    elsewhere give that child exactly (children whose two branches share an edge are skipped: the
    mixture has one op per edge)."""
    space = load_space("darts")
    torch.manual_seed(0)
    net = randomize_bn(compile_supernet("darts", Proxy(**SIZES))).eval()
    none, per = space.ops.index("none"), space.per_block
    x = torch.randn(2, 3, 8, 8)
    archs = [a for a in _archs(space, 200, seed=3)
             if all(a[k * per] != a[k * per + 1] for k in range(2 * space.blocks))][:3]
    assert len(archs) == 3
    for arch in archs:
        alphas = {}
        for c, kind in enumerate(("normal", "reduction")):
            alphas[kind] = []
            for b in range(space.blocks):
                a = torch.full((2 + b, len(space.ops)), -1e4)
                a[:, none] = 1e4
                d = arch[(c * space.blocks + b) * per:(c * space.blocks + b + 1) * per]
                for i, o in zip(d[:2], d[2:4]):
                    a[i] = -1e4
                    a[i, o] = 1e4
                alphas[kind].append(a)
        child = _child(space, arch)
        child.load_state_dict(net.child_state_dict(arch), strict=True)
        child.eval()
        with torch.no_grad():
            diff = (net(x, alphas=alphas) - child(x)).abs().max().item()
        assert diff < TOL, (arch, diff)


def test_mixture_needs_a_darts_like_space():
    net = compile_supernet("nasnet", Proxy(**SIZES))
    alphas = {k: [torch.zeros(2 + b, 13) for b in range(5)] for k in ("normal", "reduction")}
    with pytest.raises(ValueError, match="mixture needs output = blocks"):
        net(torch.randn(1, 3, 8, 8), alphas=alphas)


def test_supernet_source_is_torch_only_and_readable():
    src = supernet_source("darts", Proxy(**SIZES))
    imports = {ln for ln in src.splitlines() if ln.startswith(("import ", "from "))}
    assert imports == {"from __future__ import annotations", "import torch", "import torch.nn.functional as F",
                       "from torch import nn"}
    assert 'self.edge["b3_b2_dil_sep5x5"] = DilSepConv(' in src
    assert "class DartsSupernet(nn.Module)" in src
    compile(src, "<supernet>", "exec")


def test_cli_writes_the_supernet(tmp_path):
    out = tmp_path / "supernet.py"
    r = subprocess.run([sys.executable, "-m", "nasdsl", "compile", "enas", "--supernet", "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    ns: dict = {}
    exec(compile(out.read_text(), str(out), "exec"), ns)  # noqa: S102 - the file we just generated
    net = ns["build"]()
    space = load_space("enas")
    assert net(torch.randn(2, 3, 8, 8), _archs(space, 1)[0]).shape == (2, 10)
    r = subprocess.run([sys.executable, "-m", "nasdsl", "compile", "nasnet_a_mobile", "--supernet"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "space" in r.stderr and "Traceback" not in r.stderr


def test_not_a_space_is_a_user_error():
    with pytest.raises(NasError):
        supernet_source("nasnet_a_mobile")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (the supernet's GPU path)")
def test_supernet_on_cuda_matches_the_cpu_child():
    space = load_space("darts")
    net = randomize_bn(compile_supernet("darts", Proxy(**SIZES))).eval()
    arch = _archs(space, 1, seed=7)[0]
    child = _child(space, arch)
    child.load_state_dict(net.child_state_dict(arch), strict=True)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        diff = (net.cuda()(x.cuda(), arch).cpu() - child.eval()(x)).abs().max().item()
    assert diff < 1e-4
