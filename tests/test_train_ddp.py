"""Distributed data parallel on the CPU with gloo, 2 real processes.

- Trainer level: every rank ends with identical weights, and they match a single-process run with
  the same global batch to float rounding (1e-5) on a network without batch norm, on both data
  paths. That tolerance is only summation order: each rank's mean over its half of a global batch,
  averaged by the all-reduce, is the single process's mean over the whole batch.
- `nasdsl train --nproc 2` on a compiled NASNet: rank 0 alone writes, the ranks hold identical
  weights (the CLI measures and prints the largest difference: 0), the first epoch's training loss
  is within 2% of the single-process one (batch norm normalizes over each rank's 16 images
  instead of 32, and drop-path masks come from each rank's RNG: the rest is the same computation),
  and a killed DDP run resumed with --resume ends bitwise where an uninterrupted DDP run ends.
- The launcher takes torchrun and the ranks with it: SIGTERM, SIGINT or kill -9 of the launcher
  alone leaves no process of the run behind, without a traceback (torchrun's own SignalException
  one included), and --resume goes on. The ranks share the machine's cores out among themselves.
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from proc_helpers import (
    child_env,
    cmdline,
    kill_group_when,
    marked,
    new_marker,
    reap,
    run_cli,
    user_error,
    wait_for,
    wait_gone,
)
from proc_helpers import cli as nasdsl
from torch import nn

from nasdsl_search.trainer import ArrayDataset, SettingError, TrainConfig, Trainer
from tests.test_train_cli import NAS
from tests.test_train_resume import checkpoint_epoch
from tests.test_trainer import Streamed

CFG = TrainConfig(epochs=3, batch_size=32, lr=0.1, ema_decay=0.9, grad_clip=1.0)


def _data(streaming: bool):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(128, 3, 4, 4, generator=g)
    y = (x[:, 0].mean((1, 2)) > 0).long() + 2 * (x[:, 1].mean((1, 2)) > 0).long()
    kind = Streamed if streaming else ArrayDataset
    return kind(x[:96], y[:96]), kind(x[96:], y[96:])


def _mlp(bn: bool = False):
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(48, 32), *([nn.BatchNorm1d(32)] if bn else []), nn.ReLU(),
                         nn.Linear(32, 4))


def _train(streaming: bool, bn: bool = False) -> Trainer:
    train, val = _data(streaming)
    t = Trainer(_mlp(bn), CFG, train, val, seed=4, workers=0)
    for _ in range(CFG.epochs):
        t.train_epoch()
    return t


def _worker(rank: int, world: int, port: int, out: str, streaming: bool, bn: bool = False) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    torch.distributed.init_process_group("gloo", rank=rank, world_size=world)
    try:
        t = _train(streaming, bn)
        ev = t.evaluate()
        torch.save({"model": t.model.state_dict(), "ema": t.ema.model.state_dict(), "eval": ev,
                    "difference": t.replica_difference()}, f"{out}.{rank}")
    finally:
        torch.distributed.destroy_process_group()
    # rank 0 hosts the rendezvous store, whose thread once aborted the interpreter's teardown in CI
    # ("terminate called without an active exception", after the results were saved): skip it
    sys.stdout.flush()
    os._exit(0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("streaming", [False, pytest.param(True, marks=pytest.mark.slow)],
                         ids=["in-memory", "dataloader"])
def test_two_gloo_ranks_match_one_process(tmp_path, streaming):
    out = str(tmp_path / "rank")
    mp.spawn(_worker, args=(2, _free_port(), out, streaming), nprocs=2, join=True)
    r0, r1 = (torch.load(f"{out}.{r}", weights_only=True) for r in (0, 1))
    assert r0["difference"] == 0.0 and r1["difference"] == 0.0
    assert all(torch.equal(r0["model"][k], r1["model"][k]) for k in r0["model"])
    assert r0["eval"] == r1["eval"]  # the ranks scored halves of the held-out set and added them up
    torch.set_num_threads(1)
    single = _train(streaming)
    for k, v in single.model.state_dict().items():
        assert torch.allclose(r0["model"][k], v, atol=1e-5), k
    for k, v in single.ema.model.state_dict().items():
        assert torch.allclose(r0["ema"][k], v, atol=1e-5), k
    ev = single.evaluate()
    assert r0["eval"]["top1"] == pytest.approx(ev["top1"]) and r0["eval"]["loss"] == pytest.approx(ev["loss"], rel=1e-4)
    moved = sum(float((v - _mlp().state_dict()[k]).abs().max()) for k, v in single.model.state_dict().items())
    assert moved > 0.01  # training did something the comparison can see


def _uneven_worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.distributed.init_process_group("gloo", rank=rank, world_size=world)
    try:
        train, val = _data(False)
        Trainer(_mlp(), replace(CFG, batch_size=9), train, val, seed=4, workers=0)
        message = "accepted"
    except SettingError as e:
        message = e.flag_message()
    finally:
        torch.distributed.destroy_process_group()
    Path(f"{out}.{rank}").write_text(message)
    sys.stdout.flush()
    os._exit(0)


def test_a_batch_the_processes_do_not_divide_is_refused_by_the_trainer(tmp_path):
    """train --nproc refused it; the Trainer API took it, and DDP then averaged the means of unequal
    shares (5 and 4 images), 3.5e-2 off one process where an even batch is 3e-8 off."""
    out = str(tmp_path / "rank")
    mp.spawn(_uneven_worker, args=(2, _free_port(), out), nprocs=2, join=True)
    assert {Path(f"{out}.{r}").read_text() for r in (0, 1)} == {"--batch-size 9 must be a multiple of the 2 processes"}


def test_batch_norm_statistics_and_their_average_are_the_same_on_every_rank(tmp_path):
    """Each rank's batch norm sees its own share of a batch; the statistics go from rank 0 to all at
    the end of an epoch. The EMA model's averaged statistics were left rank-local, so the ranks
    scored their halves of the held-out set with slightly different models."""
    out = str(tmp_path / "rank")
    mp.spawn(_worker, args=(2, _free_port(), out, False, True), nprocs=2, join=True)
    r0, r1 = (torch.load(f"{out}.{r}", weights_only=True) for r in (0, 1))
    assert r0["difference"] == 0.0 and r1["difference"] == 0.0  # the EMA model's state counted too
    assert all(torch.equal(r0["ema"][k], r1["ema"][k]) for k in r0["ema"])
    assert any("running_var" in k for k in r0["ema"])


ARGS = ["--dataset", "digits", "--batch-size", "32", "--train-size", "128", "--val-size", "64", "--device", "cpu",
        "--seed", "2"]


def _first_loss(text: str) -> float:
    return float(re.search(r"epoch 1/\d+\s+loss (\d+\.\d+)", text).group(1))


@pytest.mark.slow
def test_nasdsl_train_nproc_2_and_resume(tmp_path):
    src = tmp_path / "small.nas"
    src.write_text(NAS)
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    ddp = nasdsl("train", str(src), *ARGS, "--epochs", "3", "--nproc", "2", "--out", str(whole))
    out, err = ddp.communicate(timeout=900)
    assert ddp.returncode == 0, err
    threads = int(os.environ.get("OMP_NUM_THREADS") or max(1, len(os.sched_getaffinity(0)) // 2))  # cores shared out
    assert f"2 processes ({threads} thread{'s' if threads > 1 else ''} each)" in out and "largest weight difference from rank 0: 0\n" in out
    assert out.count("epoch 1/3") == 1  # rank 0 alone logs
    single = nasdsl("train", str(src), *ARGS, "--epochs", "3", "--threads", "1", "-o", str(tmp_path / "one.pt"))
    sout, serr = single.communicate(timeout=900)
    assert single.returncode == 0, serr
    assert abs(_first_loss(out) - _first_loss(sout)) / _first_loss(sout) < 0.02
    # kill -9 the whole DDP group after its first checkpoint, resume it with two processes again
    marker = new_marker()
    p = nasdsl("train", str(src), *ARGS, "--epochs", "3", "--nproc", "2", "--out", str(broken), marker=marker)
    kill_group_when(p, (broken / "checkpoint.pt").exists, 600, "the first checkpoint", poll=0.1)
    assert wait_gone(marker, 10) == []  # torchrun (its own session) and the ranks went with the launcher
    r = nasdsl("train", "--resume", "--out", str(broken), "--nproc", "2")
    rout, rerr = r.communicate(timeout=900)
    assert r.returncode == 0, rerr
    assert "resuming" in rout
    a = torch.load(whole / "weights.pt", weights_only=True)["state_dict"]
    b = torch.load(broken / "weights.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("case", ["bad .nas", "no data set", "no GPU"])
def test_a_mistake_the_ranks_would_meet_is_one_line_before_torchrun_starts(tmp_path, case):
    """The launcher resolves the network, opens the data set and builds the model once before it
    starts torchrun: a mistake there is one line and exit 2 (it was every rank's line, torchrun's
    report and exit 1), and nothing is launched."""
    src = tmp_path / "net.nas"
    if case == "no GPU" and torch.cuda.is_available():
        pytest.skip("checks the no-GPU message; this machine has CUDA")
    src.write_text("network x {\n  cells =\n}\n" if case == "bad .nas" else NAS)
    data = ["--dataset", f"npz:{tmp_path / 'missing.npz'}"] if case == "no data set" else ["--dataset", "digits"]
    device = ["--device", "cuda"] if case == "no GPU" else []
    r = run_cli("train", str(src), *data, *device, "--batch-size", "32", "--epochs", "1", "--nproc", "2",
                "-o", str(tmp_path / "w.pt"))
    user_error(r, {"bad .nas": "net.nas:3:1: error", "no data set": "missing.npz: error: no such file",
                   "no GPU": "--device cuda: no CUDA device is available here"}[case])
    assert len(r.stderr.strip().splitlines()) == (3 if case == "bad .nas" else 1)  # a located one has its caret
    assert "launching" not in r.stdout


def test_a_failed_rank_is_torchruns_report_without_a_traceback_of_torchrun(tmp_path):
    """nasdsl_search.torchrun, as --nproc starts it: a rank that fails is torchrun's report (which
    rank, its exit code) and exit 1, without the traceback of torchrun's own code."""
    script = tmp_path / "rank.py"
    script.write_text("import os, sys\nsys.exit(3 if os.environ['RANK'] == '1' else 0)\n")
    r = subprocess.run([sys.executable, "-m", "nasdsl_search.torchrun", "--standalone", "--nproc-per-node=2",
                        str(script)], capture_output=True, text=True, timeout=120, env=child_env())
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and "rank      : 1" in r.stderr and "exitcode  : 3" in r.stderr, r.stderr


@pytest.mark.slow
def test_a_diverged_training_under_nproc_is_one_line(tmp_path):
    """Every rank meets the divergence at once (the check is all-reduced): it was each rank's line,
    torchrun's report and exit 1; now the launcher says it once, exit 2, as one process does. This
    run ends with finite losses but inf running variances, which it wrote as its weights before."""
    src = tmp_path / "tiny.nas"  # 4,196 parameters, lr 1000 unclipped (as test_train_cli's one process)
    src.write_text(NAS.replace("cells = 1\n    filters = 8", "cells = 1 @ 24"))
    r = run_cli("train", str(src), "--dataset", "digits", "--train-size", "64", "--val-size", "32", "--epochs", "1",
                "--batch-size", "8", "--lr", "1000", "--grad-clip", "0", "--no-aux-head", "--nproc", "2",
                "--out", str(tmp_path / "run"), timeout=300)
    user_error(r, "nasdsl train: error: the training diverged: ", one_line=True)
    assert "try a lower --lr" in r.stderr and not (tmp_path / "run" / "weights.pt").exists()


@pytest.mark.parametrize("text, gone", [
    ("[../gloo/transport/tcp/pair.cc:534] Connection closed by peer [127.0.0.1]:1234", True),
    ("[../gloo/transport/tcp/pair.cc:545] Read error [127.0.0.1]:61136: Connection reset by peer.", True),
    ("[../gloo/transport/tcp/pair.cc:600] Write error: Broken pipe", True),
    ("mat1 and mat2 shapes cannot be multiplied (4x3 and 5x6)", False),
])
def test_a_collective_whose_peer_is_gone_is_told_apart_from_a_bug(text, gone):
    """gloo words a lost peer several ways, by where the peer was in the exchange (CI met "Read error
    ... Connection reset by peer" when a rank was killed, and it came out as an internal error); each
    is the rank's one line, while any other RuntimeError stays a bug with its traceback."""
    from nasdsl_search.train_cli import _peer_gone

    assert _peer_gone(RuntimeError(text)) is gone


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def test_ranks_whose_torchrun_died_before_they_could_hear_of_it_end(tmp_path):
    """A rank asks for its parent-death signal once its imports are done (about a second); a torchrun
    killed before that left the ranks running on, waiting for a rendezvous nobody hosted. Now a rank
    checks that its torchrun is still its parent once the signal is set, and ends quietly if not."""
    src = tmp_path / "small.nas"
    src.write_text(NAS)
    marker = new_marker()
    p = nasdsl("train", str(src), *ARGS, "--epochs", "8", "--nproc", "2", "--out", str(tmp_path / "run"), marker=marker)
    try:
        found: list[int] = []

        def ranks_started() -> bool:  # torchrun (kept in `found`), once both its ranks exist
            for t in _children(p.pid):
                if b"nasdsl_search.torchrun" in cmdline(t) and \
                        len([c for c in _children(t) if b"train" in cmdline(c)]) == 2:
                    found.append(t)
                    return True
            return False

        wait_for(ranks_started, 120, p, "torchrun's two ranks", poll=0.005)
        torchrun = found[0]
        os.kill(torchrun, signal.SIGKILL)  # the ranks are still importing
        p.communicate(timeout=60)
        assert p.returncode == 137
        assert wait_gone(marker, 45) == []  # the code before: still there after 60 s
    finally:
        reap(marked(marker))


@pytest.mark.slow
def test_the_launcher_takes_torchrun_and_its_ranks_with_it(tmp_path):
    """Each signal goes to the launcher alone: SIGTERM and SIGINT are passed on to torchrun, which
    stops the ranks, and waited for (exit 143, 130, with the --resume line); kill -9 SIGTERMs torchrun
    through its parent-death signal, and the ranks die with torchrun. A kill -9 of torchrun alone is
    the launcher's exit 137 with the same line. Within seconds no process of
    the run is left; meanwhile a second driver is refused; --resume goes on to the end."""
    src = tmp_path / "small.nas"
    src.write_text(NAS)
    run = tmp_path / "run"
    marker = new_marker()
    epochs = 24  # each of the five stops below costs an epoch or more: the run must outlast them
    command = ["train", str(src), *ARGS, "--epochs", str(epochs), "--nproc", "2", "--out", str(run)]
    try:
        for sig, whom in ((signal.SIGTERM, "launcher"), (signal.SIGINT, "launcher"), (signal.SIGKILL, "torchrun"),
                          (signal.SIGKILL, "rank"), (signal.SIGKILL, "launcher")):
            before = checkpoint_epoch(run)
            p = nasdsl(*command, marker=marker)
            wait_for(lambda b=before: checkpoint_epoch(run) > b, 300, p, "a new checkpoint", poll=0.1)
            if sig == signal.SIGTERM:
                user_error(run_cli("train", "--resume", "--out", str(run)), f"(train, pid {p.pid} on host",
                           one_line=True)
            if whom == "launcher":
                os.kill(p.pid, sig)
            else:  # torchrun, the launcher's one child (it exited 247, silent), or a rank, one of torchrun's
                torchrun = int(open(f"/proc/{p.pid}/task/{p.pid}/children").read().split()[0])
                ranks = [int(c) for c in open(f"/proc/{torchrun}/task/{torchrun}/children").read().split()
                         if b"train" in cmdline(int(c))]
                os.kill(torchrun if whom == "torchrun" else ranks[0], sig)
            out, err = p.communicate(timeout=60)
            assert wait_gone(marker, 10) == [], sig.name
            assert "Traceback" not in err and "terminate called" not in err, err  # torchrun's own, too
            if whom == "launcher" and sig != signal.SIGKILL:  # its stop line alone: no rank's, nor torchrun's
                assert "interrupted" not in err and "death signal" not in err, err
            if command[1] == "--resume":  # as many processes as the run had, without --nproc
                assert "resuming with --nproc 2, as the run was trained" in out, out
            if whom == "rank":  # the rank left waiting on it was an "internal error"
                assert p.returncode == 1 and "internal error" not in err, err
                assert "a process of the run failed (torchrun exit 1); its last checkpoint is kept: " \
                       f"nasdsl train --resume --out {run} --nproc 2" in err, err
            elif sig != signal.SIGKILL or whom == "torchrun":
                assert p.returncode == 128 + sig, err
                assert f"stopped by {sig.name}; its last checkpoint is kept. Continue with:\n" \
                       f"  nasdsl train --resume --out {run} --nproc 2" in err  # bitwise only on as many
            command = ["train", "--resume", "--out", str(run)]
        r = run_cli("train", "--resume", "--out", str(run), "--nproc", "1", "--threads", "1", timeout=300)  # one now
        assert r.returncode == 0, r.stderr
        logs = [json.loads(line)["epoch"] for line in (run / "log.jsonl").read_text().splitlines()]
        assert logs == list(range(1, epochs + 1))
    finally:
        reap(marked(marker))
