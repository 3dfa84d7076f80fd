"""Where trials run: `local` (a process pool) or `ray` (Ray tasks). Both run `trial.run_trial`
on plain-data payloads and hand back plain-data results; a worker that dies is a failed trial."""
from __future__ import annotations

import atexit
import concurrent.futures as cf
import contextlib
import math
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from nasdsl.errors import NasError

from .devices import check_device, cuda_count, pin_worker
from .lifetime import (
    REAP_TOKEN,
    Guardian,
    Interrupted,
    die_with_parent,
    kill_all,
    reclaim_signals,
    worker_context,
)
from .trial import run_trial, where

EXECUTORS = ("local", "ray")
MAX_ATTEMPTS = 2  # a trial whose worker dies is retried once, then stored as failed
BROKEN_POOL_EXIT_S = 5.0  # how long a broken local pool's workers are given to exit (it terminates them)
LOST_AFTER_S = float(os.environ.get("NASDSL_RAY_LOST_AFTER", 30))  # Ray: head unreachable this long = lost
EXIT_CLUSTER_LOST = 2  # the exit status of a process whose Ray cluster was lost (as for any NasError)


class ClusterLost(NasError):
    """The Ray cluster went away under a running search (head down, network cut): the run stops and
    `--resume` continues it on a cluster that is back."""


def _crashed(payload: dict[str, Any], why: str) -> dict[str, Any]:
    now = time.time()
    return {"trial": payload["trial"], "status": "failed", "reward": None, "params": None,
            "error": why, "started": now, "finished": now, "seconds": 0.0, "pid": None}


def _job(payload: dict[str, Any]) -> tuple[int, int | None]:
    """A job's identity: its trial, and under early stopping the rung it trains to."""
    return payload["trial"], payload.get("rung")


_STARTED = None  # in a local pool worker: the queue on which it tells the driver which job it runs


def _start_worker(parent: int, pinning: tuple | None, started=None) -> None:
    """Pool initializer: die with the driver; see one GPU when there are several; say on `started`
    which job this process runs (`_run_local`)."""
    global _STARTED
    die_with_parent(parent)
    _STARTED = started
    if pinning:
        pin_worker(*pinning)


def _run_local(payload: dict[str, Any]) -> dict[str, Any]:
    """`run_trial` in a local pool worker, which first tells the driver its job and pid: a worker that
    dies breaks the pool under every job, and only the dead worker's job is charged the attempt."""
    if _STARTED is not None:
        _STARTED.put((_job(payload), os.getpid()))
    return run_trial(payload)


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

    def describe(self) -> dict[str, Any]:
        """Where this session runs trials (stored in the run table as "cluster", shown by `report`)."""
        return {"executor": type(self).__name__, "host": socket.gethostname()}

    def capacity_note(self) -> str:
        """A line for the user when fewer than `workers` trials can run at once ("" otherwise)."""
        return ""


class LocalExecutor(Executor):
    """A pool of `workers` spawned processes. Children on CUDA with several GPUs: each worker is
    pinned to one of them, round-robin (it sees only that one, as cuda:0)."""

    def __init__(self, workers: int = 1, device: str = "cpu", amp: bool = False):
        if workers < 1:
            raise NasError(f"--workers must be at least 1, got {workers}")
        self.workers = workers
        self.hardware = {"device": check_device(device), "amp": amp}
        gpus = cuda_count() if device in ("auto", "cuda") else 0
        self._pinning = (worker_context().Value("i", 0), list(range(gpus))) if gpus > 1 else None
        self._pool = self._new_pool()
        self._futures: dict[cf.Future, dict[str, Any]] = {}
        self._attempts: dict[tuple[int, int | None], int] = {}
        self._pid_of: dict[tuple[int, int | None], int] = {}  # the worker each job last started in

    def describe(self) -> dict[str, Any]:
        return {"executor": "local", "host": socket.gethostname(), "workers": self.workers}

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        # each worker dies with this process, even when it is killed with -9 (lifetime.die_with_parent),
        # and with several GPUs sees one of them, round-robin (devices.pin_worker); a new queue for
        # each pool (a worker killed while writing may leave the old one's lock taken)
        context = worker_context()
        self._started = context.SimpleQueue()
        return cf.ProcessPoolExecutor(self.workers, mp_context=context, initializer=_start_worker,
                                      initargs=(os.getpid(), self._pinning, self._started))

    def submit(self, payload: dict[str, Any]) -> None:
        key = _job(payload)
        self._attempts[key] = self._attempts.get(key, 0) + 1
        self._futures[self._pool.submit(_run_local, {**payload, **self.hardware})] = payload
        # CPython 3.11 wakes the pool's manager thread before it spawns the worker a submit may add,
        # so that worker's death could go unnoticed until some other event: wake it once more
        wakeup = getattr(self._pool, "_executor_manager_thread_wakeup", None)
        if wakeup is not None:
            wakeup.wakeup()

    def _read_started(self) -> None:
        """Which worker each job in flight started in, from the pool's queue."""
        live = {_job(payload) for payload in self._futures.values()}
        self._pid_of = {job: pid for job, pid in self._pid_of.items() if job in live}
        while not self._started.empty():
            job, pid = self._started.get()
            self._pid_of[job] = pid

    def _died(self) -> set[int]:
        """The pids of this broken pool's workers that died on their own (killed, out of memory,
        crashed), told from those the pool stops (SIGTERM) once all have exited (the pool may report
        the break before the dead worker can be reaped); empty if none can be told apart."""
        processes = list((getattr(self._pool, "_processes", None) or {}).items())
        deadline = time.time() + BROKEN_POOL_EXIT_S
        while any(p.exitcode is None for _, p in processes) and time.time() < deadline:
            time.sleep(0.02)
        return {pid for pid, p in processes if p.exitcode not in (None, -signal.SIGTERM)}

    @property
    def running(self) -> int:
        return len(self._futures)

    def poll(self, timeout: float) -> list[dict[str, Any]]:
        if not self._futures:
            return []
        done, _ = cf.wait(list(self._futures), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        self._read_started()  # every poll: the pipe behind the queue must never fill up
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
            died = self._died()
            self._pool.shutdown(wait=False, cancel_futures=True)
            for fut, payload in list(self._futures.items()):
                retry.append(payload)
                del self._futures[fut]
            self._pool = self._new_pool()
            for payload in retry:
                if died and self._pid_of.get(_job(payload)) not in died:
                    self._attempts[_job(payload)] -= 1  # stopped with the pool, not by its own death
                if self._attempts[_job(payload)] >= MAX_ATTEMPTS:  # it died here, in the worker we know
                    results.append({**_crashed(payload, "worker process died (killed or out of memory)"),
                                    **where(), "pid": self._pid_of.get(_job(payload))})
                else:
                    self.submit(payload)
        return results

    def shutdown(self) -> None:
        """Cancel what has not started and stop every worker now (a trial in flight is abandoned)."""
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        kill_all(processes)


class RayExecutor(Executor):
    """Trials as Ray tasks on the cluster at `address` ("auto": the cluster this machine belongs to),
    or on a local cluster (`workers` trials at once) that this process starts and stops. Each task
    asks Ray for `cpus_per_trial` CPUs and `gpus_per_trial` GPUs (fractions allowed: 0.5 = two
    children share a GPU); Ray then sets the task's CUDA_VISIBLE_DEVICES. With --device cuda and no
    --gpus-per-trial, a child asks for 1 GPU. A request that no node of the cluster can meet is
    refused before anything is submitted.

    A node that dies takes its running trials with it: Ray runs each again once on the nodes left
    (MAX_ATTEMPTS), then it is stored as failed with Ray's reason. If the cluster itself is lost
    (head down, connection cut), `poll` raises ClusterLost within `lost_after` seconds."""

    def __init__(self, workers: int = 1, address: str | None = None, device: str = "cpu", amp: bool = False,
                 gpus_per_trial: float | None = None, cpus_per_trial: float | None = None,
                 lost_after: float = LOST_AFTER_S):
        try:
            import ray
        except ImportError:
            raise NasError("--executor ray needs Ray: pip install 'nasdsl[ray]'") from None
        self.ray = ray
        self._lost = False
        self.workers = workers
        self.lost_after = lost_after
        self.hardware = {"device": check_device(device), "amp": amp}
        cpus = 1.0 if cpus_per_trial is None else cpus_per_trial
        check_resources(cpus_per_trial, gpus_per_trial)
        # Workers import `nasdsl` and `nasdsl_search` from where this process found them: the folder
        # holding this package (site-packages; or the repo, where an editable install's finder maps
        # nasdsl_search to search/).
        root = str(Path(__file__).resolve().parent.parent)
        env = {"env_vars": {"PYTHONPATH": os.pathsep.join([root, *os.environ.get("PYTHONPATH", "").split(os.pathsep)]).rstrip(os.pathsep)}}
        self._started = not ray.is_initialized()
        self._guardian: Guardian | None = None
        if self._started and address:
            target = _resolve(address)
            if target and not _reachable(target):  # ray.init would retry for minutes
                raise NasError(f"cannot reach the Ray cluster at {address}"
                               f"{f' ({target})' if target != address else ''}: nothing answers there; "
                               "start its head (ray start --head) or check --address")
        if self._started:
            try:
                if address:
                    ray.init(address=address, runtime_env=env, logging_level="ERROR", log_to_driver=False)
                else:  # a cluster of our own: its processes go when this one does, even after kill -9;
                    # "local", or Ray joins the cluster in $RAY_ADDRESS or the last one `ray start` made here
                    self._guardian = Guardian()
                    with _environ(REAP_TOKEN, self._guardian.token):
                        ray.init(address="local", num_cpus=max(1, math.ceil(workers * cpus)), include_dashboard=False,
                                 runtime_env=env, logging_level="ERROR", log_to_driver=False)
            except SystemExit as e:  # ray.init's own SIGTERM handler (sys.exit) ran before ours was back
                if e.code != signal.SIGTERM:
                    raise
                raise Interrupted(signal.SIGTERM) from None
            except (ConnectionError, RuntimeError, ValueError, TimeoutError) as e:
                where = f" at {address}" if address else ""
                hint = ("; is its head running, and, where the cluster uses token auth (`ray start --head` "
                        "does by default), is RAY_AUTH_MODE=token set here, with the cluster's token in "
                        "RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token?") if address else ""
                raise NasError(f"cannot start or reach a Ray cluster{where}: {_first_line(e)}{hint}") from None
            finally:
                reclaim_signals()  # SIGTERM and SIGHUP stop the search again, with its resume line
        self.address = address or "local"
        gpus = gpus_per_trial
        if gpus is None:  # cuda: one GPU per child; auto: one where the cluster has GPUs
            has_gpus = device == "auto" and ray.cluster_resources().get("GPU", 0) > 0
            gpus = 1.0 if device.startswith("cuda") or has_gpus else 0.0
        self.resources = {"num_cpus": cpus, "num_gpus": gpus}
        try:
            self._check_fits(cpus, gpus)
        except NasError:
            self.shutdown()
            raise
        self._task = ray.remote(num_cpus=cpus, num_gpus=gpus, max_retries=MAX_ATTEMPTS - 1)(_run_on_ray)
        self._refs: dict[Any, dict[str, Any]] = {}
        self._gcs = getattr(ray.get_runtime_context(), "gcs_address", None)
        self._gcs_lost_since: float | None = None
        self._probed = 0.0

    def _alive_nodes(self) -> list[dict[str, Any]]:
        return [n for n in self.ray.nodes() if n.get("Alive")]

    def _check_fits(self, cpus: float, gpus: float) -> None:
        """Refuse a trial that no alive node can hold: Ray would keep it pending forever."""
        nodes = self._alive_nodes()
        if any(n["Resources"].get("CPU", 0) >= cpus and n["Resources"].get("GPU", 0) >= gpus for n in nodes):
            return
        have = ", ".join(f"{n['NodeManagerAddress']}: {n['Resources'].get('CPU', 0):g} CPU, "
                         f"{n['Resources'].get('GPU', 0):g} GPU" for n in nodes) or "no alive node"
        raise NasError(f"no node of the Ray cluster at {self.address} has {cpus:g} CPU and {gpus:g} GPU for one "
                       f"trial ({have}); lower --cpus-per-trial/--gpus-per-trial or use --device cpu")

    def capacity(self) -> int:
        """How many trials the cluster's alive nodes hold at once, each node counted whole (other
        jobs on a shared cluster may take some)."""
        cpus, gpus = self.resources["num_cpus"], self.resources["num_gpus"]
        fits = 0
        for n in self._alive_nodes():
            have = n["Resources"]
            by_cpu = math.floor(have.get("CPU", 0) / cpus + 1e-9) if cpus else self.workers
            by_gpu = math.floor(have.get("GPU", 0) / gpus + 1e-9) if gpus else self.workers
            fits += min(by_cpu, by_gpu)
        return fits

    def capacity_note(self) -> str:
        fits = self.capacity()
        if fits >= self.workers:
            return ""
        gpus = self.resources["num_gpus"]
        each = f"{self.resources['num_cpus']:g} CPU" + (f" and {gpus:g} GPU" if gpus else "")
        return (f"note: the Ray cluster at {self.address} holds {fits} trial{'s' if fits != 1 else ''} of {each} "
                f"at once; --workers {self.workers} leaves {self.workers - fits} waiting for a place")

    def describe(self) -> dict[str, Any]:
        """The cluster as this session found it: address, nodes and their resources."""
        ctx = self.ray.get_runtime_context()
        return {"executor": "ray", "address": self.address, "gcs": getattr(ctx, "gcs_address", None),
                "started_here": self.address == "local",
                "resources_per_trial": self.resources,
                "nodes": [{"node": n["NodeID"], "ip": n["NodeManagerAddress"], "host": n.get("NodeManagerHostname"),
                           "cpus": n["Resources"].get("CPU", 0), "gpus": n["Resources"].get("GPU", 0)}
                          for n in self._alive_nodes()]}

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
            except self.ray.exceptions.LocalRayletDiedError:
                # this machine's own Ray node is gone: every later trial would fail at once; the ones
                # in flight (and any finished beside them) run again on --resume
                self._lost = True
                raise ClusterLost(f"lost this machine's Ray node (its raylet died) in the cluster at "
                                  f"{self.address}; continue with --resume") from None
            except Exception as e:  # noqa: BLE001 - worker crash, node died, out of memory, ...
                results.append(_crashed(payload, f"ray task failed: {type(e).__name__}: {_first_line(e)}"))
        if not results:
            self._check_cluster()
        return results

    def _check_cluster(self) -> None:
        """Raise ClusterLost once the head's GCS port has refused or ignored us for `lost_after`
        seconds (a plain TCP probe: Ray's own calls block for a minute, then end the process)."""
        now = time.monotonic()
        if now - self._probed < 1.0:
            return
        self._probed = now
        if _reachable(self._gcs):
            self._gcs_lost_since = None
            return
        self._gcs_lost_since = self._gcs_lost_since or now
        if now - self._gcs_lost_since >= self.lost_after:
            self._lost = True
            raise ClusterLost(f"lost the Ray cluster at {self.address} (head {self._gcs} unreachable for "
                              f"{self.lost_after:.0f} s); start it again and continue with --resume")

    def shutdown(self) -> None:
        if self._lost:  # every Ray call would wait for the head (a minute), so make none; and at exit
            # skip Ray's teardown too (its core worker crashes without a head): leave with status 2
            atexit.unregister(self.ray.shutdown)
            atexit.register(_leave, EXIT_CLUSTER_LOST)
            return
        if self._guardian is None:  # a cluster of our own goes with its tasks: no force-cancel, which could
            for ref in getattr(self, "_refs", {}):  # meet a reply in flight (Ray: "Tried to complete task
                with contextlib.suppress(Exception):  # that was not pending", exit 1)
                    self.ray.cancel(ref, force=True)
        if self._started:
            self.ray.shutdown()
        if self._guardian is not None:
            self._guardian.release()
            self._guardian = None


def _leave(code: int) -> None:
    """Last at-exit step after the cluster was lost: flush and end the process now."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def check_resources(cpus_per_trial: float | None, gpus_per_trial: float | None) -> None:
    """--cpus-per-trial positive and --gpus-per-trial not negative, finite, in Ray's steps of 0.0001."""
    for flag, value, low in (("--cpus-per-trial", cpus_per_trial, "positive"),
                             ("--gpus-per-trial", gpus_per_trial, "not negative")):
        if value is None:
            continue
        if not math.isfinite(value) or value < 0 or (value == 0 and flag == "--cpus-per-trial"):
            raise NasError(f"{flag} must be a finite number, {low}, got {value:g}")
        if abs(value * 10_000 - round(value * 10_000)) > 1e-6:
            raise NasError(f"{flag} must be a multiple of 0.0001 (Ray's finest fraction), got {value:g}")


def _resolve(address: str) -> str | None:
    """The HOST:PORT that `address` names for Ray: "auto" is $RAY_ADDRESS when set; None when only Ray
    can tell (auto without it, ray:// client addresses)."""
    if address == "auto":
        address = os.environ.get("RAY_ADDRESS") or ""
    if not address or "://" in address or ":" not in address:
        return None
    return address


def _reachable(address: str | None, timeout: float = 2.0) -> bool:
    """Whether a TCP connection to HOST:PORT opens."""
    if not address:
        return True
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
        return True
    except (OSError, ValueError):
        return False


def _run_on_ray(payload: dict[str, Any]) -> dict[str, Any]:
    """`run_trial` in a Ray task; the result says which Ray node ran it."""
    import ray

    from .trial import where

    place = {**where(), "node": ray.get_runtime_context().get_node_id(), "ip": ray.util.get_node_ip_address()}
    return run_trial(payload, place)


@contextlib.contextmanager
def _environ(key: str, value: str):
    """os.environ[key] = value while the block runs (what processes started in it inherit)."""
    before = os.environ.get(key)
    os.environ[key] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before


def _first_line(e: BaseException) -> str:
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return lines[0] if lines else type(e).__name__


def make_executor(name: str | Executor, workers: int, address: str | None = None, device: str = "cpu",
                  amp: bool = False, gpus_per_trial: float | None = None,
                  cpus_per_trial: float | None = None) -> Executor:
    """An executor by name (an Executor passes through, already made by the caller)."""
    if isinstance(name, Executor):
        return name
    check_executor(name, address, gpus_per_trial, cpus_per_trial)
    if name == "local":
        return LocalExecutor(workers, device, amp)
    return RayExecutor(workers, address, device, amp, gpus_per_trial, cpus_per_trial)


def check_executor(name: str, address: str | None = None, gpus_per_trial: float | None = None,
                   cpus_per_trial: float | None = None) -> None:
    """The executor settings that need no cluster to be refused."""
    if name not in EXECUTORS:
        raise NasError(f"unknown executor {name!r}; known: {', '.join(EXECUTORS)}")
    if address is not None and not address.strip():
        raise NasError("--address needs HOST:PORT or auto (leave it out for a local cluster)")
    target = _resolve(address) if address else None
    port = target.rpartition(":")[2] if target else ""
    if target and not (port.isdigit() and 0 < int(port) < 65536):
        raise NasError(f"--address {address}: {port!r} is not a port (1-65535)")
    if name == "local":
        if address:
            raise NasError("--address is for --executor ray")
        if gpus_per_trial is not None or cpus_per_trial is not None:
            raise NasError("--gpus-per-trial and --cpus-per-trial are for --executor ray "
                           "(the local pool runs one child per worker; use --threads)")
    check_resources(cpus_per_trial, gpus_per_trial)


def default_threads(workers: int) -> int:
    """Intra-op threads per trial so that the workers share the machine's cores."""
    return max(1, (os.cpu_count() or 1) // max(workers, 1))


