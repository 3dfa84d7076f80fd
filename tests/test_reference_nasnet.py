"""Exactness against the reference implementations, compared live: Cadene's NASNet-A Mobile/Large,
timm's PNASNet-5 Large (and timm's NASNet-A Large weights, held against Cadene's outputs).

Same parameter count to the unit (aux head off), weights moved over by `nasdsl convert-weights`, and
logits within 1e-4 in eval mode with every BN's statistics and affine terms moved off their defaults.
"""
from __future__ import annotations

import pytest
import torch
from references import require

import nasdsl
from nasdsl.cli.dispatch import main as cli
from nasdsl.testing import randomize_bn

pretrainedmodels = require("pretrainedmodels")
timm = require("timm")

TOL = 1e-4


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def converted(ref: torch.nn.Module, source: str, network: str, tmp_path) -> torch.nn.Module:
    """Our network loaded with `ref`'s weights through the convert-weights command."""
    src, out = tmp_path / f"{source}.pth", tmp_path / "ours.pt"
    torch.save(ref.state_dict(), src)
    assert cli(["convert-weights", "--from", source, str(src), "--network", network, "-o", str(out)]) == 0
    ours = nasdsl.compile(network, aux_head=False)
    ours.load_state_dict(torch.load(out, weights_only=True))
    return ours.eval()


def assert_same_logits(ref: torch.nn.Module, ours: torch.nn.Module, size: int) -> None:
    torch.manual_seed(0)
    x = torch.randn(1, 3, size, size)
    with torch.no_grad():
        a, b = ref.eval()(x), ours.eval()(x)
    assert a.shape == b.shape == (1, 1000)
    assert a.std() > 1e-2, "degenerate logits would make the comparison meaningless"
    assert (a - b).abs().max().item() < TOL


def test_nasnet_a_mobile_equals_cadene(tmp_path):
    ref = pretrainedmodels.nasnetamobile(num_classes=1000, pretrained=None)
    assert n_params(nasdsl.compile("nasnet_a_mobile", aux_head=False)) == n_params(ref)
    randomize_bn(ref, seed=1, classifier_gain=10.0)
    assert_same_logits(ref, converted(ref, "cadene", "nasnet_a_mobile", tmp_path), 224)


@pytest.mark.slow
def test_nasnet_a_large_equals_cadene_also_from_timm_weights(tmp_path):
    cadene = pretrainedmodels.nasnetalarge(num_classes=1000, pretrained=None)
    assert n_params(nasdsl.compile("nasnet_a_large", aux_head=False)) == n_params(cadene)
    theirs = timm.create_model("nasnetalarge", pretrained=False)
    randomize_bn(theirs, seed=1, classifier_gain=10.0)
    cadene.load_state_dict(theirs.state_dict())  # same names: hold timm's weights against Cadene's maths
    ours = converted(theirs, "timm", "nasnet_a_large", tmp_path)
    from_cadene = converted(cadene, "cadene", "nasnet_a_large", tmp_path)
    for k, v in from_cadene.state_dict().items():
        assert torch.equal(v, ours.state_dict()[k]), k
    assert_same_logits(cadene, ours, 331)


@pytest.mark.slow
def test_pnasnet5_large_equals_timm(tmp_path):
    ref = timm.create_model("pnasnet5large", pretrained=False)
    assert n_params(nasdsl.compile("pnasnet5_large", aux_head=False)) == n_params(ref)
    randomize_bn(ref, seed=1, classifier_gain=10.0)
    assert_same_logits(ref, converted(ref, "timm", "pnasnet5_large", tmp_path), 331)


def test_convert_weights_rejects_another_architecture(tmp_path, capsys):
    ref = pretrainedmodels.nasnetamobile(num_classes=1000, pretrained=None)
    src = tmp_path / "mobile.pth"
    torch.save(ref.state_dict(), src)
    code = cli(["convert-weights", "--from", "cadene", str(src), "--network", "pnasnet5_large",
                "-o", str(tmp_path / "x.pt")])
    assert code == 2
    assert "not the same architecture" in capsys.readouterr().err
    assert not (tmp_path / "x.pt").exists()


def test_convert_weights_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.pth"
    bad.write_text("not a checkpoint")
    assert cli(["convert-weights", "--from", "timm", str(bad), "--network", "nasnet_a_mobile",
                "-o", str(tmp_path / "x.pt")]) == 2
    assert "not a PyTorch state_dict" in capsys.readouterr().err
