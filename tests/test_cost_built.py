"""Static cost against the built module: parameters equal `sum(p.numel())` and mult-adds equal a
forward-hook count of the generated module's convs and linears, for every zoo network and for
random cells of the paper's search space (with and without the optimization passes)."""
from __future__ import annotations

import random

import pytest
import torch
from torch import nn

import nasdsl
from nasdsl.ir.cost import cost
from nasdsl.ir.passes import OPTIMIZE
from nasdsl.lang.load import load, zoo_index

OPT = OPTIMIZE  # fold-identity,cse,dead-block


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def hook_madds(model: nn.Module, size: int) -> int:
    """Multiply-adds of every Conv2d and Linear that runs, counted at its actual output size."""
    total = 0

    def hook(m, _inputs, out):
        nonlocal total
        if isinstance(m, nn.Linear):
            total += m.in_features * m.out_features * (out.numel() // out.shape[-1] // out.shape[0])
        else:
            k = m.kernel_size[0] * m.kernel_size[1]
            total += out.shape[2] * out.shape[3] * m.out_channels * (m.in_channels // m.groups) * k
    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    for h in handles:
        h.remove()
    return total


ZOO_NETWORKS = sorted(n for n in zoo_index() if n in load(n).networks)
SMALL = {"nasnet_a_cifar", "nasnet_a_mobile", "pnasnet5_mobile", "darts_v2_cifar"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n in SMALL else pytest.mark.slow)
                                  for n in ZOO_NETWORKS])
def test_zoo_params_and_madds_equal_the_built_module(name):
    spec = load(name).network_spec(name)
    model = nasdsl.compile(name, aux_head=True)
    with_aux, without = cost(name, aux_head=True), cost(name)
    assert with_aux.params == n_params(model)
    assert without.params == n_params(model) - n_params(model.aux_head)
    # in eval mode the aux head does not run: the hooks see the inference path only
    assert without.madds == hook_madds(model, spec.image)


def random_cells(rng: random.Random, ops: tuple[str, ...], combine: tuple[str, ...]) -> str:
    """A normal and a reduction cell drawn uniformly from a NASNet-style space, as DSL text."""
    text = []
    for name, kind in (("rand_normal", "normal"), ("rand_reduce", "reduction")):
        states, lines = ["h0", "h1"], []
        for b in range(5):
            a, c = rng.choice(states), rng.choice(states)
            oa, oc = rng.choice(ops), rng.choice(ops)
            comb = rng.choice(combine)
            expr = f"{oa}({a}) + {oc}({c})" if comb == "add" else f"{comb}({oa}({a}), {oc}({c}))"
            lines.append(f"    b{b} = {expr}")
            states.append(f"b{b}")
        text.append(f"cell {name} : {kind} {{\n" + "\n".join(lines) + "\n    out = concat(unused)\n}\n")
    return "\n".join(text)


def _space():
    s = load("nasnet").space_spec("nasnet")
    return s.ops, s.combine


def _check_random(seed: int) -> None:
    rng = random.Random(seed)
    ops, combine = _space()
    src = random_cells(rng, ops, combine)
    overrides = {"n": 1, "filters": rng.choice((4, 6, 8)), "classes": 10}
    passes = OPT if seed % 2 else None
    pipeline = f"shape,{OPT},cost" if passes else "shape,cost"
    model = nasdsl.compile(src, overrides=overrides, passes=passes, aux_head=True)
    with_aux = cost(src, aux_head=True, pipeline=pipeline, overrides=overrides)
    assert with_aux.params == n_params(model), src
    # in eval mode the aux head does not run: the hooks see the inference path only
    assert with_aux.madds - with_aux.row("aux head").madds == hook_madds(model, 32), src


@pytest.mark.parametrize("seed", range(20))
def test_random_nasnet_space_cells(seed):
    _check_random(seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20, 200))
def test_random_nasnet_space_cells_many(seed):
    _check_random(seed)


def test_optimization_passes_keep_params_on_the_zoo():
    """cse and fold-identity only touch parameter-free ops; zoo cells have no dead blocks."""
    for name in ("nasnet_a_mobile", "pnasnet5_mobile"):
        plain, opt = cost(name), cost(name, pipeline=f"shape,{OPT},cost")
        assert (plain.params, plain.madds) == (opt.params, opt.madds)
