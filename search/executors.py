"""Where trials run: `local` (a process pool) or `ray` (Ray tasks). Both run `trial.run_trial`
on plain-data payloads and hand back plain-data results; a worker that dies is a failed trial."""
from __future__ import annotations

import concurrent.futures as cf
import math
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

from nasdsl.errors import NasError

from .devices import check_device, cuda_count, pin_worker
from .trial import run_trial

EXECUTORS = ("local", "ray")
MAX_ATTEMPTS = 2  # a trial whose worker dies is retried once, then stored as failed


def _crashed(payload: dict[str, Any], why: str) -> dict[str, Any]:
    now = time.time()
    return {"trial": payload["trial"], "status": "failed", "reward": None, "params": None,
            "error": why, "started": now, "finished": now, "seconds": 0.0, "pid": None}


class Executor:
    """submit(payload) then poll(timeout) -> finished results; `running` = trials in flight.
    `hardware` ({"device", "amp"}) goes into every payload: where children train is the executor's
    setting, and may change when a run is resumed."""

    workers: int
    hardware: dict[str, Any] = {}

    def submit(self, payload: dict[str, Any]) -> None:
        raise NotImplementedError

    def poll(self, timeout: float) -> list[dict[str, Any]]:
        raise NotImplementedError

    @property
    def running(self) -> int:
        raise NotImplementedError

    def shutdown(self) -> None:
        pass


class LocalExecutor(Executor):
    """A pool of `workers` spawned processes. Children on CUDA with several GPUs: each worker is
    pinned to one of them, round-robin (it sees only that one, as cuda:0)."""

    def __init__(self, workers: int = 1, device: str = "cpu", amp: bool = False):
        if workers < 1:
            raise NasError(f"--workers must be at least 1, got {workers}")
        self.workers = workers
        self.hardware = {"device": check_device(device), "amp": amp}
        gpus = cuda_count() if device in ("auto", "cuda") else 0
        self._pinning = (multiprocessing.get_context("spawn").Value("i", 0), list(range(gpus))) if gpus > 1 else None
        self._pool = self._new_pool()
        self._futures: dict[cf.Future, dict[str, Any]] = {}
        self._attempts: dict[int, int] = {}

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        pin = {"initializer": pin_worker, "initargs": self._pinning} if self._pinning else {}
        return cf.ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"), **pin)

    def submit(self, payload: dict[str, Any]) -> None:
        self._attempts[payload["trial"]] = self._attempts.get(payload["trial"], 0) + 1
        self._futures[self._pool.submit(run_trial, {**payload, **self.hardware})] = payload

    @property
    def running(self) -> int:
        return len(self._futures)

    def poll(self, timeout: float) -> list[dict[str, Any]]:
        if not self._futures:
            return []
        done, _ = cf.wait(list(self._futures), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        results, retry = [], []
        for fut in done:
            payload = self._futures.pop(fut)
            try:
                results.append(fut.result())
            except cf.process.BrokenProcessPool:
                retry.append(payload)
            except Exception as e:  # noqa: BLE001 - e.g. a result that cannot be unpickled
                results.append(_crashed(payload, f"{type(e).__name__}: {e}"))
        if retry:  # a worker died (killed, out of memory): the whole pool is gone
            self._pool.shutdown(wait=False, cancel_futures=True)
            for fut, payload in list(self._futures.items()):
                retry.append(payload)
                del self._futures[fut]
            self._pool = self._new_pool()
            for payload in retry:
                if self._attempts[payload["trial"]] >= MAX_ATTEMPTS:
                    results.append(_crashed(payload, "worker process died (killed or out of memory)"))
                else:
                    self.submit(payload)
        return results

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class RayExecutor(Executor):
    """Trials as Ray tasks on the cluster at `address`, or on a local cluster (`workers` trials at
    once) that this process starts and stops. Each task asks Ray for `cpus_per_trial` CPUs and
    `gpus_per_trial` GPUs (fractions allowed: 0.5 = two children share a GPU); Ray then sets the
    task's CUDA_VISIBLE_DEVICES. With --device cuda and no --gpus-per-trial, a child asks for 1 GPU."""

    def __init__(self, workers: int = 1, address: str | None = None, device: str = "cpu", amp: bool = False,
                 gpus_per_trial: float | None = None, cpus_per_trial: float | None = None):
        try:
            import ray
        except ImportError:
            raise NasError("--executor ray needs Ray: pip install 'nasdsl[ray]'") from None
        self.ray = ray
        self.workers = workers
        self.hardware = {"device": check_device(device), "amp": amp}
        cpus = 1.0 if cpus_per_trial is None else cpus_per_trial
        if cpus <= 0 or (gpus_per_trial is not None and gpus_per_trial < 0):
            raise NasError(f"--cpus-per-trial must be positive and --gpus-per-trial not negative "
                           f"(got {cpus}, {gpus_per_trial})")
        # Workers import `search` and `nasdsl` from where this process found them.
        root = str(Path(__file__).resolve().parent.parent)
        env = {"env_vars": {"PYTHONPATH": os.pathsep.join([root, *os.environ.get("PYTHONPATH", "").split(os.pathsep)]).rstrip(os.pathsep)}}
        self._started = not ray.is_initialized()
        if self._started:
            try:
                if address:
                    ray.init(address=address, runtime_env=env, logging_level="ERROR", log_to_driver=False)
                else:
                    ray.init(num_cpus=max(1, math.ceil(workers * cpus)), include_dashboard=False, runtime_env=env,
                             logging_level="ERROR", log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise NasError(f"cannot start or reach a Ray cluster{f' at {address}' if address else ''}: {e}") from None
        gpus = gpus_per_trial
        if gpus is None:  # cuda: one GPU per child; auto: one where the cluster has GPUs
            has_gpus = device == "auto" and ray.cluster_resources().get("GPU", 0) > 0
            gpus = 1.0 if device.startswith("cuda") or has_gpus else 0.0
        self.resources = {"num_cpus": cpus, "num_gpus": gpus}
        self._task = ray.remote(num_cpus=cpus, num_gpus=gpus, max_retries=MAX_ATTEMPTS - 1)(run_trial)
        self._refs: dict[Any, dict[str, Any]] = {}

    def submit(self, payload: dict[str, Any]) -> None:
        self._refs[self._task.remote({**payload, **self.hardware})] = payload

    @property
    def running(self) -> int:
        return len(self._refs)

    def poll(self, timeout: float) -> list[dict[str, Any]]:
        if not self._refs:
            return []
        ready, _ = self.ray.wait(list(self._refs), num_returns=len(self._refs), timeout=timeout)
        if not ready:
            ready, _ = self.ray.wait(list(self._refs), num_returns=1, timeout=0)
        results = []
        for ref in ready:
            payload = self._refs.pop(ref)
            try:
                results.append(self.ray.get(ref))
            except Exception as e:  # noqa: BLE001 - worker crash, out of memory, ...
                results.append(_crashed(payload, f"ray task failed: {type(e).__name__}: {e}"))
        return results

    def shutdown(self) -> None:
        for ref in self._refs:
            self.ray.cancel(ref, force=True)
        if self._started:
            self.ray.shutdown()


def make_executor(name: str | Executor, workers: int, address: str | None = None, device: str = "cpu",
                  amp: bool = False, gpus_per_trial: float | None = None,
                  cpus_per_trial: float | None = None) -> Executor:
    """An executor by name (an Executor passes through, already made by the caller)."""
    if isinstance(name, Executor):
        return name
    if name == "local":
        if address:
            raise NasError("--address is for --executor ray")
        if gpus_per_trial is not None or cpus_per_trial is not None:
            raise NasError("--gpus-per-trial and --cpus-per-trial are for --executor ray "
                           "(the local pool runs one child per worker; use --threads)")
        return LocalExecutor(workers, device, amp)
    if name == "ray":
        return RayExecutor(workers, address, device, amp, gpus_per_trial, cpus_per_trial)
    raise NasError(f"unknown executor {name!r}; known: {', '.join(EXECUTORS)}")


def default_threads(workers: int) -> int:
    """Intra-op threads per trial so that the workers share the machine's cores."""
    return max(1, (os.cpu_count() or 1) // max(workers, 1))


