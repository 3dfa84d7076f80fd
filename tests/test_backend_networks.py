"""Every zoo network and random cells of the `nasnet` space compile, run forward and backward at
CIFAR size, and the generated module equals the IR interpreter on the same weights."""
from __future__ import annotations

import random

import pytest
import torch

import nasdsl
from nasdsl.codegen.generate import generate_source
from nasdsl.codegen.interp import interpret
from nasdsl.lang.load import load, zoo_index
from nasdsl.testing import randomize_bn

SMALL = {"n": 1, "filters": 8, "image": 32, "aux_head": False}


def tf_networks() -> list[str]:
    names = []
    for name in sorted(zoo_index()):
        program = load(name)
        if name in program.networks and program.network_spec(name).skeleton in ("nasnet", "pnasnet"):
            names.append(name)
    return names


def forward_backward(model: torch.nn.Module, classes: int = 10) -> None:
    model.train()
    model.set_progress(0.5)
    x = torch.randn(2, 3, 32, 32)
    out = model(x)
    outs = out if isinstance(out, tuple) else (out,)  # (logits, aux logits) with the aux head on
    for logits in outs:
        assert logits.shape == (2, classes) and torch.isfinite(logits).all()
    sum(logits.square().mean() for logits in outs).backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def check_against_interpreter(src, network=None, overrides=None, tol=1e-4) -> None:
    model = randomize_bn(nasdsl.compile(src, network, overrides=overrides)).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        ours = model(x)
    oracle = interpret(src, x, model.state_dict(), network, overrides=overrides)
    assert (ours - oracle).abs().max().item() < tol


def test_zoo_has_tf_networks():
    assert {"nasnet_a_cifar", "nasnet_a_mobile", "nasnet_a_large", "pnasnet5_large"} <= set(tf_networks())


@pytest.mark.parametrize("name", tf_networks())
def test_zoo_network_small_trains_and_matches_interpreter(name):
    overrides = dict(SMALL, classes=10)
    model = nasdsl.compile(name, overrides=overrides)
    forward_backward(model)
    check_against_interpreter(name, overrides=overrides)


def test_nasnet_a_cifar_full_size_with_aux_head():
    model = nasdsl.compile("nasnet_a_cifar")
    assert sum(p.numel() for n, p in model.named_parameters() if not n.startswith("aux_head")) == 3_346_538
    model.train()
    logits, aux = model(torch.randn(2, 3, 32, 32))
    assert logits.shape == aux.shape == (2, 10)
    (logits.sum() + 0.4 * aux.sum()).backward()


def random_cell(rng: random.Random, name: str, kind: str, ops, combiners) -> str:
    lines, states = [], ["h0", "h1"]
    for b in range(5):
        a, c = (f"{rng.choice(ops)}({rng.choice(states)})" for _ in range(2))
        comb = rng.choice(combiners)
        lines.append(f"    b{b} = {a} + {c}" if comb == "add" else f"    b{b} = {comb}({a}, {c})")
        states.append(f"b{b}")
    return f"cell {name} : {kind} {{\n" + "\n".join(lines) + "\n    out = concat(unused)\n}\n"


def random_network_text(seed: int) -> str:
    space = load("nasnet").space_spec("nasnet")
    rng = random.Random(seed)
    text = random_cell(rng, "rn", "normal", space.ops, space.combine)
    text += random_cell(rng, "rr", "reduction", space.ops, space.combine)
    stem = rng.choice(["cifar", "imagenet"])
    skip = rng.choice(["true", "false"])
    return text + (f"network rnd {{\n    normal = rn\n    reduction = rr\n    stem = {stem}\n    cells = 1\n"
                   f"    filters = {rng.choice([8, 12]) if stem == 'imagenet' else rng.choice([4, 6, 8])}\n    image = 32\n    classes = 10\n"
                   f"    skip_reduction_input = {skip}\n    aux_head = false\n}}\n")


@pytest.mark.parametrize("chunk", range(4))
def test_random_nasnet_space_cells_train(chunk):
    """200 random cell pairs of the paper's space (add and concat combiners, every op)."""
    for seed in range(chunk * 50, chunk * 50 + 50):
        text = random_network_text(seed)
        torch.manual_seed(seed)
        forward_backward(nasdsl.compile(text))


def test_random_cells_match_interpreter():
    for seed in range(1000, 1030):
        torch.manual_seed(seed)
        check_against_interpreter(random_network_text(seed))


def test_cells_only_file_gives_classes_and_a_cifar_network():
    text = random_cell(random.Random(7), "mine", "normal", ["sep3x3", "avg3x3", "id"], ["add"])
    src = generate_source(text)
    assert "class Mine(nn.Module)" in src and "class MineCifar(nn.Module)" in src
    model = nasdsl.compile(text, overrides={"n": 1, "filters": 8})
    forward_backward(model)
    ns: dict = {}
    exec(compile(src, "<gen>", "exec"), ns)  # the cell class drops into a network of one's own
    cell = ns["Mine"](in_channels=16, prev_channels=24, filters=8, hw=None)
    out = cell(torch.randn(1, 16, 9, 9), torch.randn(1, 24, 9, 9))
    assert out.shape[1] % 8 == 0 and out.shape[-2:] == (9, 9)


STRIDED_ID = """
import nasnet_a_normal

cell red {
    b0 = id(h0) + sep3x3(h1)
    out = concat(b0)
}

network tf {
    normal = nasnet_a_normal
    reduction = red
    cells = 1
    filters = 8
}

network dt {
    skeleton = darts
    normal = nasnet_a_normal
    reduction = red
    cells = 1
    filters = 8
}
"""


def test_a_strided_identity_is_never_dropped_on_tf_slim_and_dropped_on_darts():
    """TF-slim drops every op but 'none' (`if operation != 'none': drop_path`), also where 'none' is
    made a strided 1x1 conv (PNASNet's reductions); DARTS drops all but a plain Identity, so its
    strided skip (FactorizedReduce) is dropped. The TF-slim skeleton dropped it."""
    from nasdsl.codegen.supernet import supernet_source

    tf, dt = (generate_source(STRIDED_ID, network) for network in ("tf", "dt"))
    assert "x_comb_iter_0 = x_comb_iter_0_left + self.drop_path(x_comb_iter_0_right)  # <input>:5" in tf
    assert "x_comb_iter_0 = self.drop_path(x_comb_iter_0_left) + self.drop_path(x_comb_iter_0_right)  # <input>:5" in dt
    assert "x_comb_iter_4 = self.drop_path(x_comb_iter_4_left) + x_comb_iter_4_right" in generate_source("pnasnet5_large")
    assert "UNDROPPED = ('id',)" in supernet_source("nasnet") and "UNDROPPED = ()" in supernet_source("darts")


def test_cse_pipeline_is_honoured():
    plain = generate_source("nasnet_a_mobile")
    merged = generate_source("nasnet_a_mobile", passes="cse")
    assert merged != plain
    assert "self.drop_path(x_comb_iter_3_left) + self.drop_path(x_comb_iter_3_left)" in merged
    check_against_interpreter("nasnet_a_cifar", overrides=dict(SMALL), tol=1e-4)
    model = randomize_bn(nasdsl.compile("nasnet_a_cifar", overrides=dict(SMALL), passes="cse")).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert (model(x) - interpret("nasnet_a_cifar", x, model.state_dict(), overrides=dict(SMALL))
                ).abs().max() < 1e-4


@pytest.mark.parametrize("name", ["nasnet_a_cifar", "pnasnet5_large", "darts_v2_cifar"])
def test_fuse_and_channels_last_keep_the_outputs(name):
    """Inference options: BN folded into the convolutions, channels_last memory layout."""
    overrides = dict(SMALL, classes=10)
    model = randomize_bn(nasdsl.compile(name, overrides=overrides, passes="cse")).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        plain = model(x)
        fused = model.fuse()
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
        assert (fused(x) - plain).abs().max().item() < 1e-4
        cl = fused.to(memory_format=torch.channels_last)
        assert (cl(x.contiguous(memory_format=torch.channels_last)) - plain).abs().max().item() < 1e-4
    assert plain.std().item() > 1e-2
