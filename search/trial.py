"""One trial, as plain data in and plain data out, so a process pool and Ray run the same code.

payload: {"trial", "nas", "network", "seed", "reward", "dataset", "val_size", "train_size", "image",
          "augment" (the last two optional: the data set's own size, "auto"),
          "train" (TrainConfig fields), "threads", "synthetic" ({"sizes", "seed"}, synthetic only),
          "device" ("auto" | "cpu" | "cuda[:N]", default cpu), "amp" (bool)}
result:  {"trial", "status" ("done" | "failed"), "reward", "error", "params", "started", "finished",
          "seconds", "pid"}
"""
from __future__ import annotations

import math
import os
import time
import traceback
from typing import Any

from .devices import free_cuda_memory


def run_trial(payload: dict[str, Any]) -> dict[str, Any]:
    """Build the child from its .nas text, train it, return its reward. Never raises: a failure
    (exception, out of memory, NaN) comes back as status "failed" with the error text."""
    started = time.time()
    result: dict[str, Any] = {"trial": payload["trial"], "status": "failed", "reward": None, "error": None,
                              "params": None, "started": started, "pid": os.getpid()}
    try:
        reward, params = _reward(payload)
        if reward is None or not math.isfinite(reward):
            raise ValueError(f"reward is {reward}")
        result.update(status="done", reward=float(reward), params=params)
    except MemoryError as e:
        result["error"] = f"out of memory: {e}"
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


def _reward(payload: dict[str, Any]) -> tuple[float, int | None]:
    kind = payload.get("reward", "accuracy")
    if kind == "synthetic":
        from .synthetic import match_fraction

        syn = payload["synthetic"]
        if syn.get("fail_every") and payload["trial"] % syn["fail_every"] == 0:
            raise RuntimeError(f"synthetic failure of trial {payload['trial']}")
        if syn.get("sleep"):
            time.sleep(syn["sleep"])
        return match_fraction(payload["decisions"], syn["target"]), None
    if kind != "accuracy":
        raise ValueError(f"unknown reward {kind!r}")
    import torch

    import nasdsl

    from .data import InMemoryDataset, open_dataset
    from .devices import resolve_device
    from .trainer import TrainConfig, train

    torch.set_num_threads(int(payload.get("threads", 1)))
    data = open_dataset(payload["dataset"], image=payload.get("image"), augment=payload.get("augment", "auto"),
                        val_size=payload.get("val_size"), train_size=payload.get("train_size"),
                        split_seed=payload.get("split_seed", 0))
    if not isinstance(data.train, InMemoryDataset) or not isinstance(data.val, InMemoryDataset):
        raise ValueError(f"{payload['dataset']}: children train on in-memory data sets only "
                         "(this one streams from disk)")
    torch.manual_seed(payload["seed"])
    model = nasdsl.compile(payload["nas"], network=payload.get("network", "proxy"), num_classes=data.classes)
    params = sum(p.numel() for p in model.parameters())
    res = train(model, data.train.x.numpy(), data.train.y.numpy(), data.val.x.numpy(), data.val.y.numpy(),
                TrainConfig(**payload.get("train", {})), seed=payload["seed"],
                device=resolve_device(payload.get("device") or "cpu"), amp=bool(payload.get("amp")))
    return res.accuracy, params
