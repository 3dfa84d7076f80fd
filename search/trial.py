"""One trial, as plain data in and plain data out, so a process pool and Ray run the same code.

payload: {"trial", "nas", "network", "seed", "reward", "dataset", "val_size", "train_size", "image",
          "augment", "in_memory" (the last three optional: the data set's own size, "auto", by size),
          "train" (TrainConfig fields), "threads", "synthetic" ({"sizes", "seed"}, synthetic only),
          "device" ("auto" | "cpu" | "cuda[:N]", default cpu), "amp" (bool)}
          and, for a job of an early-stopped run (ASHA), "rung", "until_epoch", "checkpoint": train
          on from the checkpoint (if any) to `until_epoch` epochs of a schedule over train["epochs"],
          saving the trainer's state there after every epoch; the reward is the accuracy then.
result:  {"trial", "status" ("done" | "failed"), "reward", "error", "params", "started", "finished",
          "seconds", "pid", "host", "ip", "node"} (+ "rung" for a rung job)
         (where it ran: this process's pid, the machine's hostname and IP; `node` is the Ray node id
         on a Ray cluster, "local" in the local pool)
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import socket
import time
import traceback
from pathlib import Path
from typing import Any

from nasdsl.errors import NasError

from .devices import free_cuda_memory
from .rewards import mean_accuracy


def data_settings(config: Any) -> dict[str, Any]:
    """The payload keys that choose a child's data and its split (what `child_data` reads), from a
    run's SearchConfig: `child_data(data_settings(config))` is the data every child of the run sees."""
    return {"dataset": config.dataset, "val_size": config.val_size, "train_size": config.train_size,
            "image": config.image, "augment": config.augment}


def trial_payload(config: Any, trial: dict[str, Any], threads: int, **extra: Any) -> dict[str, Any]:
    """The payload of `trial` ({"id", "nas", "decisions", "seed"}) of a run configured by `config`
    (its SearchConfig), multi-trial or one-shot alike; `extra`: further keys (synthetic, device ...)."""
    return {"trial": trial["id"], "nas": trial["nas"], "network": "proxy", "seed": trial["seed"],
            "decisions": trial["decisions"], "reward": config.reward, **data_settings(config),
            "repeats": config.repeats, "train": config.train.to_dict(), "threads": threads, **extra}


def training_key(payload: dict[str, Any]) -> dict[str, Any]:
    """What `payload` trains, as a cache of trainings keys it: the cell's text and every setting, not
    its trial number nor its threads; the TrainConfig as `TrainConfig.key` (a payload stored before a
    later field keys as one with that field at its old behaviour)."""
    from .trainer import TrainConfig

    kept = {k: v for k, v in payload.items() if k not in ("trial", "threads")}
    return {**kept, "train": TrainConfig.from_dict(kept["train"]).key()}


def training_digest(payload: dict[str, Any]) -> str:
    """`training_key` as 16 hex digits."""
    return hashlib.sha256(json.dumps(training_key(payload), sort_keys=True).encode()).hexdigest()[:16]


def run_trial(payload: dict[str, Any], place: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the child from its .nas text, train it, return its reward. Never raises: a failure
    (exception, out of memory, NaN) comes back as status "failed" with the error text. `place`:
    where this runs (see `where`), when the caller knows better (a Ray node's own address)."""
    started = time.time()
    result: dict[str, Any] = {"trial": payload["trial"], "status": "failed", "reward": None, "error": None,
                              "params": None, "started": started, **(place or where())}
    if "rung" in payload:
        result["rung"] = payload["rung"]
    try:
        reward, params = _reward(payload)
        if reward is None or not math.isfinite(reward):
            raise ValueError(f"reward is {reward}")
        result.update(status="done", reward=float(reward), params=params)
    except MemoryError as e:
        result["error"] = f"out of memory: {e}"
    except NasError as e:  # the user's setup, e.g. a data set this node cannot read: its message, no traceback
        result["error"] = f"{e} [on {result['host']}, {result['ip']}]"
    except Exception as e:  # noqa: BLE001 - a child's failure is data, the search goes on
        msg = f"{type(e).__name__}: {e}"
        if "out of memory" in str(e).lower() or "can't allocate memory" in str(e).lower():
            msg = "out of memory: " + msg
        result["error"] = msg + "\n" + "".join(traceback.format_tb(e.__traceback__)[-3:])
    if result["status"] != "done":
        free_cuda_memory()  # after a CUDA out-of-memory the worker can take the next child
    result["finished"] = time.time()
    result["seconds"] = result["finished"] - started
    return result


def where(node: str = "local") -> dict[str, Any]:
    """Where this process runs: {"pid", "host", "ip", "node"}."""
    host = socket.gethostname()
    return {"pid": os.getpid(), "host": host, "ip": _ip(host), "node": node}


def _ip(host: str) -> str | None:
    """The address other machines reach this one at (the route out; no packet is sent), else the
    hostname's address."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # TEST-NET: a UDP connect only picks the outgoing interface
        return s.getsockname()[0]
    with contextlib.suppress(OSError):
        return socket.gethostbyname(host)
    return None


def _reward(payload: dict[str, Any]) -> tuple[float, int | None]:
    kind = payload.get("reward", "accuracy")
    if kind == "synthetic":
        from .synthetic import match_fraction

        syn = payload["synthetic"]
        if syn.get("fail_every") and payload["trial"] % syn["fail_every"] == 0:
            raise RuntimeError(f"synthetic failure of trial {payload['trial']}")
        if syn.get("sleep"):
            time.sleep(syn["sleep"])
        reward = match_fraction(payload["decisions"], syn["target"])
        if "until_epoch" in payload:  # more epochs, more reward; the ranking stays the same
            reward *= 0.5 + 0.5 * payload["until_epoch"] / payload["train"]["epochs"]
        return reward, None
    if kind != "accuracy":
        raise ValueError(f"unknown reward {kind!r}")
    return _train_child(payload)


REPEAT_SEED_STRIDE = 1_000_003  # replicate k of a child trains with seed + k * this


def _train_child(payload: dict[str, Any]) -> tuple[float, int]:
    """Build the child, train it, return (held-out accuracy, parameters). With payload "repeats" K
    (default 1) the child is trained K times from different seeds and the reward is the mean of their
    accuracies, as one fraction (`rewards.mean_accuracy`): less seed noise in the reward, at K times
    the cost (`benchmarks/proxy_signal.py` measures what it buys). A rung job of an early-stopped
    run (payload "until_epoch", "checkpoint") trains on from the trial's checkpoints (if any) to
    `until_epoch`, saving the trainer's state after every epoch; the schedule runs over
    train["epochs"] (the top rung), so a trial promoted through every rung trains exactly as one
    trained to the top in one go. Children train in channels_last memory format unless the payload
    says "channels_last": false (`benchmarks/bench_search.py --child-formats` times both)."""
    import torch

    torch.set_num_threads(int(payload.get("threads", 1)))
    data = child_data(payload)
    runs = [_train_replicate(payload, data, k) for k in range(int(payload.get("repeats", 1)))]
    return mean_accuracy([r for r, _ in runs], len(data.val)), runs[0][1]


def _train_replicate(payload: dict[str, Any], data, k: int) -> tuple[float, int]:
    """Replicate k of a child: seed + k * REPEAT_SEED_STRIDE, checkpoint CHECKPOINT (k = 0) or
    CHECKPOINT with `.rK` before its suffix."""
    import torch

    import nasdsl

    from .devices import resolve_device
    from .trainer import TrainConfig, Trainer

    seed = int(payload["seed"]) + k * REPEAT_SEED_STRIDE
    torch.manual_seed(seed)
    model = nasdsl.compile(payload["nas"], network=payload.get("network", "proxy"), num_classes=data.classes)
    params = sum(p.numel() for p in model.parameters())
    device = resolve_device(payload.get("device") or "cpu")
    config = TrainConfig(**payload.get("train", {}))
    trainer = Trainer(model, config, data.train, data.val, seed=seed, device=device,
                      amp=bool(payload.get("amp")), workers=0, channels_last=payload.get("channels_last", True))
    if "until_epoch" not in payload:
        while trainer.epoch < config.epochs:
            trainer.train_epoch()
        return trainer.evaluate()["top1"], params
    path = Path(payload["checkpoint"])
    if k:
        path = path.with_name(f"{path.stem}.r{k}{path.suffix}")
    if path.exists():
        trainer.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    until = int(payload["until_epoch"])
    if trainer.epoch > until:
        raise RuntimeError(f"checkpoint {path} is at epoch {trainer.epoch}, past this rung's {until}")
    path.parent.mkdir(parents=True, exist_ok=True)
    while trainer.epoch < until:
        trainer.train_epoch()
        tmp = path.with_suffix(".pt.tmp")
        torch.save(trainer.state_dict(), tmp)
        os.replace(tmp, path)  # a kill leaves the previous epoch's checkpoint or this one, never half
    return trainer.evaluate()["top1"], params


def child_data(payload: dict[str, Any]):
    """The DataBundle a child trains on (nasdsl_search.data.open_dataset, cached per worker process).
    Streaming sets are decoded in the child's own process (no DataLoader workers: pool workers
    run one child each, and the pool already uses the cores)."""
    from .data import open_dataset

    return open_dataset(payload["dataset"], image=payload.get("image"), augment=payload.get("augment", "auto"),
                        val_size=payload.get("val_size"), train_size=payload.get("train_size"),
                        split_seed=payload.get("split_seed", 0), in_memory=payload.get("in_memory"))
