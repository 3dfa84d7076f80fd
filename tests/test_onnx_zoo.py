"""Every zoo network exports to ONNX and verifies against PyTorch; the export/infer CLI end to end
on a zoo network and on a user's own .nas file."""
from __future__ import annotations

import json

import onnx
import pytest
from onnx_helpers import run_blocked, write_images

from nasdsl.cli.dispatch import main
from nasdsl.deploy.export import export_onnx, prepare, verify
from nasdsl.errors import NasError
from nasdsl.lang import ast
from nasdsl.lang.load import load, zoo_index


def _zoo_networks() -> list[tuple[str, str]]:
    """(network name, stem) of every network in the zoo."""
    nets = []
    for name in sorted(zoo_index()):
        program = load(name)
        if isinstance(program.networks.get(name), ast.Network):
            nets.append((name, program.network_spec(name).stem))
    return nets


ZOO = _zoo_networks()
SMALL = {"imagenet": 64, "cifar": 32}  # small inputs keep the test quick; shapes stay valid


def test_zoo_has_networks():
    assert {"nasnet_a_mobile", "nasnet_a_large", "nasnet_a_cifar"} <= {n for n, _ in ZOO}


@pytest.mark.slow
@pytest.mark.parametrize(("name", "stem"), ZOO, ids=[n for n, _ in ZOO])
def test_zoo_network_exports_and_verifies(tmp_path, name, stem):
    module, card = prepare(name, image=SMALL[stem])
    path = export_onnx(module, card, tmp_path / f"{name}.onnx")
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["nasdsl.network"] == name and f"network {name}" in props["nasdsl.source"]
    result = verify(module, path)
    assert result.max_abs_diff <= 1e-4, result.summary()
    assert result.top1_agreement == 1.0


def test_export_and_infer_cli_on_a_user_file(tmp_path, capsys):
    """A user's own cell transferred to the CIFAR skeleton: export --verify, then infer."""
    nas = tmp_path / "mine.nas"
    nas.write_text(
        "cell tiny_cell : normal {\n"
        "    b0 = sep3x3(h0) + id(h1)\n"
        "    b1 = avg3x3(h0) + max3x3(b0)\n"
        "    out = concat(unused)\n"
        "}\n"
        "network tiny_net {\n"
        "    normal = tiny_cell\n"
        "    stem = cifar\n"
        "    cells = 1\n"
        "    filters = 8\n"
        "    image = 32\n"
        "    classes = 10\n"
        "}\n")
    out = tmp_path / "tiny.onnx"
    assert main(["export", str(nas), "-o", str(out), "--verify"]) == 0
    printed = capsys.readouterr().out
    assert "wrote" in printed and "-> ok" in printed and "top-1 agreement 100%" in printed
    props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert props["nasdsl.source"] == nas.read_text() and props["nasdsl.labels"].startswith('["airplane"')
    images = write_images(tmp_path)
    r = run_blocked(["torch", "onnx", "onnxscript"], ["infer", str(out), str(images["rgb.jpg"]), "--top", "2"])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].endswith("rgb.jpg:") and len(lines) == 3
    labels = json.loads(props["nasdsl.labels"])
    assert all(line.split()[1] in labels for line in lines[1:]), lines  # probability, a class of the card, [index]


def test_export_cli_errors(tmp_path, capsys):
    def error(argv) -> str:
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert "Traceback" not in err and len(err.splitlines()) == 1, err
        return err

    out = str(tmp_path / "m.onnx")
    assert "no network 'nasnet_a_mobil'" in error(["export", "nasnet", "--network", "nasnet_a_mobil", "-o", out])
    assert "not a file and not a zoo entry" in error(["export", "no_such_net", "-o", out])
    err = error(["export", "nasnet_a_mobile", "--image", "2", "-o", out])
    assert "image 2 is smaller" in err or "cannot take a 2x2 input" in err
    assert "no such weights file" in error(["export", "nasnet_a_cifar", "--weights", str(tmp_path / "w.pt"),
                                            "-o", out])
    assert "opset 16 is too old" in error(["export", "nasnet_a_cifar", "--opset", "16", "-o", out])


def test_prepare_reads_the_network_spec():
    with pytest.raises(NasError, match=r"image size and classes must be positive \(got 224, 0\)"):
        prepare("nasnet_a_mobile", classes=0)
