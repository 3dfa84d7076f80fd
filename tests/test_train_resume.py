"""`nasdsl train --out DIR` killed with SIGKILL mid-run, then `--resume --out DIR`: it continues
from the last checkpoint and ends with bitwise the weights of an uninterrupted run (CPU, fixed seed).
--resume trains the network the run started with: an edited one is refused, and a relative path
resolves where the run started, from any folder."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from proc_helpers import cli as nasdsl
from proc_helpers import kill_group_when

from nasdsl.cli.dispatch import main
from tests.test_train_cli import NAS

EPOCHS = 4
ARGS = ["--dataset", "digits", "--epochs", str(EPOCHS), "--batch-size", "32", "--train-size", "128",
        "--val-size", "64", "--threads", "1", "--device", "cpu", "--seed", "3"]


def checkpoint_epoch(folder: Path) -> int:
    path = folder / "checkpoint.pt"
    if not path.exists():
        return 0
    return torch.load(path, weights_only=True)["trainer"]["epoch"]


@pytest.mark.slow
def test_kill_minus_nine_then_resume_ends_with_the_uninterrupted_weights(tmp_path):
    src = tmp_path / "small.nas"
    src.write_text(NAS)
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    ref = nasdsl("train", str(src), *ARGS, "--out", str(whole))
    p = nasdsl("train", str(src), *ARGS, "--out", str(broken))
    kill_group_when(p, lambda: checkpoint_epoch(broken) >= 1, 300, "the first checkpoint", poll=0.1)
    killed_at = checkpoint_epoch(broken)
    assert 1 <= killed_at < EPOCHS and not (broken / "weights.pt").exists()
    out, err = ref.communicate(timeout=600)
    assert ref.returncode == 0, err
    r = nasdsl("train", "--resume", "--out", str(broken), "--threads", "1", "--device", "cpu")
    rout, rerr = r.communicate(timeout=600)
    assert r.returncode == 0, rerr
    assert f"resuming {broken} after epoch {killed_at}/{EPOCHS}" in rout
    assert f"epoch {killed_at + 1}/{EPOCHS}" in rout and f"epoch {killed_at}/{EPOCHS} " not in rout
    a = torch.load(whole / "weights.pt", weights_only=True)
    b = torch.load(broken / "weights.pt", weights_only=True)
    assert a["state_dict"].keys() == b["state_dict"].keys()
    assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])
    assert a["top1"] == b["top1"] and a["card"] == b["card"]
    # one log line per epoch, whether or not the run was interrupted (the killed epoch is redone)
    logs = [json.loads(line) for line in (broken / "log.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in logs] == list(range(1, EPOCHS + 1))
    # the training loss, as printed, and the held-out one beside it (which used to write over it)
    printed = float(re.search(r"epoch 1/\d+  loss ([0-9.]+)", out).group(1))
    assert abs(logs[0]["loss"] - printed) < 1e-4 and "val_loss" in logs[0] and logs[0]["val_loss"] != logs[0]["loss"]
    best = torch.load(broken / "best.pt", weights_only=True)
    assert best["top1"] == max(e["top1"] for e in logs)
    # a resumed run refuses new settings: they would not be the run it continues
    again = nasdsl("train", "--resume", "--out", str(broken), "--epochs", "9")
    _, again_err = again.communicate(timeout=120)
    assert again.returncode == 2 and "drop --epochs" in again_err
    again = nasdsl("train", "--resume", "--out", str(broken), "--momentum", "0", "--seed", "0")  # 0 == False
    _, again_err = again.communicate(timeout=120)
    assert again.returncode == 2 and "--momentum" in again_err and "--seed" in again_err, again_err


QUICK = ["--dataset", "digits", "--epochs", "1", "--batch-size", "32", "--train-size", "64", "--val-size", "32",
         "--threads", "1", "--device", "cpu"]


def _resume(run: Path, capsys) -> tuple[int, str, str]:
    code = main(["train", "--resume", "--out", str(run), "--threads", "1"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("edit", [("filters = 8", "filters = 12"),  # was exit 3: a state_dict that does not fit
                                  ("stem_multiplier = 1", "stem_multiplier = 1\n    bn_eps = 0.01")],  # was exit 0
                         ids=["shapes", "same-shapes"])
def test_resume_refuses_a_network_edited_since_the_start(tmp_path, capsys, edit):
    src = tmp_path / "small.nas"
    src.write_text(NAS)
    run = tmp_path / "run"
    assert main(["train", str(src), *QUICK, "--out", str(run)]) == 0
    src.write_text("# a comment and layout are no change\n" + NAS.replace("    ", "  "))
    code, out, err = _resume(run, capsys)
    assert code == 0 and "resuming" in out, err
    src.write_text(NAS.replace(*edit))
    code, _, err = _resume(run, capsys)
    assert code == 2 and err.strip() == (f"nasdsl train: error: {src} changed since this training started "
                                         "(network small differs); restore it, or train into a new --out"), err


def test_resume_finds_a_relative_path_from_another_folder_and_takes_old_checkpoints(tmp_path, capsys, monkeypatch):
    (tmp_path / "small.nas").write_text(NAS)
    run = tmp_path / "run"
    monkeypatch.chdir(tmp_path)
    assert main(["train", "small.nas", *QUICK, "--out", "run"]) == 0
    monkeypatch.chdir(tmp_path.parent)
    code, out, err = _resume(run, capsys)
    assert code == 0 and "resuming" in out, err
    # a checkpoint of an earlier nasdsl: its path as typed, no definition of the network
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    del state["definition"]
    state["settings"]["target"] = "small.nas"
    torch.save(state, run / "checkpoint.pt")
    monkeypatch.chdir(tmp_path)
    code, out, err = _resume(run, capsys)
    assert code == 0 and "resuming" in out, err


def test_resume_keeps_the_recipe_and_regularization_the_run_started_with(tmp_path, capsys, monkeypatch):
    """A later nasdsl that changes a recipe (the nasnet-imagenet lr went from 0.008 to 0.16) or whose
    values win (a network's own drop path over the cifar recipe's) must not change a run on --resume:
    the checkpoint keeps what the defaults made of its settings. A checkpoint from before it kept
    them resumes with its trainer's config and the old rule."""
    from dataclasses import replace

    from nasdsl_search import train_cli
    from nasdsl_search.recipes import RECIPES

    src = tmp_path / "small.nas"
    src.write_text(NAS)  # declares drop_path_keep = 0.8
    run = tmp_path / "run"
    assert main(["train", str(src), *QUICK, "--out", str(run)]) == 0
    assert "drop path keep 0.8" in capsys.readouterr().out
    cifar = RECIPES["cifar"]
    monkeypatch.setitem(train_cli.RECIPES, "cifar", replace(cifar, train=replace(cifar.train, lr=0.5),
                                                            network={**cifar.network, "aux_head": False}))
    code, out, err = _resume(run, capsys)
    assert code == 0 and "aux head on, drop path keep 0.8" in out and "lr 0.05," in out, (out, err)
    state = torch.load(run / "checkpoint.pt", weights_only=True)  # as an earlier nasdsl wrote it
    del state["settings"]["resolved"]
    state["trainer"]["config"]["lr"] = 0.008
    torch.save(state, run / "checkpoint.pt")
    monkeypatch.setitem(train_cli.RECIPES, "cifar", cifar)
    code, out, err = _resume(run, capsys)
    assert code == 0 and "drop path keep 0.6" in out and "lr 0.008," in out, (out, err)


def test_resume_finds_a_relative_data_set_from_another_folder(tmp_path, capsys, monkeypatch):
    """--dataset npz:d.npz is kept absolute: --resume from another folder opens the same file (it
    looked for d.npz where it was run: 'no such file', or other data of the same name)."""
    import numpy as np

    (tmp_path / "small.nas").write_text(NAS)
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.integers(0, 255, (96, 16, 16, 3), dtype=np.uint8), y=np.arange(96) % 3)
    monkeypatch.chdir(tmp_path)
    quick = [a if a != "digits" else "npz:d.npz" for a in QUICK]
    assert main(["train", "small.nas", *quick, "--no-aux-head", "--workers", "0", "--out", "run"]) == 0
    settings = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["settings"]
    assert settings["dataset"] == f"npz:{tmp_path / 'd.npz'}" and settings["loader_workers"] == 0
    monkeypatch.chdir(tmp_path.parent)
    code, out, err = _resume(tmp_path / "run", capsys)
    assert code == 0 and "resuming" in out, err


def test_resume_keeps_the_runs_loader_workers_unless_told(tmp_path, capsys):
    """A streamed set's augmentations are seeded by worker index, so --resume keeps the run's
    --workers (it took the default, 4, whatever the run had: not bitwise); a given one wins."""
    (tmp_path / "small.nas").write_text(NAS)
    run = tmp_path / "run"
    assert main(["train", str(tmp_path / "small.nas"), *QUICK, "--workers", "1", "--out", str(run)]) == 0
    assert _resume(run, capsys)[0] == 0
    assert torch.load(run / "checkpoint.pt", weights_only=True)["settings"]["loader_workers"] == 1
    import argparse

    from nasdsl_search.train_cli import _settings, configure

    parser = argparse.ArgumentParser()
    configure(parser)
    saved = torch.load(run / "checkpoint.pt", weights_only=True)
    assert _settings(parser.parse_args(["--resume", "--out", str(run)]), saved)["loader_workers"] == 1
    assert _settings(parser.parse_args(["--resume", "--out", str(run), "--workers", "0"]), saved)["loader_workers"] == 0
