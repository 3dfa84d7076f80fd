"""The decision encoding and the .nas text the controller emits."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasdsl.errors import NasError
from nasdsl.ir.cost import cost
from nasdsl.lang.load import load, load_text
from nasdsl.lang.spec import SpaceSpec
from nasdsl_search.best import best_nas
from nasdsl_search.space import ProxyNet, concat_count, load_space, space_from_spec, to_nas

SPACE = load_space("nasnet")


def test_nasnet_space_is_two_times_five_b_decisions():
    assert SPACE.blocks == 5 and len(SPACE.ops) == 13 and SPACE.combine == ("add", "concat")
    assert len(SPACE.decisions) == 2 * 5 * 5
    # block b reads h0, h1 or an earlier block: 2 + b choices for each input
    normal = [d for d in SPACE.decisions if d.cell == "normal"]
    assert [d.choices for d in normal if d.kind == "input"] == [2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
    assert {d.choices for d in SPACE.decisions if d.kind == "op"} == {13}


def test_text_of_known_decisions():
    # block 0 = sep5x5(h0) + sep3x3(h1); block 1 = concat(id(b0), avg3x3(h1)); the rest id(h0) + id(h0)
    ops = SPACE.ops
    block0 = [0, 1, ops.index("sep5x5"), ops.index("sep3x3"), 0]
    block1 = [2, 1, ops.index("id"), ops.index("avg3x3"), 1]
    rest = [0, 0, 0, 0, 0] * 3
    decisions = (block0 + block1 + rest) * 2
    text = to_nas(SPACE, decisions)
    assert "    b0 = sep5x5(h0) + sep3x3(h1)\n" in text
    assert "    b1 = concat(id(b0), avg3x3(h1))\n" in text
    assert "cell reduce_cell : reduction {" in text and "out = concat(unused)" in text
    program = load_text(text, "<sampled>")
    assert set(program.cells) == {"normal_cell", "reduce_cell"}
    # unused: h1 is read, h0 is read; b0 is read by b1; b1..b4 unused
    assert concat_count(SPACE, decisions, "normal") == 4


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False))
def test_every_sampled_architecture_is_valid_text(rng: random.Random):
    decisions = tuple(rng.randrange(n) for n in SPACE.sizes)
    text = to_nas(SPACE, decisions, ProxyNet(cells=1, filters=8, image=8))
    program = load_text(text, "<sampled>")
    spec = program.network_spec("proxy")
    assert (spec.n, spec.filters, spec.image, spec.stem) == (1, 8, 8, "cifar")


def test_decisions_out_of_range_are_refused():
    with pytest.raises(ValueError):
        to_nas(SPACE, [0] * 49)
    with pytest.raises(ValueError):
        to_nas(SPACE, [0, 2] + [0] * 48)  # block 0 has only h0 and h1


def test_best_nas_transfers_to_mobile_and_large():
    rng = random.Random(3)
    decisions = tuple(rng.randrange(n) for n in SPACE.sizes)
    text = best_nas(SPACE, decisions, ProxyNet(), header="# best")
    program = load_text(text, "best.nas")
    k = concat_count(SPACE, decisions, "normal")
    mobile, large = program.network_spec("best_mobile"), program.network_spec("best_large")
    assert (mobile.n, mobile.penultimate, mobile.filters, mobile.image, mobile.stem) == (4, 176 * k, 44, 224, "imagenet")
    assert (large.n, large.penultimate, large.filters, large.image) == (6, 672 * k, 168, 331)
    assert large.skip_reduction_input and large.stem_multiplier == 3
    assert cost(program, network="best_mobile").params > cost(program, network="best_proxy").params


def test_a_small_space_from_a_file(tmp_path):
    f = tmp_path / "mine.nas"
    f.write_text("space tiny { blocks = 2  ops = id, sep3x3  combine = add  inputs = 2 }\n")
    space = load_space(str(f))
    assert space.sizes == (2, 2, 2, 2, 1, 3, 3, 2, 2, 1) * 2
    text = to_nas(space, [1, 1, 1, 1, 0, 2, 2, 1, 1, 0] * 2)
    assert "b1 = sep3x3(b0) + sep3x3(b0)" in text
    load_text(text, "<t>")
    with pytest.raises(NasError, match="no space named"):
        load_space(f"{f}:other")


@pytest.mark.parametrize("name", ["nasnet", "darts"])
def test_a_space_gives_back_the_block_it_came_from(name):
    assert load_space(name).spec == load(name).space_spec(name)  # what the supernet compiler reads


def test_empty_space_is_an_error():
    with pytest.raises(NasError):
        space_from_spec(SpaceSpec("x", 0, ("id",), ("add",), 2, "unused"))


DARTS = load_space("darts")


def test_darts_space_trains_children_on_the_darts_skeleton():
    assert (DARTS.skeleton, DARTS.blocks, DARTS.output, len(DARTS.ops)) == ("darts", 4, "blocks", 8)
    assert DARTS.sizes[:5] == (2, 2, 8, 8, 1) and len(DARTS.sizes) == 2 * 4 * 5
    rng = random.Random(5)
    for _ in range(20):
        decisions = tuple(rng.randrange(n) for n in DARTS.sizes)
        program = load_text(to_nas(DARTS, decisions, ProxyNet(cells=1, filters=8, image=8)), "<sampled>")
        spec = program.network_spec("proxy")
        assert (spec.skeleton, spec.stem, spec.n, spec.filters) == ("darts", "cifar", 1, 8)
        assert cost(program, network="proxy").params > 0


def test_best_nas_of_the_darts_space_transfers_to_the_darts_presets():
    decisions = tuple(random.Random(8).randrange(n) for n in DARTS.sizes)
    program = load_text(best_nas(DARTS, decisions, ProxyNet()), "best.nas")
    assert set(program.networks) == {"best_proxy", "best_cifar", "best_imagenet"}
    cifar, imagenet = program.network_spec("best_cifar"), program.network_spec("best_imagenet")
    assert (cifar.skeleton, cifar.n, cifar.filters, cifar.image, cifar.stem_multiplier) == ("darts", 6, 36, 32, 3)
    assert (imagenet.skeleton, imagenet.stem, imagenet.n, imagenet.filters, imagenet.image) == (
        "darts", "imagenet", 4, 48, 224)
    # the published DARTS V2 cells in the same presets give the zoo's networks
    zoo = load("darts_v2_cifar").network_spec("darts_v2_cifar")
    assert (zoo.n, zoo.filters, zoo.stem_multiplier, zoo.bn_eps, zoo.drop_path_keep) == (
        cifar.n, cifar.filters, cifar.stem_multiplier, cifar.bn_eps, cifar.drop_path_keep)
    assert cost(program, network="best_imagenet").params > cost(program, network="best_proxy").params
