"""`nasdsl train`: a compiled network trained on digits with its aux head and ScheduledDropPath,
saved as weights that `nasdsl export --weights` takes."""
from __future__ import annotations

import re
import time

import pytest
import torch

import nasdsl
from nasdsl.cli.dispatch import main

NAS = """
import nasnet_a_normal
import nasnet_a_reduce

network small {
    normal = nasnet_a_normal
    reduction = nasnet_a_reduce
    cells = 1
    filters = 8
    stem_multiplier = 1
    aux_head = true
    drop_path_keep = 0.8
}
"""


@pytest.mark.slow
def test_train_then_export_the_weights(tmp_path, capsys):
    src = tmp_path / "small.nas"
    src.write_text(NAS)
    weights = tmp_path / "small.pt"
    args = ["train", str(src), "--dataset", "digits", "--epochs", "4", "--batch-size", "32", "--train-size", "600",
            "--val-size", "300", "--threads", "1", "-o", str(weights)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "aux head on" in out and "drop path keep 0.8" in out and "epoch 4/4" in out  # the network's own
    acc = float(re.search(r"held-out accuracy (\d\.\d+)", out).group(1))
    assert acc > 0.3  # chance is 0.1
    saved = torch.load(weights, weights_only=True)
    assert saved["card"]["labels"] == [str(d) for d in range(10)] and saved["card"]["image"] == 16
    state = saved["state_dict"]
    assert any(k.startswith("aux_head.") for k in state)  # trained with the aux head
    model = nasdsl.compile(src, overrides={"image": 16, "classes": 10})
    model.load_state_dict(state)
    trained_bn = [m.running_mean.abs().sum().item() for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(v > 0 for v in trained_bn)
    command = re.search(r"export it with\s+nasdsl (export .*)", out).group(1).split()
    onnx_path = tmp_path / "small.onnx"
    command[command.index("model.onnx")] = str(onnx_path)
    assert main([*command, "--verify"]) == 0
    assert onnx_path.is_file()
    assert "top-1 agreement" in capsys.readouterr().out


@pytest.mark.parametrize("declared, flag, said", [("false", [], "aux head off"), ("", [], "aux head on"),
                                                  ("true", ["--no-aux-head"], "aux head off")])
def test_the_networks_own_aux_head_setting_wins_over_the_recipe(tmp_path, capsys, declared, flag, said):
    """The cifar recipe trains with an aux head unless the network says `aux_head = false` (or
    --no-aux-head); a network that does not say trains as the recipe does."""
    src = tmp_path / "small.nas"
    src.write_text(NAS.replace("aux_head = true", f"aux_head = {declared}" if declared else ""))
    weights = tmp_path / "small.pt"
    assert main(["train", str(src), "--epochs", "1", "--train-size", "64", "--val-size", "32", "--threads", "1",
                 *flag, "-o", str(weights)]) == 0
    assert said in capsys.readouterr().out
    has_aux = any(k.startswith("aux_head.") for k in torch.load(weights, weights_only=True)["state_dict"])
    assert has_aux == (said == "aux head on")


def test_train_errors(tmp_path, capsys):
    out = str(tmp_path / "w.pt")
    assert main(["train", "nasnet_a_cifar", "--epochs", "0", "-o", out]) == 2
    assert main(["train", "nasnet_a_cifar", "-o", str(tmp_path / "missing" / "w.pt")]) == 2
    assert main(["train", "nasnet_a_cifar", "--dataset", "cifar10:/no/such/folder", "-o", out]) == 2
    err = capsys.readouterr().err
    assert "--epochs must be at least 1" in err and "no such folder" in err and "Traceback" not in err


@pytest.mark.parametrize("args, message", [
    (["-o", "{tmp}"], "is a folder; -o names the weights file"),
    (["--image", "100000", "-o", "{tmp}/w.pt"], "--image must be at most 1024"),
    (["--image", "0", "-o", "{tmp}/w.pt"], "--image must be at least 1"),
    ([], "say where to save"),
    (["--resume", "-o", "{tmp}/w.pt"], "--resume needs --out DIR"),
    (["--resume", "--out", "{tmp}"], "holds no checkpoint.pt"),
    (["--out", "{tmp}/w.pt"], "is a file, not a folder"),
    (["--device", "gpu", "-o", "{tmp}/w.pt"], "--device must be"),
    (["--recipe", "nasnet-imagenet", "--label-smoothing", "1.5", "-o", "{tmp}/w.pt"], "--label-smoothing must be in [0, 1), got 1.5"),
    (["--nproc", "2", "--batch-size", "63", "-o", "{tmp}/w.pt"], "multiple of the 2 processes"),
    (["--grad-clip", "-1", "-o", "{tmp}/w.pt"], "--grad-clip must be at least 0, got -1"),
    (["--grad-clip", "inf", "-o", "{tmp}/w.pt"], "--grad-clip must be a finite number, got inf"),
    (["--optimizer", "rmsprop", "--rmsprop-decay", "2", "-o", "{tmp}/w.pt"], "--rmsprop-decay must be at most 1"),
    (["--optimizer", "rmsprop", "--rmsprop-eps", "nan", "-o", "{tmp}/w.pt"], "--rmsprop-eps must be a finite number"),
    (["--optimizer", "rmsprop", "--rmsprop-eps", "0", "-o", "{tmp}/w.pt"], "--rmsprop-eps must be greater than 0"),
    (["--split-seed", "-1", "-o", "{tmp}/w.pt"], "--split-seed must be at least 0, got -1"),
    (["--out", "{tmp}/search-run"], "holds a search run (its trials.sqlite); choose another folder"),
])
def test_outputs_and_values_are_checked_before_training(tmp_path, capsys, args, message):
    (tmp_path / "w.pt").write_bytes(b"x")
    (tmp_path / "search-run").mkdir()
    (tmp_path / "search-run" / "trials.sqlite").write_bytes(b"")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    start = time.perf_counter()
    assert main(["train", "nasnet_a_cifar", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) <= 2
    assert time.perf_counter() - start < 30  # refused up front, not after training


def test_nproc_relaunches_the_same_command_line():
    """--nproc K runs torchrun on the command line it was given, less --nproc."""
    import argparse

    from nasdsl_search import train_cli

    parser = argparse.ArgumentParser()
    train_cli.configure(parser)
    full = ["best.nas", "--network", "best_mobile", "--dataset", "imagefolder:/d", "--recipe", "nasnet-imagenet",
            "--lr", "0.02", "--no-aux-head", "--no-channels-last", "--amp", "--nproc", "4", "--out", "run"]
    dashed = ["--nproc", "2", "-o", "w.pt", "--", "-x.nas"]  # a file named like a flag
    for argv, target in ((full, "best.nas"), (dashed, "-x.nas")):
        rebuilt = train_cli._argv_without_nproc(parser.parse_args(argv))
        assert "--nproc" not in rebuilt and rebuilt[-2:] == ["--", target]
        again = parser.parse_args(rebuilt)
        assert {**vars(again), "nproc": int(argv[argv.index("--nproc") + 1])} == vars(parser.parse_args(argv))



def test_a_reader_that_goes_away_silences_training_and_does_not_stop_it(tmp_path):
    """`nasdsl train ... | head -1`: the training goes on to its weights and exits 0 (it used to
    stop at its next line, exit 0, with nothing written); what it says after goes nowhere."""
    from proc_helpers import cli

    src, weights = tmp_path / "small.nas", tmp_path / "w.pt"
    src.write_text(NAS)
    p = cli("train", str(src), "--dataset", "digits", "--epochs", "2", "--batch-size", "32", "--train-size", "64",
            "--val-size", "32", "--threads", "1", "-o", str(weights))
    assert p.stdout.readline().startswith("training small")
    p.stdout.close()  # the reader is gone
    err = p.stderr.read()
    assert p.wait(timeout=300) == 0, err
    assert "Traceback" not in err and "Broken pipe" not in err, err
    assert torch.load(weights, weights_only=True)["card"]["image"] == 16


def _npz(path, n=64):
    import numpy as np

    rng = np.random.default_rng(0)
    np.savez(path, x=rng.integers(0, 255, (n, 16, 16, 3), dtype=np.uint8), y=np.arange(n) % 2)
    return path


@pytest.mark.parametrize("where", ["-o the npz", "-o in the image folder", "--out in the image folder"])
def test_outputs_never_land_on_the_data_set(tmp_path, capsys, where):
    """-o the data set's own file, or -o/--out inside its folder: one line, exit 2, the data
    untouched (-o d.npz made the .npz a torch file; -o into a class folder overwrote an image)."""
    from PIL import Image

    src = tmp_path / "small.nas"
    src.write_text(NAS)
    if where == "-o the npz":
        data = _npz(tmp_path / "d.npz")
        spec, out = f"npz:{data}", ["-o", str(data)]
    else:
        (tmp_path / "pics" / "a").mkdir(parents=True)
        (tmp_path / "pics" / "b").mkdir()
        for i in range(4):
            Image.new("RGB", (16, 16), (i * 40, 0, 0)).save(tmp_path / "pics" / ("a", "b")[i % 2] / f"{i}.png")
        data = tmp_path / "pics" / "a" / "0.png"
        spec = f"imagefolder:{tmp_path / 'pics'}"
        out = ["-o", str(data)] if where.startswith("-o") else ["--out", str(tmp_path / "pics" / "run")]
    before = data.read_bytes()
    assert main(["train", str(src), "--dataset", spec, "--epochs", "1", *out]) == 2
    err = capsys.readouterr().err
    assert "or inside it; choose another output" in err and len(err.strip().splitlines()) == 1, err
    assert data.read_bytes() == before and not (tmp_path / "pics" / "run").exists()


def test_a_batch_that_makes_no_training_step_is_refused(tmp_path, capsys):
    """Batches of one image are skipped (batch norm): --batch-size 1 used to train 0 steps and
    exit 0 with untrained weights (and every search child was 'done')."""
    src = tmp_path / "small.nas"
    src.write_text(NAS)
    args = ["--dataset", "digits", "--train-size", "64", "--val-size", "32", "--epochs", "1", "--batch-size", "1"]
    assert main(["train", str(src), *args, "-o", str(tmp_path / "w.pt")]) == 2
    assert main(["search", *args, "--trials", "2", "--quiet", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("--batch-size 1 makes no training step of the 64 training images" in e for e in err)
    assert not (tmp_path / "w.pt").exists() and not (tmp_path / "run").exists()


def test_a_diverged_training_is_one_line(tmp_path, capsys):
    """A NaN loss is the settings' doing, not an internal error (exit 3 before)."""
    src = tmp_path / "tiny.nas"  # 4,196 parameters: lr 1000 unclipped takes it to NaN within an epoch
    src.write_text(NAS.replace("cells = 1\n    filters = 8", "cells = 1 @ 24"))
    code = main(["train", str(src), "--dataset", "digits", "--train-size", "64", "--val-size", "32", "--epochs", "1",
                 "--batch-size", "8", "--lr", "1000", "--grad-clip", "0", "--no-aux-head", "--threads", "1",
                 "-o", str(tmp_path / "w.pt")])
    err = capsys.readouterr().err
    assert code == 2 and "the training diverged: " in err and "try a lower --lr" in err, err


def test_weights_are_written_through_a_link_and_into_a_fifo_never_over_them(tmp_path):
    """-o is written with a temporary file and a rename: a link was replaced by a file (its target
    left as it was), and /dev/null by a regular file, for every process of the machine."""
    import os
    import stat
    import threading

    from nasdsl_search.train_cli import _save

    real, link = tmp_path / "real.pt", tmp_path / "link.pt"
    real.write_bytes(b"old")
    link.symlink_to(real)
    _save({"w": torch.ones(2)}, link)
    assert link.is_symlink() and torch.load(real, weights_only=True)["w"].tolist() == [1.0, 1.0]
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    _save({"w": torch.zeros(1)}, fifo)
    reader.join(10)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and len(got) == 1 and len(got[0]) > 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.pt", "pipe", "real.pt"]  # no .tmp left
