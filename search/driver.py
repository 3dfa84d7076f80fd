"""The search loop: propose -> budget check -> run on an executor -> store -> learn, resumable.

Every proposal and every finished trial is one store transaction together with the strategy's
state, so after a kill (even -9) `resume` finds the strategy exactly as it was when the last
trial was recorded; trials that were running are run again under their own ids.
"""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from nasdsl.cli.dispatch import FLAG_BOUNDS, check_bound
from nasdsl.errors import NasError
from nasdsl.lang.spec import MAX_IMAGE

from .best import TRANSFER_NAMES, TRANSFERS, transfer_settings, write_best
from .executors import default_threads, make_executor
from .lifetime import Deadline, held, interruptible, stop_point
from .progress import Progress
from .runlock import check_run_folder, lock_run_folder
from .scheduler import SCHEDULERS, Asha, rung_epochs
from .space import CELL_NAMES, ProxyNet, Space, cell_text, load_space, network_text, space_from_dict, to_nas
from .store import Store, dump_state, load_state, refuse_run, require_run
from .strategies import STRATEGIES, StrategyOptions, make_strategy
from .synthetic import target
from .trainer import SettingError, TrainConfig, check_steps, training_steps
from .trial import child_data, data_settings, trial_payload

CHECKPOINTS = "checkpoints"  # run-folder sub-folder: one file per trial that ASHA may still train on
BUDGET_NETWORKS = ("proxy", *TRANSFER_NAMES)  # the proxy child, or a transfer of the space's skeleton
REWARDS = ("accuracy", "synthetic")
REDRAWS = 100  # over-budget proposals a strategy that does not learn from failures draws again, per trial


# The default proxy task, chosen for signal (benchmarks/proxy_signal.py; README "A proxy that ranks
# cells"): digits with 300 training images and the other 1497 held out, 4 epochs, the reward the
# mean of 2 trainings, each scored with batch-norm statistics recomputed on its training images
# (PreciseBN): with the running averages, after 4 epochs of 5-8 steps most cells scored near chance
# in eval mode while they classified 0.8-0.96 of the held-out digits, so the reward ranked how fast
# the averages caught up, not the cell. Over 30 random nasnet cells two such rewards rank the cells
# alike (Spearman 0.94, 0.76 within the better half).
PROXY_VAL_SIZE = 1497
PROXY_EPOCHS = 4
PROXY_REPEATS = 2
PROXY_PRECISE_BN = 1024  # images: all 300 here; on a larger data set a small share of an epoch


# flag (argparse dest) -> (section of SearchConfig, field): every one of them defines a run, so `search
# --resume` refuses them, and each number is held to the flag's bounds (dispatch.FLAG_BOUNDS) however
# the config was made: flags, nasdsl.search, or a store written before a bound existed
RUN_FLAGS: dict[str, tuple[str | None, str]] = {
    "strategy": (None, "strategy"), "space": (None, "space"), "seed": (None, "seed"),
    "reward": (None, "reward"), "dataset": (None, "dataset"), "val_size": (None, "val_size"),
    "train_size": (None, "train_size"), "repeats": (None, "repeats"), "image": (None, "image"), "augment": (None, "augment"), "max_params": (None, "max_params"), "max_madds": (None, "max_madds"),
    "budget_on": (None, "budget_on"),
    "scheduler": (None, "scheduler"), "min_epochs": (None, "min_epochs"), "reduction": (None, "reduction"),
    "max_epochs": ("train", "epochs"),
    "cells": ("proxy", "cells"), "filters": ("proxy", "filters"), "stem_multiplier": ("proxy", "stem_multiplier"),
    "epochs": ("train", "epochs"), "batch_size": ("train", "batch_size"), "lr": ("train", "lr"),
    "momentum": ("train", "momentum"), "weight_decay": ("train", "weight_decay"),
    "precise_bn": ("train", "precise_bn"),
    "controller_lr": ("options", "lr"), "entropy_weight": ("options", "entropy_weight"),
    "baseline_decay": ("options", "baseline_decay"), "controller_batch": ("options", "batch"),
    "lstm_units": ("options", "units"), "init_range": ("options", "init_range"),
    "tanh_constant": ("options", "tanh_constant"), "op_tanh_reduce": ("options", "op_tanh_reduce"),
    "ppo_epochs": ("options", "ppo_epochs"), "ppo_clip": ("options", "ppo_clip"),
    "population": ("options", "population"), "sample_size": ("options", "sample_size"),
    "failed_reward": ("options", "failed_reward"),
}


@dataclass(frozen=True)
class SearchConfig:
    """Everything that defines a run (stored in the run folder; `--resume` reads it back)."""

    strategy: str = "ppo"
    space: str = "nasnet"
    trials: int = 60
    seed: int = 0
    reward: str = "accuracy"  # accuracy: train the child; synthetic: no training (tests, demos)
    dataset: str = "digits"
    val_size: int | None = PROXY_VAL_SIZE  # None: the data set's own split
    train_size: int | None = None
    image: int | None = None  # children's input size (None: the data set's own)
    augment: str = "auto"  # nasdsl_search.augment: the data set family's default, or a name
    repeats: int = PROXY_REPEATS  # a child's reward: the mean held-out accuracy of this many trainings (seeds)
    proxy: ProxyNet = field(default_factory=ProxyNet)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=PROXY_EPOCHS, precise_bn=PROXY_PRECISE_BN))
    options: StrategyOptions = field(default_factory=StrategyOptions)
    max_params: int | None = None
    max_madds: int | None = None
    budget_on: str = "proxy"
    scheduler: str = "none"  # asha: early stopping over rungs of epochs, up to train.epochs
    min_epochs: int = 1  # the bottom rung (asha)
    reduction: int = 3  # eta: the top 1/eta of a rung goes on, with eta times the epochs (asha)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict[str, Any]) -> SearchConfig:
        d = dict(d)
        d.setdefault("repeats", 1)  # stored before the setting existed: one training per child
        d["proxy"] = ProxyNet(**d.get("proxy", {}))
        d["train"] = TrainConfig(**d.get("train", {}))
        d["options"] = StrategyOptions(**d.get("options", {}))
        known = {f.name for f in fields(SearchConfig)}
        return SearchConfig(**{k: v for k, v in d.items() if k in known})

    def check(self) -> None:
        if self.strategy not in STRATEGIES:
            make_strategy(self.strategy, None, 0)  # raises the NasError listing the strategies
        check_bound("trials", self.trials)
        for flag, (section, name) in RUN_FLAGS.items():  # every number within its flag's bounds
            if flag in FLAG_BOUNDS and section != "train":  # (the training recipe: TrainConfig.check)
                check_bound(flag, getattr(self if section is None else getattr(self, section), name))
        if self.reward not in REWARDS:
            raise NasError(f"unknown reward {self.reward!r}; known: {', '.join(REWARDS)}")
        if self.budget_on not in BUDGET_NETWORKS:
            raise NasError(f"--budget-on must be one of {', '.join(BUDGET_NETWORKS)}")
        if self.budget_on != "proxy" and self.max_params is None and self.max_madds is None:
            raise NasError(f"--budget-on {self.budget_on} only applies with --max-params or --max-madds")
        try:
            self.train.check()
        except SettingError as e:
            raise NasError(e.flag_message()) from None
        if self.scheduler not in SCHEDULERS:
            raise NasError(f"unknown scheduler {self.scheduler!r}; known: {', '.join(SCHEDULERS)}")
        if self.scheduler == "asha":
            rung_epochs(self.min_epochs, self.train.epochs, self.reduction)  # raises for bad settings

    def rungs(self) -> tuple[int, ...] | None:
        """The rungs' epoch counts under --scheduler asha, else None."""
        return rung_epochs(self.min_epochs, self.train.epochs, self.reduction) if self.scheduler == "asha" else None


def _checked_config(d: dict[str, Any]) -> SearchConfig:
    """A stored configuration, checked (a damaged value of the wrong type raises TypeError here)."""
    config = SearchConfig.from_dict(d)
    config.check()
    return config


def space_of(config: SearchConfig) -> Space:
    """The space `config.space` names, read from its source now (a new run's: see `run_space`)."""
    return checked_space(config, load_space(config.space))


def checked_space(config: SearchConfig, space: Space) -> Space:
    """`space`, whose skeleton must have the network the budget applies to."""
    transfers = TRANSFERS[space.skeleton]
    if config.budget_on not in ("proxy", *transfers):
        raise NasError(f"--budget-on {config.budget_on}: space {space.name!r} trains on the "
                       f"{space.skeleton} skeleton, whose networks are proxy, {', '.join(transfers)}")
    return space


def run_space(store: Store, config: SearchConfig) -> Space:
    """A resumed run's space: the one its store kept when the run was made, whatever its source holds
    now (a .nas file edited or removed since, a relative path read from another directory). A run
    folder made before spaces were kept gets its source's, kept from now on."""
    space = store.stored(space_from_dict, "space")
    if space is None:
        space = space_of(config)
        store.set_config(space.to_dict(), "space")
        return space
    _note_changed_source(space, config.space)
    return checked_space(config, space)


def _note_changed_source(space: Space, source: str) -> None:
    """One line on stderr where the run's space source still loads and now holds another space."""
    try:
        now = load_space(source)
    except NasError:  # removed, or no longer a space: the run does not need it
        return
    if now != space:
        print(f"nasdsl search: {source} has changed since this run started; the run goes on with its space as "
              "it was then (to search the new one, start a run with another --out)", file=sys.stderr)


def proxy_network(config: SearchConfig) -> ProxyNet:
    """The run's proxy network, its image size and classes taken from the data set (opening it here
    also reports bad data before any child starts)."""
    if config.reward != "accuracy":
        return config.proxy
    data = child_data(data_settings(config))  # the children's own data (opened once per process)
    try:  # and every child would end untrained, as "done"
        check_steps(training_steps(data.train, config.train.batch_size), data.train, config.train.batch_size)
    except SettingError as e:
        raise NasError(e.flag_message()) from None
    return replace(config.proxy, image=data.image, classes=data.classes)


def with_own_image(config: SearchConfig, proxy: ProxyNet) -> SearchConfig:
    """A new run's config with the data set's own image size (`image` None, taken from the data by
    `proxy_network`) written in: the size is taken once, when the run is made, and kept, so images
    added to a folder later, or a later nasdsl that samples a folder otherwise, do not change what
    the run's later children, or a resumed run's, train at."""
    if config.reward != "accuracy" or config.image is not None:
        return config
    if proxy.image > MAX_IMAGE:  # a folder of photos: every child would fail to compile
        raise NasError(f"{config.dataset}: its images' own size is {proxy.image} pixels, more than the {MAX_IMAGE} "
                       f"a network takes; give --image N (at most {MAX_IMAGE}) to resize them")
    return replace(config, image=proxy.image)


@dataclass
class RunSummary:
    folder: Path
    counts: dict[str, int]
    best_reward: float | None
    best_trial: int | None
    seconds: float
    finished: bool = True  # every trial of the budget done or failed (False: stopped by `minutes`)


class Search:
    """One run folder: its store, space, strategy and executor. `settings`: more run-table values
    that a new run's store is created with (the CLI's {"executor": ...}), in the same step as its
    config."""

    def __init__(self, folder: str | Path, config: SearchConfig | None = None, resume: bool = False,
                 trials: int | None = None, settings: dict[str, dict[str, Any]] | None = None,
                 prepare: Callable[[], Any] | None = None):
        self.folder = check_run_folder(folder)
        self._lock = None
        try:
            self._open(config, resume, trials, settings or {}, prepare)
        except BaseException:
            self.close()
            raise

    def _open(self, config: SearchConfig | None, resume: bool, trials: int | None,
              settings: dict[str, dict[str, Any]], prepare: Callable[[], Any] | None) -> None:
        self.store = None
        if resume:
            require_run(self.folder)
            self._lock = lock_run_folder(self.folder)
            self.store = Store(self.folder, create=False)
            saved = self.store.stored(_checked_config)
            if saved is None:
                raise NasError(f"{self.folder}: the store holds no run configuration to resume")
            self.store.trials()  # every row read once: a damaged one is one line now, not after more trials
            self.config = saved
            space = run_space(self.store, saved)
            self.proxy = self._proxy()
            if trials is not None and trials != self.config.trials:
                c = self.store.counts()
                if trials < c["done"] + c["failed"]:  # it stored a budget the run had already spent, silently
                    raise NasError(f"--trials {trials}: {self.folder} has {c['done'] + c['failed']} trials finished "
                                   "already; give at least that many")
                self.config = replace(self.config, trials=trials)
                self.store.set_config(self.config.to_dict())
        else:
            if config is None:
                raise ValueError("a new search needs a config")
            refuse_run(self.folder, config.dataset)
            config.check()
            space = space_of(config)  # refuse a bad space before the run folder is made
            self.proxy = proxy_network(config)  # and bad data too
            self.config = config = with_own_image(config, self.proxy)
            if prepare is not None:  # the CLI starts its executor here: a cluster it cannot reach makes no folder
                prepare()
            self._lock = lock_run_folder(self.folder)
            self.store = Store.create(self.folder, {"config": config.to_dict(), "space": space.to_dict(), **settings})
        self.config.check()
        self.space: Space = space
        self.strategy = make_strategy(self.config.strategy, self.space, self.config.seed, self.config.options)
        blob = self.store.saved_state()
        if blob is not None:
            self.strategy.load_state_dict(load_state(blob, f"{self.store.path}: table strategy_state"))
        self.synthetic_extra: dict[str, Any] = {}  # synthetic reward only: "sleep", "fail_every" (tests)
        if os.environ.get("NASDSL_SYNTHETIC_SLEEP"):  # tests of the CLI: seconds each synthetic trial takes
            self.synthetic_extra["sleep"] = float(os.environ["NASDSL_SYNTHETIC_SLEEP"])

    def _proxy(self) -> ProxyNet:
        return proxy_network(self.config)

    # -- one trial's life
    def _state(self) -> bytes:
        return dump_state(self.strategy.state_dict())

    def _trial_seed(self, trial: int) -> int:
        return (self.config.seed * 1_000_003 + trial * 7_919) % (2**31 - 1)

    def _budget(self, decisions: tuple[int, ...], nas: str) -> tuple[int | None, int | None, str | None]:
        """Static params and mult-adds of the budgeted network; an error text if over budget."""
        from nasdsl.ir.cost import cost
        from nasdsl.lang.load import load_text

        cfg = self.config
        if cfg.budget_on == "proxy":
            text, net = nas, "proxy"
        else:
            text = "\n\n".join([cell_text(self.space, decisions, "normal"), cell_text(self.space, decisions, "reduction"),
                                network_text("budget", CELL_NAMES["normal"], CELL_NAMES["reduction"],
                                             transfer_settings(self.space, decisions, cfg.budget_on))])
            net = "budget"
        c = cost(load_text(text, "<trial>"), network=net)
        params, madds = int(c.params), int(c.madds)
        if cfg.max_params is not None and params > cfg.max_params:
            return params, madds, f"over budget: {params:,} params > --max-params {cfg.max_params:,} ({cfg.budget_on})"
        if cfg.max_madds is not None and madds > cfg.max_madds:
            return params, madds, f"over budget: {madds:,} mult-adds > --max-madds {cfg.max_madds:,} ({cfg.budget_on})"
        return params, madds, None

    def _payload(self, trial: dict[str, Any], threads: int) -> dict[str, Any]:
        cfg = self.config
        if cfg.reward == "synthetic":
            return trial_payload(cfg, trial, threads,
                                 synthetic={"target": list(target(self.space, cfg.seed)), **self.synthetic_extra})
        return trial_payload(cfg, trial, threads)

    def _rung_payload(self, trial: dict[str, Any], threads: int, rung: int) -> dict[str, Any]:
        """A job of an early-stopped run: train `trial` on from its checkpoint to the rung's epochs."""
        return {**self._payload(trial, threads), "rung": rung, "until_epoch": self.config.rungs()[rung],
                "checkpoint": str(self._checkpoint(trial["id"]))}

    def _checkpoint(self, trial: int) -> Path:
        return self.folder / CHECKPOINTS / f"trial-{trial}.pt"

    def _drop_checkpoint(self, trial: int) -> None:
        for p in (self.folder / CHECKPOINTS).glob(f"trial-{trial}.*"):  # every replicate, and .tmp files
            p.unlink(missing_ok=True)

    def _record(self, trial_id: int, decisions: tuple[int, ...], meta: dict, result: dict[str, Any]) -> None:
        reward = result["reward"] if result["status"] == "done" else None
        info = self.strategy.observe(tuple(decisions), reward, meta)
        self.store.finish_trial(trial_id, result, self._state(), self.strategy.observed, self.strategy.updates, info)

    def _propose(self) -> tuple[dict[str, Any], bool]:
        """Propose one trial and store it; returns (trial, whether it must run). A proposal the
        compiler rejects is stored as failed at once and the strategy observes it as failed, all in
        the same transaction. So is one over budget, for a strategy that learns from failures (ppo,
        reinforce); one that does not (random, evolution) draws again instead, up to REDRAWS times,
        so that its trials are spent on children it can train (the trial's meta keeps `redrawn`)."""
        redrawn = 0
        while True:
            decisions, meta = self.strategy.propose()
            nas, params, madds, error, over = self._check(decisions)
            if not over or self.strategy.learns_from_failures or redrawn == REDRAWS:
                break
            redrawn += 1
        if redrawn:
            meta = {**meta, "redrawn": redrawn}
            if over:
                error += f"; so were the {redrawn} proposals drawn before it"
        finished = info = None
        if error is not None:
            now = time.time()
            finished = {"status": "failed", "reward": None, "error": error, "started": now, "finished": now,
                        "seconds": 0.0}
            info = self.strategy.observe(tuple(decisions), None, meta)
        tid, seed = self.store.add_trial(self.strategy.name, nas, decisions, meta, self._trial_seed, params, madds,
                                         self._state(), self.strategy.observed, self.strategy.updates,
                                         finished, info)
        trial = {"id": tid, "nas": nas, "decisions": list(decisions), "meta": meta, "seed": seed}
        return trial, error is None

    def _check(self, decisions: tuple[int, ...]) -> tuple[str, int | None, int | None, str | None, bool]:
        """A proposal's program, static cost and error text (None: fine), and whether it is over budget."""
        nas = to_nas(self.space, decisions, self.proxy)
        if not self._needs_cost():
            return nas, None, None, None, False
        try:
            params, madds, error = self._budget(decisions, nas)
        except NasError as e:
            return nas, None, None, f"invalid architecture: {e}", False
        return nas, params, madds, error, error is not None

    def _needs_cost(self) -> bool:
        return self.config.reward == "accuracy" or self.config.max_params is not None \
            or self.config.max_madds is not None

    # -- the loop
    @interruptible
    def run(self, executor: str = "local", workers: int = 1, address: str | None = None,
            threads: int | None = None, progress: bool = True, minutes: float | None = None) -> RunSummary:
        """Run until the configured number of trials have finished (done or failed), or, with
        `minutes`, until that much wall time has passed in this call: then nothing new starts
        (no proposal, no promotion) and the jobs in flight finish; `--resume` goes on from there."""
        start = time.time()
        self._deadline = Deadline(minutes)
        threads = threads or default_threads(workers)
        bar = Progress(self.config.trials, enabled=progress)
        # a stop signal is taken between two steps of the loop (stop_point), never in the middle of one:
        # not inside the pool's or a queue's locks, nor in the pool's shutdown (a thread left waiting)
        with held():
            ex = make_executor(executor, workers, address)
            try:
                if self.config.scheduler == "asha":
                    self._loop_asha(ex, workers, threads, bar)
                else:
                    self._loop(ex, workers, threads, bar)
            finally:
                ex.shutdown()
                bar.close()
            self.write_best()
            top, c = self.store.best(1), self.store.counts()
        return RunSummary(self.folder, c, top[0]["reward"] if top else None, top[0]["id"] if top else None,
                          time.time() - start, c["done"] + c["failed"] >= self.config.trials)

    def _loop(self, ex, workers: int, threads: int, bar: Progress) -> None:
        """Every trial trains to the end: propose while a worker is free, record what finishes."""
        inflight: dict[int, dict[str, Any]] = {}
        best = self._best_reward()
        for t in self.store.trials("running"):  # interrupted by a kill: run them again
            inflight[t["id"]] = t
            ex.submit(self._payload(t, threads))
        while True:
            stop_point()
            while ex.running < workers and sum(self.store.counts().values()) < self.config.trials \
                    and not self._deadline.passed():
                trial, needs_run = self._propose()
                if needs_run:
                    inflight[trial["id"]] = trial
                    ex.submit(self._payload(trial, threads))
            c = self.store.counts()
            bar.update(c["done"], c["running"], c["failed"], best)
            if not inflight:
                break
            for result in ex.poll(timeout=0.5):
                t = inflight.pop(result["trial"])
                self._record(t["id"], t["decisions"], t["meta"], result)
                if result["status"] == "done" and (best is None or result["reward"] > best):
                    best = result["reward"]
                    self.write_best()

    # -- early stopping (ASHA)
    def _asha(self) -> Asha:
        """The scheduler's state rebuilt from the store: what reached which rung, what was sent on,
        which jobs were in flight (a trial still running whose last job has no result yet)."""
        asha = Asha(self.config.rungs(), self.config.reduction, self.config.trials)
        for r in self.store.rungs():
            asha.results[r["rung"]][r["trial"]] = r["accuracy"]
        last_job: dict[int, int] = {}
        for p in self.store.promotions():
            asha.promoted[p["rung"] - 1].add(p["trial"])
            last_job[p["trial"]] = max(last_job.get(p["trial"], 0), p["rung"])
        for t in self.store.trials():
            asha.started.add(t["id"])
            if t["status"] == "failed":
                asha.fail(t["id"])
            elif t["status"] == "done":
                asha.settle(t["id"])
            elif t["id"] not in asha.results[last_job.get(t["id"], 0)]:
                asha.jobs[t["id"]] = last_job.get(t["id"], 0)
        return asha

    def _settle(self, asha: Asha, trials: dict[int, dict[str, Any]]) -> None:
        """Tell the strategy about every trial that is now over (finished the top rung, or can never be
        promoted): its reward is its accuracy at the highest rung it reached. Each is one transaction."""
        settled = asha.to_settle()
        for tid in settled:
            t = trials[tid]
            first, seconds = self.store.rung_time(tid)
            result = {"status": "done", "reward": asha.accuracy(tid), "started": first, "finished": time.time(),
                      "seconds": seconds}
            self._record(tid, t["decisions"], t["meta"], result)
            asha.settle(tid)
            self._drop_checkpoint(tid)
        if settled:
            self.write_best()

    def _loop_asha(self, ex, workers: int, threads: int, bar: Progress) -> None:
        """ASHA: whenever a worker is free, promote a trial from the top 1/eta of its rung, else start
        a new one; every rung result is stored before anything is decided from it."""
        asha = self._asha()
        trials = {t["id"]: t for t in self.store.trials("running")}
        self._settle(asha, trials)  # a kill may have come between a rung result and its consequences
        folder = self.folder / CHECKPOINTS
        if folder.is_dir():  # and between settling a trial and deleting its checkpoint
            for path in folder.iterdir():
                tid = path.name.removeprefix("trial-").split(".")[0]
                if not tid.isdigit() or int(tid) in asha.settled:
                    path.unlink(missing_ok=True)
        for tid, rung in sorted(asha.jobs.items()):  # in flight when killed: on from their last checkpoint
            ex.submit(self._rung_payload(trials[tid], threads, rung))
        while True:
            stop_point()
            while ex.running < workers and not self._deadline.passed():
                job = asha.next_job()
                if job is None:
                    break
                kind, tid, rung = job
                if kind == "new":
                    trial, needs_run = self._propose()
                    tid = trial["id"]
                    asha.start(tid)
                    trials[tid] = trial
                    if not needs_run:  # rejected before training: already stored as failed
                        asha.fail(tid)
                        self._settle(asha, trials)
                        continue
                else:
                    self.store.add_promotion(tid, rung)
                    asha.promote(tid, rung - 1)
                ex.submit(self._rung_payload(trials[tid], threads, rung))
            c = self.store.counts()
            bar.update(c["done"], ex.running, c["failed"], self._best_reward(), waiting=c["running"] - ex.running)
            if ex.running == 0:
                break
            for result in ex.poll(timeout=0.5):
                tid = result["trial"]
                rung = asha.jobs[tid]
                if result["status"] == "done":
                    self.store.add_rung(tid, rung, asha.rungs[rung], result["reward"], result.get("seconds"), result)
                    asha.report(tid, rung, result["reward"])
                else:
                    asha.fail(tid)
                    self._record(tid, trials[tid]["decisions"], trials[tid]["meta"], result)
                    self._drop_checkpoint(tid)
                self._settle(asha, trials)

    def _best_reward(self) -> float | None:
        top = self.store.best(1)
        return top[0]["reward"] if top else None

    def write_best(self) -> Path | None:
        """Write best.nas (atomically) from the best finished trial, if any."""
        return write_best(self.folder, self.store, self.space, self.proxy, self.config)

    def close(self) -> None:
        close_run(self)


def close_run(run: Any) -> None:
    """Close a run's store and let go of its folder's lock (a Search, a OneShot: each has `store` and
    `_lock`, None when not taken); a stop signal waits until both are let go."""
    with held():
        if getattr(run, "store", None) is not None:
            run.store.close()
            run.store = None
        if run._lock is not None:
            run._lock.release()
            run._lock = None
