"""Devices: --device/--amp/--gpus-per-trial/--cpus-per-trial are executor settings of `search`
(stored, changeable on --resume, carried to the child in its payload); local workers are pinned
round-robin to GPUs; Ray tasks ask for the CPUs/GPUs given; CUDA paths run where a GPU exists."""
from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing
import os
import sqlite3
import time

import pytest
import torch
from references import require

from nasdsl.cli.dispatch import main
from nasdsl.errors import NasError
from nasdsl_search.devices import check_device, pin_worker, resolve_device
from nasdsl_search.driver import Search, SearchConfig
from nasdsl_search.executors import LocalExecutor, make_executor
from nasdsl_search.space import ProxyNet
from nasdsl_search.trainer import TrainConfig
from nasdsl_search.trial import run_trial
from tests.test_search_trial import PAYLOAD

CUDA = torch.cuda.is_available()


def _executor_config(run):
    con = sqlite3.connect(run / "trials.sqlite")
    try:
        return json.loads(con.execute("SELECT value FROM run WHERE key = 'executor'").fetchone()[0])
    finally:
        con.close()


def test_device_values_are_checked():
    assert check_device("cuda:1") == "cuda:1" and resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if CUDA else "cpu")
    for bad in ("gpu", "cuda:", "cuda:x", ""):
        with pytest.raises(NasError, match="--device must be"):
            check_device(bad)


@pytest.mark.skipif(CUDA, reason="checks the no-GPU message; this machine has CUDA")
def test_cuda_without_a_gpu_is_refused_before_the_local_pool_starts(tmp_path, capsys):
    """The local pool trains on this machine: --device cuda where it has none is one line and exit 2,
    for a new run (no run folder left, one-shot runs too) and for --resume (the run's settings unchanged)."""
    run = tmp_path / "run"
    args = ["search", "--out", str(run), "--reward", "synthetic", "--quiet"]
    assert main([*args, "--trials", "2", "--device", "cuda", "--amp"]) == 2
    err = capsys.readouterr().err
    assert "--device cuda: no CUDA device is available here" in err and err.count("\n") == 1
    assert not run.exists()
    assert main([*args, "--trials", "2", "--device", "cpu"]) == 0
    assert main(["search", "--out", str(run), "--resume", "--trials", "3", "--device", "cuda:1", "--quiet"]) == 2
    assert "--device cuda:1: no CUDA device is available here" in capsys.readouterr().err
    assert _executor_config(run)["device"] == "cpu"
    one_shot = tmp_path / "one-shot"  # its supernet trains in the driver: refused before the folder is taken
    assert main(["search", "--strategy", "random-ws", "--out", str(one_shot), "--device", "cuda", "--quiet"]) == 2
    assert "no CUDA device is available here" in capsys.readouterr().err and not one_shot.exists()


@pytest.mark.slow
@pytest.mark.skipif(CUDA, reason="checks the no-GPU message; this machine has CUDA")
def test_a_cuda_child_without_a_gpu_is_a_failed_trial_and_the_search_goes_on(tmp_path):
    """The payload carries the device to the child (on Ray the driver cannot know the nodes'
    GPUs): a child asked for CUDA where there is none is a failed trial with a clear error."""
    cfg = SearchConfig(strategy="random", trials=2, train_size=64, val_size=50, repeats=1,
                       proxy=ProxyNet(filters=4), train=TrainConfig(epochs=1))
    s = Search(tmp_path / "run", cfg)
    summary = s.run(make_executor("local", 1, device="cuda", amp=True), threads=1, progress=False)
    errors = [t["error"] for t in s.store.trials()]
    s.close()
    assert summary.counts == {"running": 0, "done": 0, "failed": 2}
    assert all("no CUDA device is available" in e for e in errors)


def test_hardware_flags_are_checked_up_front(tmp_path, capsys):
    out = str(tmp_path / "r")
    assert main(["search", "--out", out, "--device", "tpu", "--reward", "synthetic", "--quiet"]) == 2
    assert main(["search", "--out", out + "2", "--gpus-per-trial", "0.5", "--reward", "synthetic", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--device must be" in err and "--gpus-per-trial and --cpus-per-trial are for --executor ray" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("device", ["cpu", "cuda:99"])
def test_local_executor_puts_the_hardware_in_every_payload(device):
    """The executor's device and amp reach the child, over what the payload says: on the CPU amp is
    a no-op and the child trains; a device no machine here has fails the trial, naming it."""
    ex = make_executor("local", 1, device=device, amp=True)
    try:
        assert isinstance(ex, LocalExecutor) and ex.hardware == {"device": device, "amp": True}
        ex.submit({**PAYLOAD, "train": {"epochs": 1, "batch_size": 32}, "train_size": 64, "val_size": 50,
                   "device": "cpu", "amp": False})
        results = []
        while not results:
            results = ex.poll(1.0)
        if device == "cpu":
            assert results[0]["status"] == "done", results[0]["error"]
        else:
            assert results[0]["status"] == "failed" and "--device cuda:99: " in results[0]["error"], results[0]
    finally:
        ex.shutdown()


def _visible(_):
    time.sleep(0.5)  # hold this worker so that the other task goes to the other one
    return os.environ.get("CUDA_VISIBLE_DEVICES")


def test_pool_workers_are_pinned_round_robin():
    """The initializer LocalExecutor uses with several GPUs: each worker sees one device."""
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(2, mp_context=ctx, initializer=pin_worker,
                                initargs=(ctx.Value("i", 0), [0, 1])) as pool:
        seen = set(pool.map(_visible, range(2)))
    assert seen == {"0", "1"}


@pytest.mark.slow
def test_ray_tasks_ask_for_the_given_resources(tmp_path):
    """A local Ray cluster declaring one GPU: children asking for half a GPU and one CPU each are
    scheduled and finish (on the CPU: there is no real GPU behind the declared one here)."""
    ray = require("ray")
    ray.init(address="local", num_cpus=2, num_gpus=1, include_dashboard=False, logging_level="ERROR", log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}})
    try:
        ex = make_executor("ray", 2, device="auto", gpus_per_trial=0.5, cpus_per_trial=1)
        assert ex.resources == {"num_cpus": 1, "num_gpus": 0.5}
        payload = {"trial": 1, "reward": "synthetic", "decisions": [0, 1],
                   "synthetic": {"target": [0, 1], "sleep": 0.2}}
        for i in range(2):
            ex.submit({**payload, "trial": i})
        results = []
        deadline = time.time() + 120
        while len(results) < 2 and time.time() < deadline:
            results += ex.poll(1.0)
        assert sorted(r["status"] for r in results) == ["done", "done"]
        auto = make_executor("ray", 2, device="auto")  # a cluster with GPUs: auto asks for one each
        assert auto.resources["num_gpus"] == 1.0
        assert make_executor("ray", 2, device="cpu").resources == {"num_cpus": 1.0, "num_gpus": 0.0}
    finally:
        ray.shutdown()


@pytest.mark.skipif(not CUDA, reason="no CUDA device on this machine")
def test_cuda_out_of_memory_is_a_failed_trial_and_the_worker_goes_on():
    big = {**PAYLOAD, "device": "cuda", "train": {"epochs": 1, "batch_size": 64}}
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.set_per_process_memory_fraction(64 * 2**20 / total)  # 64 MiB: a child cannot fit
    try:
        oom = run_trial({**big, "nas": PAYLOAD["nas"].replace("filters = 8", "filters = 256")})
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
    assert oom["status"] == "failed" and oom["error"].startswith("out of memory"), oom["error"]
    ok = run_trial({**big, "amp": True})
    assert ok["status"] == "done", ok["error"]
