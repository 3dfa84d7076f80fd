"""The one-shot loop: train one supernet compiled from the space, search with shared weights, then
train the picks stand-alone through the ordinary trial machinery, all in one run folder.

    random-ws  each minibatch trains a uniformly sampled child; at the end `rank_samples` uniform
               architectures are ranked by shared-weight accuracy on held-out images (Li & Talwalkar)
    enas       each epoch: (a) one pass over the training split, one controller-sampled child per
               minibatch; (b) `controller_steps` REINFORCE steps of `--controller-batch` children,
               reward = shared-weight accuracy on one held-out minibatch (Pham et al.)
    darts      first order: per step one Adam step of the architecture logits on a minibatch of the
               architecture half of the training split, then one SGD step of the weights on the
               weight half; the discrete cell is derived from the logits (Liu et al.)

After the first supernet epoch, the last, and every epoch that ends at least 20x the last
checkpoint's cost after it, the supernet, optimizers, strategy and RNG states are checkpointed into
the store (search/oneshot_store.py); `--resume` continues from the last one. The top-k architectures
(by shared-weight accuracy; DARTS: the derived cell) become ordinary trials (`run_trial` payloads)
in the same store, and best.nas is written from the best of them. With a wall-time budget
(`--minutes`) nothing new starts once it is spent (no supernet epoch, no ranking, no pick);
`--resume` goes on from there. Like a multi-trial run, a one-shot run holds its folder's driver
lock (search/runlock.py), and SIGTERM, SIGHUP and SIGINT stop it with the trials in flight marked
(search/lifetime.py).
"""
from __future__ import annotations

import io
import math
import random
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from nasdsl.cli.dispatch import check_bound
from nasdsl.errors import NasError

from . import oneshot_store as os_store
from .best import write_best
from .driver import SearchConfig, close_run, proxy_network, run_space, space_of, with_own_image
from .lifetime import Deadline, interruptible, resume_command, stop_point, stopped
from .oneshot_report import planned_picks
from .progress import Progress
from .runlock import check_run_folder, lock_run_folder
from .space import Space, to_nas
from .store import Store, dump_state, load_state, refuse_run, require_run
from .strategies import STRATEGIES, make_strategy
from .strategies.darts import Darts, check_space
from .strategies.enas import ENAS_OPTIONS
from .trainer import cosine_lr
from .trial import child_data, data_settings, run_trial, trial_payload

ONESHOT = tuple(name for name, cls in STRATEGIES.items() if getattr(cls, "oneshot", False))  # random-ws, enas, darts


# defaults that differ by strategy (random-ws: README "One-shot search", rank correlation by epochs)
STRATEGY_DEFAULTS: dict[str, dict[str, Any]] = {"random-ws": {"epochs": 20}, "darts": {"lr": 0.025, "lr_min": 0.001}}


@dataclass(frozen=True)
class OneShotConfig:
    """The supernet's training and the one-shot search (child training of the picks: SearchConfig.train)."""

    epochs: int = 10  # supernet epochs (random-ws: 20, see STRATEGY_DEFAULTS)
    lr: float = 0.05  # weights: SGD, cosine to lr_min over all steps (darts: 0.025 to 0.001, DARTS's)
    lr_min: float = 0.0  # (a run stored before it was kept: 0, as it trained)
    momentum: float = 0.9
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    controller_steps: int = 30  # enas: controller steps per epoch
    rank_samples: int = 100  # random-ws, enas: architectures ranked with shared weights at the end
    eval_images: int = 500  # held-out images per shared-weight score at the end
    top_k: int = 3  # picks trained stand-alone (darts: the derived cell)
    arch_lr: float = 3e-4  # darts: Adam, betas (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    arch_warmup: int = 0  # darts: first epochs train the weights alone, the mixture at its start (PC-DARTS: 15 of 50)
    threads: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def for_strategy(strategy: str, **given: Any) -> OneShotConfig:
        """The strategy's defaults with the `given` settings (None: the default) in their place."""
        return OneShotConfig(**{**STRATEGY_DEFAULTS.get(strategy, {}), **{k: v for k, v in given.items() if v is not None}})

    @staticmethod
    def from_dict(d: dict[str, Any]) -> OneShotConfig:
        known = {f.name for f in fields(OneShotConfig)}
        return OneShotConfig(**{k: v for k, v in d.items() if k in known})

    def check(self) -> None:
        """The bounds of the CLI's flags (nasdsl.cli.dispatch.FLAG_BOUNDS), for runs made in Python too."""
        for flag, name in FLAGS.items():
            check_bound(flag, getattr(self, name))
        if self.lr_min > self.lr:
            raise NasError(f"--supernet-lr-min {self.lr_min:g} is above --supernet-lr {self.lr:g}: the cosine "
                           "would climb; give a lower --supernet-lr-min")
        if self.arch_warmup >= self.epochs:
            raise NasError(f"--arch-warmup {self.arch_warmup} leaves none of the {self.epochs} --supernet-epochs "
                           "to train the architecture weights; give a smaller --arch-warmup")
        if self.top_k > self.rank_samples:
            raise NasError(f"--top-k {self.top_k} is more than the --rank-samples {self.rank_samples} "
                           "architectures it picks from")


def is_oneshot(strategy: str) -> bool:
    return strategy in ONESHOT


SCORE_BATCH = 250  # held-out images per forward of a shared-weight score
RANK_TRIES = 5  # draws per wanted architecture before the ranking settles for fewer (an enas draw ~10 ms)


def distinct_draws(draw: Callable[[], tuple[int, ...]], n: int, tries: int) -> list[tuple[int, ...]]:
    """Up to `n` distinct architectures from `draw`, in the order first drawn, giving up after `tries`
    draws: a collapsed controller repeats itself, and scoring a repeat again tells nothing new."""
    seen: dict[tuple[int, ...], None] = {}
    for _ in range(tries):
        seen.setdefault(tuple(draw()), None)
        if len(seen) == n:
            break
    return list(seen)


def enas_defaults(config: SearchConfig, given: set[str]) -> SearchConfig:
    """ENAS's controller constants for every strategy option the user did not set."""
    return replace(config, options=replace(config.options, **{k: v for k, v in ENAS_OPTIONS.items() if k not in given}))


@dataclass
class OneShotSummary:
    """A one-shot run's end: RunSummary's fields (the trials are the stand-alone picks) and the picks."""

    folder: Path
    counts: dict[str, int]
    best_reward: float | None
    best_trial: int | None
    seconds: float
    picks: list[dict[str, Any]]
    finished: bool = True  # False: the wall-time budget stopped it first (`--resume` goes on)
    epochs: int = 0  # supernet epochs trained so far, all sessions


def _supernet(space: Space, proxy, device):
    from nasdsl.codegen.supernet import compile_supernet

    return compile_supernet(space.spec, proxy).to(device)


def _searchable(config: SearchConfig, space: Space) -> Space:
    """`space`, refused where the run's strategy cannot search it (darts: check_space)."""
    if config.strategy == "darts":
        check_space(space)
    return space


class OneShot:
    """One one-shot run folder: store, space, data, supernet, strategy."""

    # between two checkpoints the supernet trains at least this many times as long as the last one
    # took: on the default proxy an epoch (0.24 s) is 2.4x a checkpoint (0.1 s), and one after every
    # epoch made up 30% of random-ws's supernet time (benchmarks/bench_oneshot.py); a kill loses at
    # most that much training (about 2 s there) or, where epochs are longer, the epoch under way
    checkpoint_ratio = 20.0

    def __init__(self, folder: str | Path, config: SearchConfig | None = None, oneshot: OneShotConfig | None = None,
                 resume: bool = False, device: str = "cpu", threads: int | None = None):
        self.folder = check_run_folder(folder)
        self.store, self._lock = None, None
        self.unsaved: list[tuple[int, float, dict[str, Any], list]] = []  # supernet epochs finished, not stored
        try:
            self._open(config, oneshot, resume, device, threads)
        except BaseException:
            self.close()
            raise

    def _open(self, config: SearchConfig | None, oneshot: OneShotConfig | None, resume: bool, device: str,
              threads: int | None) -> None:
        """Take the run folder (its driver lock, then the store), build data, supernet and strategy,
        and load the last checkpoint; `threads`: this session's torch threads (default: as configured)."""
        from .devices import resolve_device

        self.device = resolve_device(device)  # before the run folder is taken: a missing GPU leaves none
        if resume:
            require_run(self.folder)
            self._lock = lock_run_folder(self.folder)
            self.store = Store(self.folder, create=False)
            saved, saved_os = (self.store.stored(SearchConfig.from_dict),
                               self.store.stored(OneShotConfig.from_dict, "oneshot"))
            if saved is None or saved_os is None:
                raise NasError(f"{self.folder}: no one-shot run to resume here")
            self.config, self.oneshot = saved, saved_os
            self.space = _searchable(saved, run_space(self.store, saved))
            self.proxy = proxy_network(saved)
            if threads is not None:
                self.oneshot = replace(self.oneshot, threads=threads)
        else:
            if config is None:
                raise ValueError("a new one-shot run needs a config")
            refuse_run(self.folder, config.dataset)
            oneshot = oneshot or OneShotConfig.for_strategy(config.strategy)
            oneshot.check()
            self.space = _searchable(config, space_of(config))  # before the run folder is made
            self.proxy = proxy_network(config)  # bad data, too, before the folder is made
            config = with_own_image(config, self.proxy)
            self.config, self.oneshot = config, oneshot
            self._lock = lock_run_folder(self.folder)
            self.store = Store.create(self.folder, {"config": config.to_dict(), "oneshot": oneshot.to_dict(),
                                                    "space": self.space.to_dict()})
        os_store.ensure(self.store)
        # where this session runs, for `report`: supernet and picks in this process, one at a time
        self.store.set_config({"executor": "driver", "host": socket.gethostname(), "device": str(self.device)},
                              "cluster")
        torch.set_num_threads(self.oneshot.threads)
        # the data set and split the run's children train and are scored on (their payloads' data
        # settings); the supernet trains on the training images and scores on the held-out ones
        self.data = child_data(data_settings(self.config))
        torch.manual_seed(self.config.seed)
        # channels_last, as children train (measured on the enas-space supernet, one CPU thread:
        # a training step 1.17x, a shared-weight score 1.73x faster)
        self.net = _supernet(self.space, self.proxy, self.device).to(memory_format=torch.channels_last)
        if self.config.strategy == "darts":
            self.strategy = Darts(self.space, self.config.seed, self.config.options, self.oneshot.arch_lr,
                                  self.oneshot.arch_weight_decay)
            for a in self.strategy.parameters():
                a.data = a.data.to(self.device)
        else:
            self.strategy = make_strategy(self.config.strategy, self.space, self.config.seed, self.config.options)
        self.weights_opt = torch.optim.SGD(self.net.parameters(), lr=self.oneshot.lr, momentum=self.oneshot.momentum,
                                           weight_decay=self.oneshot.weight_decay)
        self.generator = torch.Generator().manual_seed(self.config.seed)
        self.rng = random.Random(self.config.seed)  # held-out minibatches for the controller
        self.epoch, self.step = 0, 0
        self.seconds = 0.0  # search time of previous sessions
        saved = os_store.checkpoint(self.store)
        if saved is not None:
            self._load(load_state(saved[1], f"{self.store.path}: table oneshot_checkpoint, epoch {saved[0]}"))
        x, y = self.data.train.x, self.data.train.y
        if self.config.strategy == "darts":  # 50/50: weights on one half, architecture on the other
            perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(self.config.seed))
            half = len(y) // 2
            self.w_x, self.w_y = x[perm[:half]], y[perm[:half]]
            self.a_x, self.a_y = x[perm[half:]], y[perm[half:]]
        else:
            self.w_x, self.w_y = x, y
        self.v_x, self.v_y = self.data.val.x, self.data.val.y

    # -- state
    def _state(self) -> dict[str, Any]:
        buf = io.BytesIO()
        torch.save({"packed": 1, "net": os_store.pack_tensors(self.net.state_dict()),
                    "opt": os_store.pack_optimizer(self.weights_opt.state_dict())}, buf)
        return {"epoch": self.epoch, "step": self.step, "weights": buf.getvalue(),
                "strategy": dump_state(self.strategy.state_dict()), "generator": self.generator.get_state(),
                "rng": _rng_list(self.rng.getstate()), "torch_rng": torch.get_rng_state(),
                "seconds": self.seconds}

    def _load(self, state: dict[str, Any]) -> None:
        w = torch.load(io.BytesIO(state["weights"]), weights_only=True, map_location=self.device)
        if w.get("packed"):  # packed since 2026-12-04; older checkpoints hold the plain state dicts
            w = {"net": os_store.unpack_tensors(w["net"]), "opt": os_store.unpack_optimizer(w["opt"])}
        self.net.load_state_dict(w["net"])
        self.weights_opt.load_state_dict(w["opt"])
        self.strategy.load_state_dict(load_state(state["strategy"]))
        self.generator.set_state(state["generator"])
        version, internal, gauss = state["rng"]
        self.rng.setstate((version, tuple(internal), gauss))
        torch.set_rng_state(state["torch_rng"])
        self.epoch, self.step, self.seconds = int(state["epoch"]), int(state["step"]), float(state["seconds"])

    # -- pieces
    def _batches(self, n: int) -> list[torch.Tensor]:
        b = self.config.train.batch_size
        perm = torch.randperm(n, generator=self.generator)
        return [perm[i:i + b] for i in range(0, n - b + 1, b)] or [perm]

    def _lr(self, total: int) -> float:
        return cosine_lr(self.oneshot.lr, self.step, total, self.oneshot.lr_min)

    def _xy(self, x, y, idx, augment: bool = True):
        xb = x[idx]
        if augment and hasattr(self.data.train, "augment_batch"):
            xb = self.data.train.augment_batch(xb, self.generator)
        return self._images(xb), y[idx].to(self.device)

    def _images(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(self.device, memory_format=torch.channels_last)

    def _train_mode(self) -> None:
        """Batch-statistics BN for training and for every shared-weight score (the supernet never
        runs in eval mode here); set once, since train() walks its thousands of modules."""
        if not self.net.training:
            self.net.train()

    def _weight_step(self, xb, yb, total: int, arch=None, alphas=None) -> tuple[float, float]:
        for g in self.weights_opt.param_groups:
            g["lr"] = self._lr(total)
        self._train_mode()
        logits = self.net(xb, arch=arch, alphas=alphas)
        loss = F.cross_entropy(logits, yb)
        self.weights_opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.oneshot.grad_clip > 0:  # the path's weights alone (enas space: 176 of 1,710; 1.0 ms instead of 2.5)
            torch.nn.utils.clip_grad_norm_([p for p in self.net.parameters() if p.grad is not None], self.oneshot.grad_clip)
        self.weights_opt.step()
        self.step += 1
        return loss.item(), (logits.argmax(1) == yb).float().mean().item()

    @torch.no_grad()
    def shared_accuracy(self, arch, x, y, batch: int = SCORE_BATCH) -> float:
        """Accuracy of one child with the shared weights (batch-statistics BN, as ENAS evaluates)."""
        self._train_mode()
        correct = 0
        for i in range(0, len(y), batch):
            xb, yb = self._images(x[i:i + batch]), y[i:i + batch].to(self.device)
            correct += int((self.net(xb, arch=arch).argmax(1) == yb).sum())
        return correct / max(len(y), 1)

    def rank_accuracy(self, arch) -> float:
        """The score the ranking gives `arch`: shared-weight accuracy on the first `eval_images`
        held-out images."""
        n = min(self.oneshot.eval_images, len(self.v_y))
        return self.shared_accuracy(arch, self.v_x[:n], self.v_y[:n])

    def _val_minibatch(self):
        b = min(self.config.train.batch_size, len(self.v_y))
        start = self.rng.randrange(0, len(self.v_y) - b + 1)
        return self.v_x[start:start + b], self.v_y[start:start + b]

    # -- one epoch per strategy
    def _epoch(self) -> tuple[dict[str, Any], list]:
        kind = self.config.strategy
        total = max(len(self.w_y) // self.config.train.batch_size, 1) * self.oneshot.epochs
        losses, accs, scored = [], [], []
        if kind == "darts":
            arch_batches = self._batches(len(self.a_y))
            warm = self.epoch < self.oneshot.arch_warmup  # the weights alone this epoch
            alphas = self.strategy.alphas
            for i, idx in enumerate(self._batches(len(self.w_y))):
                if not warm:
                    ax, ay = self._xy(self.a_x, self.a_y, arch_batches[i % len(arch_batches)])
                    self._train_mode()
                    loss = F.cross_entropy(self.net(ax, alphas=alphas), ay)
                    self.strategy.optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    self.strategy.optimizer.step()
                xb, yb = self._xy(self.w_x, self.w_y, idx)
                detached = {k: [a.detach() for a in v] for k, v in alphas.items()}
                loss, acc = self._weight_step(xb, yb, total, alphas=detached)
                losses.append(loss)
                accs.append(acc)
            derived = self.strategy.propose()[0]
            info = {"alphas": self.strategy.weights(), "derived": list(derived)}
        else:
            for idx in self._batches(len(self.w_y)):
                arch, _ = self.strategy.propose() if kind == "enas" else (self.strategy.random_decisions(), None)
                xb, yb = self._xy(self.w_x, self.w_y, idx)
                loss, acc = self._weight_step(xb, yb, total, arch=arch)
                losses.append(loss)
                accs.append(acc)
            info = {}
            if kind == "enas":
                rewards = []
                for _ in range(self.oneshot.controller_steps * self.config.options.batch):
                    arch, meta = self.strategy.propose()
                    vx, vy = self._val_minibatch()
                    reward = self.shared_accuracy(arch, vx, vy)
                    rewards.append(reward)
                    scored.append(("controller", arch, reward))
                    update = self.strategy.observe(arch, reward, meta)
                    if update is not None:
                        info["baseline"] = update["baseline"]
                info.update(entropy=self.strategy.entropy(), mean_reward=sum(rewards) / max(len(rewards), 1))
        info.update(loss=sum(losses) / len(losses), train_accuracy=sum(accs) / len(accs))
        return info, scored

    # -- the run
    @interruptible
    def run(self, progress: bool = True, minutes: float | None = None) -> OneShotSummary:
        """Supernet, ranking, picks; with `minutes`, nothing new starts after that much wall time in
        this call (the epoch or pick under way finishes) and the summary says it did not finish."""
        o = self.oneshot
        bar = Progress(o.epochs + 1 + self.top_k, enabled=progress)
        started = time.time()
        deadline = Deadline(minutes)
        picks: list[dict[str, Any]] = []
        try:
            self.train_supernet(bar, deadline)
            if self.epoch >= o.epochs and not deadline.passed():
                picks = self._rank()[:self.top_k]
                bar.update(o.epochs + 1, 0, 0, picks[0]["shared_accuracy"] if picks else None)
                self._train_picks(picks, bar, deadline)
        finally:
            bar.close()
        self.write_best()
        trained = {tuple(t["decisions"]) for t in self.store.trials() if t["status"] != "running"}
        finished = bool(picks) and all(p["decisions"] in trained for p in picks)
        top = self.store.best(1)
        return OneShotSummary(self.folder, self.store.counts(), top[0]["reward"] if top else None,
                              top[0]["id"] if top else None, time.time() - started, picks, finished, self.epoch)

    @property
    def top_k(self) -> int:
        """Picks trained stand-alone: darts trains its one derived cell."""
        return planned_picks(self.config.strategy, self.oneshot.top_k)

    def train_supernet(self, bar: Progress | None = None, deadline: Deadline | None = None) -> None:
        """Supernet epochs up to `epochs` (resumes where the store says); none starts after `deadline`.
        A checkpoint follows the first epoch, the last, the one the deadline stops after, and any
        epoch that ends `checkpoint_ratio` times the last checkpoint's cost after it: the epochs
        between wait in memory and go into the store with the next checkpoint."""
        deadline = deadline or Deadline(None)
        # the finished epochs not in the store yet: a signal or a crash trains them again on --resume
        # (bitwise the same). Holding the state each of them ended in, to keep them on a signal, took
        # 0.06 s an epoch (a fifth of the default supernet's time, `benchmarks/bench_oneshot.py`).
        cost, since = 0.0, 0.0  # the last checkpoint's seconds; epoch seconds since it
        best = None
        while self.epoch < self.oneshot.epochs and not deadline.passed():
            stop_point()
            t = time.time()
            info, scored = self._epoch()
            self.epoch += 1
            end = time.time()
            took = end - t
            self.seconds += took
            since += took
            info.update(seconds=took, search_seconds=self.seconds, steps=self.step)
            if not math.isfinite(info["loss"]):  # every later score would be chance, every pick arbitrary
                raise NasError(f"{self.folder}: the supernet diverged in epoch {self.epoch} (loss {info['loss']}); "
                               "start a new run with a lower --supernet-lr")
            self.unsaved.append((self.epoch, end, info, scored))
            if self.epoch == self.oneshot.epochs or since >= self.checkpoint_ratio * cost or deadline.passed():
                t = time.time()
                os_store.save_epochs(self.store, self.unsaved, dump_state(self._state()))
                cost, since, self.unsaved = time.time() - t, 0.0, []
            if bar is not None:
                score = info.get("mean_reward", info["train_accuracy"])
                if best is None or score > best:  # the bar shows the best so far
                    best = score
                bar.update(self.epoch, 0, 0, best)

    def _rank(self) -> list[dict[str, Any]]:
        """Score the candidates with shared weights on `eval_images` held-out images (resumable):
        random-ws and enas sample `rank_samples` distinct architectures (fewer when a collapsed
        controller keeps repeating itself), darts scores its derived cell."""
        phase = "derived" if self.config.strategy == "darts" else "rank"
        if not os_store.archs(self.store, phase):
            if self.config.strategy == "darts":
                cands = [self.strategy.propose()[0]]
            else:
                draw = (lambda: self.strategy.propose()[0]) if self.config.strategy == "enas" else self.strategy.random_decisions
                cands = distinct_draws(draw, self.oneshot.rank_samples, tries=RANK_TRIES * self.oneshot.rank_samples)
            os_store.add_archs(self.store, phase, self.epoch, cands)
        for a in os_store.archs(self.store, phase):
            if a["shared_accuracy"] is None:
                os_store.score_arch(self.store, a["id"], self.rank_accuracy(a["decisions"]))
        ranked = sorted(os_store.archs(self.store, phase), key=lambda a: (-a["shared_accuracy"], a["id"]))
        seen, picks = set(), []
        for a in ranked:  # run folders ranked before the draws were distinct may hold repeats
            if a["decisions"] not in seen:
                seen.add(a["decisions"])
                picks.append(a)
        return picks

    def _train_picks(self, picks: list[dict[str, Any]], bar: Progress, deadline: Deadline) -> None:
        """Each pick, in rank order, becomes an ordinary trial, trained stand-alone by `run_trial`
        (resumable); none starts after `deadline`, except those a stopped session left running."""
        done = {tuple(t["decisions"]) for t in self.store.trials() if t["status"] != "running"}
        for t in self.store.trials("running"):  # interrupted: run again under its id
            self._finish(t, run_trial(self._payload(t)))
        state = dump_state(self.strategy.state_dict())
        for i, a in enumerate(picks):
            stop_point()
            if deadline.passed():
                return
            if a["decisions"] in done or a["decisions"] in {tuple(t["decisions"]) for t in self.store.trials()}:
                continue
            nas = to_nas(self.space, a["decisions"], self.proxy)
            meta = {"shared_accuracy": a["shared_accuracy"], "oneshot_rank": i + 1}
            tid, seed = self.store.add_trial(self.config.strategy, nas, a["decisions"], meta,
                                             lambda t: (self.config.seed * 1_000_003 + t * 7_919) % (2**31 - 1),
                                             None, None, state, self.strategy.observed, self.strategy.updates)
            trial = {"id": tid, "nas": nas, "decisions": list(a["decisions"]), "seed": seed}
            self._finish(trial, run_trial(self._payload(trial)))
            c = self.store.counts()
            bar.update(self.oneshot.epochs + 1 + c["done"] + c["failed"], 0, 0, a["shared_accuracy"])

    def _finish(self, trial: dict[str, Any], result: dict[str, Any]) -> None:
        self.store.finish_trial(trial["id"], result, dump_state(self.strategy.state_dict()), self.strategy.observed,
                                self.strategy.updates)

    def _payload(self, trial: dict[str, Any]) -> dict[str, Any]:
        return trial_payload(self.config, trial, self.oneshot.threads, device=str(self.device))

    def write_best(self) -> Path | None:
        """best.nas from the best stand-alone trial (atomically)."""
        return write_best(self.folder, self.store, self.space, self.proxy, self.config)

    def close(self) -> None:
        close_run(self)


def _rng_list(state: tuple) -> list:
    version, internal, gauss = state
    return [version, list(internal), gauss]


# -- the command line (search/cli.py hands over when the strategy is one-shot)

# flag -> OneShotConfig field
FLAGS = {"supernet_epochs": "epochs", "supernet_lr": "lr", "supernet_lr_min": "lr_min",
         "controller_steps": "controller_steps",
         "rank_samples": "rank_samples", "eval_images": "eval_images", "top_k": "top_k", "arch_lr": "arch_lr",
         "arch_weight_decay": "arch_weight_decay", "arch_warmup": "arch_warmup"}


def configure(parser) -> None:
    """The one-shot flags of `nasdsl search`."""
    d = OneShotConfig()
    g = parser.add_argument_group("one-shot strategies (random-ws, enas, darts)")
    g.add_argument("--supernet-epochs", type=int, help=f"epochs of supernet training (default {d.epochs}; "
                   f"random-ws {STRATEGY_DEFAULTS['random-ws']['epochs']})")
    g.add_argument("--supernet-lr", type=float, help=f"supernet SGD lr, cosine (default {d.lr}; "
                   f"darts {STRATEGY_DEFAULTS['darts']['lr']})")
    g.add_argument("--supernet-lr-min", type=float, help=f"where the cosine ends (default {d.lr_min}; "
                   f"darts {STRATEGY_DEFAULTS['darts']['lr_min']})")
    g.add_argument("--controller-steps", type=int, help=f"enas: controller steps per epoch (default {d.controller_steps})")
    g.add_argument("--rank-samples", type=int, help=f"random-ws, enas: distinct architectures ranked at the end "
                   f"(default {d.rank_samples})")
    g.add_argument("--eval-images", type=int, help=f"held-out images per final shared-weight score (default {d.eval_images})")
    g.add_argument("--top-k", type=int, help=f"picks trained stand-alone at the end (default {d.top_k}; darts: 1)")
    g.add_argument("--arch-lr", type=float, help=f"darts: Adam lr of the architecture logits (default {d.arch_lr})")
    g.add_argument("--arch-weight-decay", type=float, help=f"darts (default {d.arch_weight_decay})")
    g.add_argument("--arch-warmup", type=int, help=f"darts: first supernet epochs that train the weights alone, "
                   f"against the collapse to parameter-free ops (default {d.arch_warmup}, as DARTS; PC-DARTS 15 of 50)")


def open_cli(args, config: SearchConfig | None, run_flags: dict[str, tuple[str | None, str]]) -> OneShot:
    """The one-shot run `nasdsl search` (or `nasdsl.search`) asks for, opened: `args` its flags, already
    checked against the strategy (search/cli.py `check_args`), `config` the SearchConfig of the flags
    given (None with --resume), `run_flags` the flags that define a run (flag -> (section, field))."""
    given = {flag for flag in (*run_flags, *FLAGS) if getattr(args, flag, None) is not None}
    if args.resume:
        if given:
            raise NasError(f"--resume continues a run as it was configured; drop "
                           f"{', '.join('--' + f.replace('_', '-') for f in sorted(given))} "
                           "(only --threads and --device may change)")
        return OneShot(args.out, resume=True, device=args.device or "auto", threads=args.threads)
    cfg = config
    if cfg.strategy == "enas":
        cfg = enas_defaults(cfg, {run_flags[f][1] for f in given if run_flags.get(f, ("", ""))[0] == "options"})
    oneshot = OneShotConfig.for_strategy(cfg.strategy, **{FLAGS[f]: getattr(args, f) for f in FLAGS},
                                         threads=args.threads or 1)
    out = args.out or str(Path("runs") / f"{cfg.strategy}-{time.strftime('%Y%m%d-%H%M%S')}")
    return OneShot(out, cfg, oneshot, device=args.device or "auto")


def run_cli(args, config: SearchConfig | None, run_flags: dict[str, tuple[str | None, str]]) -> int:
    """`nasdsl search` for a one-shot strategy (arguments as `open_cli`)."""
    run = open_cli(args, config, run_flags)
    try:
        summary = run.run(progress=not args.quiet, minutes=args.minutes)
    except KeyboardInterrupt as e:  # SIGINT, SIGTERM, SIGHUP: trials in flight are marked already
        saved = os_store.checkpoint(run.store)
        done = saved[0] if saved else 0
        again = len(run.unsaved)
        redo = (f" ({again} finished since the last checkpoint will be trained again, to the same weights)"
                if again else "")
        what = (f"{done} of {run.oneshot.epochs} supernet epochs are checkpointed{redo}" if done < run.oneshot.epochs
                else "the supernet is trained; stand-alone trials in flight will run again")
        return stopped(e, run.folder, what)
    finally:
        run.close()
    print(f"run folder: {summary.folder}")
    if not summary.finished:
        c = summary.counts
        print(f"stopped by --minutes after {summary.epochs} of {run.oneshot.epochs} supernet epochs and "
              f"{c['done'] + c['failed']} of {run.top_k} picks trained; `{resume_command(summary.folder)}` goes on")
    for i, p in enumerate(summary.picks[:10], 1):
        print(f"pick {i}: shared-weight accuracy {p['shared_accuracy']:.4f}: {' '.join(map(str, p['decisions']))}")
    if len(summary.picks) > 10:
        print(f"... and {len(summary.picks) - 10} more picks (nasdsl report {summary.folder})")
    if summary.best_reward is not None:
        print(f"best: trial {summary.best_trial}, stand-alone reward {summary.best_reward:.4f} -> "
              f"{Path(summary.folder) / 'best.nas'}")
    print(f"see: nasdsl report {summary.folder}")
    return 0
