"""Code generation: torch-only, deterministic, ruff-clean source; user text never becomes code."""
from __future__ import annotations

import ast as pyast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from references import require

import nasdsl
from nasdsl.cli.dispatch import main as cli
from nasdsl.codegen.generate import comment, generate_source
from nasdsl.errors import NasError

ROOT = Path(__file__).resolve().parents[1]


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_mobile_parameter_count_equals_cadene():
    pretrainedmodels = require("pretrainedmodels")
    ours = nasdsl.compile("nasnet_a_mobile", aux_head=False)
    ref = pretrainedmodels.nasnetamobile(num_classes=1000, pretrained=None)
    assert n_params(ours) == n_params(ref)


def test_source_is_deterministic_across_processes_and_torch_only():
    code = "from nasdsl.codegen.generate import generate_source; import sys; sys.stdout.write(generate_source('nasnet_a_mobile'))"
    outs = set()
    for seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        outs.add(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                check=True).stdout)
    assert len(outs) == 1
    src = outs.pop()
    assert src == generate_source("nasnet_a_mobile")
    imports = [ln for ln in src.splitlines() if ln.startswith(("import ", "from "))]
    assert imports == ["from __future__ import annotations", "import torch",
                       "import torch.nn.functional as F", "from torch import nn"]
    assert "nasdsl" not in "".join(ln.split("#")[0] for ln in src.splitlines()[8:])


@pytest.mark.parametrize("name", ["nasnet_a_mobile", "nasnet_a_cifar", "pnasnet5_large"])
def test_generated_source_passes_ruff(tmp_path, name):
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    out = tmp_path / "model.py"
    assert cli(["compile", name, "-o", str(out)]) == 0
    res = subprocess.run([ruff, "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(out)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    res = subprocess.run([ruff, "check", "--no-cache", "--isolated", "--select", "E,F,W,I,B,UP", "--ignore", "E501", str(out)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_statements_name_their_dsl_line():
    src = generate_source("nasnet_a_mobile")
    body = src[src.index("class NasnetANormal("):src.index("class NasnetAMobile(")]
    stmts = [ln for ln in body.splitlines() if " = self." in ln or ln.strip().startswith("return torch.cat")]
    assert stmts and all("# <zoo>/nasnet.nas:" in ln for ln in stmts)
    assert "self.comb_iter_0_left = SepConv(filters, filters, 5, 1, hw=hw, eps=eps)  # <zoo>/nasnet.nas:7" in src


def test_compile_command_writes_an_importable_file(tmp_path):
    out = tmp_path / "model.py"
    assert cli(["compile", "nasnet_a_cifar", "-o", str(out)]) == 0
    ns: dict = {}
    exec(compile(out.read_text(), str(out), "exec"), ns)
    net = ns["build"](num_classes=7, aux_head=False, drop_path_keep=1.0).eval()
    assert net(torch.randn(1, 3, 32, 32)).shape == (1, 7)
    assert cli(["compile", "nasnet_a_cifar", "-o", str(tmp_path / "model.txt")]) == 2
    assert cli(["compile", "no_such_network_anywhere"]) == 2


PAYLOADS = ["\nimport os; os._exit(3)\n", "\r__import__('os')._exit(3)", "\u2028raise SystemExit(3)",
            "\u2029x = 1", "\x0bfoo", "\x0c\x1c\x1d\x1e\x85bar", '"""', "\\", "\x00"]


def test_comment_escaping():
    for p in PAYLOADS:
        text = comment(p)
        assert all(" " <= ch <= "~" for ch in text)
        assert "\n" not in text and "\r" not in text


def _assert_inert(src: str, baseline: str) -> None:
    """Only printable ASCII and newlines, and no statement beyond those of a clean file."""
    assert all(ch == "\n" or " " <= ch <= "~" for ch in src)

    def shape(text: str) -> list[str]:
        return [type(n).__name__ for n in pyast.walk(pyast.parse(text))]

    assert shape(src) == shape(baseline)


CELL = ("cell evil_cell : normal {{  # {c}\n    b0 = sep3x3(h0) + id(h1)  # {c}\n"
        "    b1 = avg3x3(b0) + max3x3(h1)\n    out = concat(unused)\n}}\n")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_through_file_names_and_comments_fails(tmp_path, payload):
    baseline_path = tmp_path / "clean.nas"
    baseline_path.write_text(CELL.format(c="clean"))
    baseline = generate_source(baseline_path)
    name = "x" + payload.replace("/", "_").replace("\x00", "") + ".nas"
    path = tmp_path / name
    try:
        path.write_text(CELL.format(c="clean"))
    except (OSError, ValueError):
        pytest.skip("the file system refuses this name")
    src = generate_source(path)
    _assert_inert(src, baseline)
    assert comment(str(path)) in src
    model = nasdsl.compile(path, overrides={"n": 1, "filters": 4})
    assert model.eval()(torch.randn(1, 3, 32, 32)).shape == (1, 10)
    # the same payloads inside DSL comments: either the front end refuses the text, or nothing leaks
    text = CELL.format(c=payload)
    try:
        src = generate_source(text)
    except NasError:
        return
    _assert_inert(src, generate_source(CELL.format(c="clean")))


def test_names_that_shadow_python_or_runtime_are_harmless():
    text = ("cell conv_bn : normal { b0 = sep3x3(h0) + id(h1)  out = concat(unused) }\n"
            "cell torch : reduction { b0 = max3x3(h0) + sep5x5(h1)  out = concat(unused) }\n"
            "network build { normal = conv_bn  reduction = torch  cells = 1  filters = 4  aux_head = false }\n")
    src = generate_source(text)
    classes = [ln.split("(")[0][6:] for ln in src.splitlines() if ln.startswith("class ")]
    assert len(classes) == len(set(classes)) and classes.count("ConvBn") == 1
    assert "Torch" in classes and any(c.startswith("ConvBn") and c != "ConvBn" for c in classes)
    assert "class Build(nn.Module)" in src and "\ndef build(" in src
    assert nasdsl.compile(text).eval()(torch.randn(1, 3, 32, 32)).shape == (1, 10)


@pytest.mark.parametrize("override, problem", [
    ({"n": 0}, "n=0: expected a positive integer"),
    ({"n": 33}, "n=33: value 33 is out of range"),
    ({"filters": 2.5}, "filters=2.5: expected a positive integer"),
    ({"image": True}, "image=True: expected a positive integer"),
    ({"stem_multiplier": 0}, r"stem_multiplier=0: value 0 is out of range; expected \(0, 16\]"),
    ({"aux_head": 1}, "aux_head=1: expected true or false"),
    ({"stem": "tiny"}, "stem='tiny': expected one of cifar, imagenet"),
])
def test_api_overrides_keep_the_dsl_keys_types_and_bounds(override, problem):
    """The in-memory API's overrides pass the checks `check` applies to the same keys (n=0 raised
    IndexError deep in the skeleton; filters=2.5 built a network)."""
    with pytest.raises(NasError, match=f"network nasnet_a_cifar: override {problem}"):
        generate_source("nasnet_a_cifar", overrides=override)


def test_api_overrides_take_numpy_numbers():
    import numpy as np
    src = generate_source("nasnet_a_cifar", overrides={"n": np.int64(1), "filters": np.int32(8),
                                                       "drop_path_keep": np.float32(0.5)})
    assert src == generate_source("nasnet_a_cifar", overrides={"n": 1, "filters": 8, "drop_path_keep": 0.5})


def test_impossible_shapes_are_errors_before_building():
    with pytest.raises(NasError, match="smaller than the 3x3 stem conv"):
        generate_source("nasnet_a_mobile", overrides={"image": 2})
    with pytest.raises(NasError, match="aux head"):
        generate_source("nasnet_a_mobile", overrides={"image": 32})
    with pytest.raises(NasError, match="filters"):
        generate_source("nasnet_a_mobile", overrides={"filters": 2, "aux_head": False})
    with pytest.raises(NasError, match="override"):
        generate_source("nasnet_a_mobile", overrides={"nope": 1})
    with pytest.raises(NasError, match="no network"):
        generate_source("nasnet_a_mobile", network="nasnet_a_tiny")
