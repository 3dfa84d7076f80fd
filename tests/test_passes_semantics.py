"""The optimization passes keep meaning: on random cells built to give them work (repeated
parameter-free branches, identity-only blocks, blocks left out of an explicit output list), the
module compiled after cse, fold-identity and dead-block computes what the plain one computes with
the same weights (eval mode, BN statistics moved off their defaults), and a second run of the
pipeline finds nothing left to do."""
from __future__ import annotations

import random

import pytest
import torch

import nasdsl
from nasdsl.ir.cost import cost
from nasdsl.ir.graph import cell_graph
from nasdsl.ir.passes import OPTIMIZE, run_pipeline
from nasdsl.lang.load import load_text
from nasdsl.skeletons import plan

OPT = OPTIMIZE  # fold-identity,cse,dead-block
OPS = ("id", "avg3x3", "max3x3", "sep3x3", "conv1x1", "none")


def pass_food(rng: random.Random) -> str:
    """A normal and a reduction cell with things for every pass to do, as DSL text."""
    text = []
    for name, kind in (("food_normal", "normal"), ("food_reduce", "reduction")):
        states, lines = ["h0", "h1"], []
        for b in range(rng.randint(3, 6)):
            x = rng.choice(states)
            roll = rng.random()
            if roll < 0.25:
                expr = f"id({x})"  # an identity-only block
            elif roll < 0.5:
                op = rng.choice(("avg3x3", "max3x3", "id", "none"))
                expr = f"{op}({x}) + {op}({x})"  # a repeated parameter-free branch
            else:
                expr = f"{rng.choice(OPS)}({x}) + {rng.choice(OPS)}({rng.choice(states)})"
            lines.append(f"    b{b} = {expr}")
            states.append(f"b{b}")
        blocks = states[2:]
        out = sorted(set(rng.sample(blocks, rng.randint(1, len(blocks))) + [blocks[-1]]),
                     key=states.index)
        text.append(f"cell {name} : {kind} {{\n" + "\n".join(lines)
                    + f"\n    out = concat({', '.join(out)})\n}}\n")
    return "\n".join(text)


def _randomize(model: torch.nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict(keep_vars=True).items():  # persistent tensors only
            if t.is_floating_point():
                t.copy_(torch.rand(t.shape, generator=g) + 0.5 if "running_var" in name
                        else torch.randn(t.shape, generator=g) * 0.5)


@pytest.mark.parametrize("seed", range(12))
def test_optimized_module_computes_the_same(seed):
    src = pass_food(random.Random(seed))
    overrides = {"n": 1, "filters": 8, "classes": 10}
    plain = nasdsl.compile(src, overrides=overrides, aux_head=False)
    fast = nasdsl.compile(src, overrides=overrides, passes=OPT, aux_head=False)
    _randomize(plain, seed)
    state = plain.state_dict()
    fast.load_state_dict({k: v for k, v in state.items() if k in fast.state_dict()}, strict=True)
    plain.eval()
    fast.eval()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        torch.testing.assert_close(fast(x), plain(x), rtol=1e-5, atol=1e-5, msg=src)
    # the saving shows in the static cost exactly as in the module
    opt_cost = cost(src, pipeline=f"shape,{OPT},cost", overrides=overrides)
    assert opt_cost.params == sum(p.numel() for p in fast.parameters())


@pytest.mark.parametrize("seed", range(40))
def test_pipeline_reaches_a_fixed_point_and_keeps_lint(seed):
    src = pass_food(random.Random(1000 + seed))
    program = load_text(src, "food.nas")
    from nasdsl.codegen.generate import cifar_spec

    layout = plan(program, cifar_spec(program))
    for inst in layout.cells:
        once = run_pipeline(inst.graph, OPT, inst.ctx)  # lint runs after every pass
        again = run_pipeline(once.graph, OPT, inst.ctx)
        assert not any(again.changed.values()), (src, inst.attr)
        assert set(once.graph) <= set(inst.graph)


def test_passes_do_work_on_the_food():
    """The generator does feed every pass (else the tests above would prove little)."""
    changed = {"cse": 0, "fold-identity": 0, "dead-block": 0}
    from nasdsl.codegen.generate import cifar_spec

    for seed in range(40):
        program = load_text(pass_food(random.Random(1000 + seed)), "food.nas")
        for inst in plan(program, cifar_spec(program)).cells:
            for name, c in run_pipeline(inst.graph, OPT, inst.ctx).changed.items():
                changed[name] += c
    assert all(v > 10 for v in changed.values()), changed


def test_cell_graph_is_untouched_by_the_pipeline():
    g = cell_graph(load_text(pass_food(random.Random(7)), "f.nas").cells["food_normal"])
    before = (dict(g.nodes(data="kind")), sorted(g.edges))
    run_pipeline(g, "dead-block")
    assert (dict(g.nodes(data="kind")), sorted(g.edges)) == before
