"""`nasdsl search`: sample cells with a strategy, train each child on proxy data, keep every trial.

The defaults (ppo on digits, 1 cell per stage, 8 filters, 60 trials, 2 workers) finish in a few
minutes on a 2-core machine. Budgets (`--max-params`, `--max-madds`) are checked with the static
cost model before training. ppo and reinforce learn from a proposal over budget: it is stored as a
failed trial ("over budget: ...") that counts towards `--trials`, and they learn `--failed-reward` (0
by default) from it; random and evolution draw again (up to 100 times per trial).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from nasdsl.errors import NasError

from . import oneshot
from .augment import AUGMENTATIONS
from .data import absolute_spec, dataset_help
from .devices import check_device, resolve_device
from .driver import BUDGET_NETWORKS, REWARDS, RUN_FLAGS, Search, SearchConfig
from .executors import EXECUTORS, Executor, check_executor, make_executor
from .lifetime import resume_command, stop_on_signals, stopped
from .scheduler import SCHEDULERS
from .space import ProxyNet
from .store import STORE_NAME, Store
from .strategies import STRATEGIES, StrategyOptions
from .strategies.enas import ENAS_OPTIONS
from .strategy_flags import check_flags, check_reward_flags
from .trainer import TrainConfig


def configure(parser: argparse.ArgumentParser) -> None:
    d, t, o, p = SearchConfig(), TrainConfig(), StrategyOptions(), ProxyNet()
    g = parser.add_argument_group("run")
    g.add_argument("--out", help="run folder (default: runs/STRATEGY-TIME); holds trials.sqlite and best.nas")
    g.add_argument("--resume", action="store_true", help="continue the run in --out where it stopped")
    g.add_argument("--trials", type=int, help=f"trials to finish, done or failed (default {d.trials})")
    g.add_argument("--strategy", choices=list(STRATEGIES), help=f"default {d.strategy}")
    g.add_argument("--space", help=f"a zoo space or FILE[:NAME] (default {d.space})")
    g.add_argument("--seed", type=int, help=f"default {d.seed}")
    g.add_argument("--reward", choices=REWARDS,
                   help="accuracy: train each child (default); synthetic: no training, for testing strategies")
    g.add_argument("--minutes", type=float, help="wall-time budget of this invocation: after it nothing new "
                   "starts (a trial or promotion; one-shot: a supernet epoch or a pick) and what is under "
                   "way finishes (--resume goes on)")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g = parser.add_argument_group("executor")
    g.add_argument("--executor", choices=EXECUTORS, help="default local (a process pool); --resume: as before")
    g.add_argument("--workers", type=int, help="trials at once (default 2; --resume: as before)")
    g.add_argument("--address", help="Ray cluster to run on: HEAD:PORT, or auto ($RAY_ADDRESS, else the cluster "
                   "this machine belongs to); default: start a local cluster")
    g.add_argument("--threads", type=int, help="torch threads per trial (default: cores / workers)")
    g.add_argument("--device", help="where children train: auto (CUDA when available, the default), cpu, cuda, "
                   "cuda:N; with several GPUs local workers are pinned round-robin")
    g.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None,
                   help="mixed precision on CUDA (bf16 where supported, else fp16 with loss scaling)")
    g.add_argument("--gpus-per-trial", type=float, help="Ray: GPUs per child, fractions allowed "
                   "(default 1 with --device cuda or a cluster with GPUs, else 0)")
    g.add_argument("--cpus-per-trial", type=float, help="Ray: CPUs per child (default 1)")
    g = parser.add_argument_group("child training")
    g.add_argument("--dataset", help=f"{dataset_help()} (default {d.dataset})")
    g.add_argument("--val-size", type=int,
                   help=f"held-out images (default: {d.val_size} of the default digits proxy, leaving 300 to train on; "
                        "with --dataset the data set's own: 500 digits, 5000 cifar10/cifar100, 10%% of npz and "
                        "single-tree folders, a folder's val/ when it has one)")
    g.add_argument("--image", type=int, help="children's input size in pixels (default: the data set's own)")
    g.add_argument("--augment", choices=("auto", *AUGMENTATIONS),
                   help="training augmentation (default auto: the data set family's usual one)")
    g.add_argument("--train-size", type=int, help="use only this many training images")
    g.add_argument("--repeats", type=int, help="train each child this many times (seeds); its reward is the mean "
                   f"held-out accuracy (default {d.repeats})")
    g.add_argument("--cells", type=int, help=f"proxy network: normal cells per stage (default {p.cells})")
    g.add_argument("--filters", type=int, help=f"proxy network: F (default {p.filters})")
    g.add_argument("--stem-multiplier", type=int, help=f"default {p.stem_multiplier}")
    g.add_argument("--epochs", type=int, help=f"default {d.train.epochs}")
    g.add_argument("--batch-size", type=int, help=f"default {t.batch_size}")
    g.add_argument("--lr", type=float, help=f"SGD learning rate, cosine schedule (default {t.lr})")
    g.add_argument("--momentum", type=float, help=f"default {t.momentum}")
    g.add_argument("--weight-decay", type=float, help=f"default {t.weight_decay}")
    g.add_argument("--precise-bn", type=int, metavar="N",
                   help="score a child with batch-norm statistics recomputed on N training images instead of "
                        f"the running averages, which lag after a short training; 0 = off (default {d.train.precise_bn})")
    g = parser.add_argument_group("early stopping")
    g.add_argument("--scheduler", choices=SCHEDULERS,
                   help="none: every child trains --epochs (default); asha: asynchronous successive halving over "
                        "rungs of epochs, each promoted child continuing from its own checkpoint")
    g.add_argument("--min-epochs", type=int, help=f"asha: epochs of the bottom rung (default {d.min_epochs})")
    g.add_argument("--max-epochs", type=int,
                   help="asha: epochs of the top rung, over which the learning-rate schedule runs (= --epochs)")
    g.add_argument("--reduction", type=int,
                   help=f"asha: eta; the top 1/eta of a rung goes on to eta times the epochs (default {d.reduction})")
    g = parser.add_argument_group("budgets (static cost, checked before training)")
    g.add_argument("--max-params", type=int, help="reject proposals with more parameters")
    g.add_argument("--max-madds", type=int, help="reject proposals with more multiply-adds")
    g.add_argument("--budget-on", choices=BUDGET_NETWORKS,
                   help="network the budget applies to: the proxy child (default) or a transfer of the space's "
                        "skeleton (nasnet: mobile, large; darts: cifar, imagenet)")
    g = parser.add_argument_group("strategy")
    g.add_argument("--controller-lr", type=float, help=_controller_default(o, "lr"))
    g.add_argument("--entropy-weight", type=float, help=_controller_default(o, "entropy_weight"))
    g.add_argument("--baseline-decay", type=float, help=_controller_default(o, "baseline_decay"))
    g.add_argument("--controller-batch", type=int,
                   help=f"architectures per update ({_controller_default(o, 'batch')})")
    g.add_argument("--lstm-units", type=int, help=_controller_default(o, "units"))
    g.add_argument("--init-range", type=float, help=f"default {o.init_range}")
    g.add_argument("--tanh-constant", type=float,
                   help="bound the controller's logits to C * tanh: 0 for none (" + _controller_default(o, "tanh_constant") + ")")
    g.add_argument("--op-tanh-reduce", type=float,
                   help="an op choice's bound is C / this (" + _controller_default(o, "op_tanh_reduce") + ")")
    g.add_argument("--ppo-epochs", type=int, help=f"default {o.ppo_epochs}")
    g.add_argument("--ppo-clip", type=float, help=f"default {o.ppo_clip}")
    g.add_argument("--population", type=int, help=f"evolution (default {o.population})")
    g.add_argument("--sample-size", type=int, help=f"evolution tournament (default {o.sample_size})")
    g.add_argument("--failed-reward", type=float, help=f"reward ppo and reinforce learn from a failed child (default {o.failed_reward})")
    oneshot.configure(parser)


def _controller_default(o: StrategyOptions, field: str) -> str:
    """The default of a controller option, and enas's own where it has one."""
    enas = ENAS_OPTIONS.get(field)
    return f"default {getattr(o, field)}" + (f"; enas {enas}" if enas is not None else "")


def config_from_args(args: argparse.Namespace) -> SearchConfig:
    """A SearchConfig: the defaults with every flag that was given."""
    if args.epochs is not None and args.max_epochs is not None and args.epochs != args.max_epochs:
        raise NasError(f"--epochs {args.epochs} and --max-epochs {args.max_epochs} disagree; give one of them")
    if args.scheduler != "asha":
        given = [f"--{f.replace('_', '-')}" for f in ("min_epochs", "max_epochs", "reduction")
                 if getattr(args, f) is not None]
        if given:
            raise NasError(f"{', '.join(given)} only apply to --scheduler asha")
    cfg = SearchConfig()
    if args.dataset is not None and args.val_size is None:  # the default proxy's split is for digits
        cfg = replace(cfg, val_size=None)
    if args.trials is not None:
        cfg = replace(cfg, trials=args.trials)
    sections = {}
    for flag, (section, name) in RUN_FLAGS.items():
        value = getattr(args, flag)
        if value is None:
            continue
        if section is None:
            cfg = replace(cfg, **{name: value})
        else:
            sections.setdefault(section, {})[name] = value
    for section, values in sections.items():
        cfg = replace(cfg, **{section: replace(getattr(cfg, section), **values)})
    return replace(cfg, dataset=absolute_spec(cfg.dataset))  # --resume (and Ray's workers) from any folder


HARDWARE = ("device", "amp", "gpus_per_trial", "cpus_per_trial")  # executor settings that go into payloads


def _executor_args(args: argparse.Namespace, before: dict) -> dict:
    """--executor/--workers/--address/--threads and the hardware flags as given, else as the run last
    used them (`before`), else defaults."""
    chosen = {"executor": args.executor or before.get("executor", "local"),
              "workers": args.workers or before.get("workers", 2),
              "address": None,
              "threads": args.threads or before.get("threads"),
              "device": args.device or before.get("device", "auto"),
              "amp": args.amp if args.amp is not None else before.get("amp", False)}
    for key in ("address", "gpus_per_trial", "cpus_per_trial"):  # Ray settings: forgotten when the run moves to local
        given = getattr(args, key)
        chosen[key] = given if given is not None else (before.get(key) if chosen["executor"] == "ray" else None)
    return chosen


def _strategy(args: argparse.Namespace) -> str | None:
    """The run's strategy: the run folder's when resuming (None if it holds no run), else --strategy
    or the default."""
    if not args.resume:
        return args.strategy or SearchConfig().strategy
    if not args.out or not (Path(args.out) / STORE_NAME).is_file():
        return None
    store = Store(args.out, create=False, readonly=True)  # nothing written before the lock is taken
    try:
        return (store.config() or {}).get("strategy")
    finally:
        store.close()


def open_run(args: argparse.Namespace) -> tuple[Search, dict, Executor]:
    """The run folder opened (--resume) or made, and the executor this session runs on, with the
    settings it was made with (stored in the run). The executor starts before a new run's folder is
    made and before a resumed run's settings change: a cluster that cannot be reached, or a request
    none of its nodes can meet, leaves no folder behind and no setting every --resume would meet
    again. A new run's store is made with the settings, so a --resume after a kill at any moment,
    even before the first proposal, runs as the run was started (e.g. with its --workers 1)."""
    if args.resume:
        if not args.out:
            raise NasError("--resume needs --out DIR (the run folder to continue)")
        given = [f"--{f.replace('_', '-')}" for f in RUN_FLAGS if getattr(args, f) is not None]
        if given:
            raise NasError(f"--resume continues a run as it was configured; drop {', '.join(given)} "
                           "(only --trials, --executor, --workers, --address, --threads, --device, --amp, "
                           "--gpus-per-trial, --cpus-per-trial may change)")
        search = Search(args.out, resume=True, trials=args.trials)
        started: list[Executor] = []
        try:
            chosen = _executor_args(args, search.store.config("executor") or {})
            started.append(_start_executor(chosen))
            search.store.set_config(chosen, "executor")
        except BaseException:
            _shut(started)
            search.close()
            raise
        return search, chosen, started[0]
    cfg = config_from_args(args)
    out = args.out or os.path.join("runs", f"{cfg.strategy}-{time.strftime('%Y%m%d-%H%M%S')}")
    chosen = _executor_args(args, {})
    check_executor(chosen["executor"], chosen["address"], chosen["gpus_per_trial"], chosen["cpus_per_trial"])
    _check_local_device(chosen)
    started = []
    try:  # the run's own checks (space, data) first, then the executor, then the folder
        search = Search(out, cfg, settings={"executor": chosen}, prepare=lambda: started.append(_start_executor(chosen)))
    except BaseException:
        _shut(started)
        raise
    return search, chosen, started[0]


def _start_executor(chosen: dict) -> Executor:
    _check_local_device(chosen)
    return make_executor(chosen["executor"], chosen["workers"], chosen["address"], **{k: chosen[k] for k in HARDWARE})


def _shut(started: list[Executor]) -> None:
    for executor in started:
        executor.shutdown()


def _check_local_device(chosen: dict) -> None:
    """The local pool trains on this machine: a --device it lacks is refused now, not by every trial.
    (On Ray the trials' nodes have the GPUs, found through --gpus-per-trial.)"""
    if chosen["executor"] == "local":
        resolve_device(chosen["device"])


def check_args(args: argparse.Namespace) -> str | None:
    """The checks of every `nasdsl search`, from the command line or `nasdsl.search`: worker and
    thread counts, the device, then the flags the run's strategy or reward would ignore
    (search/strategy_flags.py).
    Returns the run's strategy (None: --resume of a folder that holds no run; opening it says so)."""
    if args.workers is not None and args.workers < 1:
        raise NasError(f"--workers must be at least 1, got {args.workers}")
    if args.threads is not None and args.threads < 1:
        raise NasError(f"--threads must be at least 1, got {args.threads}")
    if args.device is not None:
        check_device(args.device)
    strategy = _strategy(args)
    if strategy is not None:
        check_flags(args, strategy)
    check_reward_flags(args)
    return strategy


def run_search(search: Search, chosen: dict, executor: Executor, progress: bool, minutes: float | None):
    """Run the multi-trial search `open_run` opened on its executor (shut down at the end); the
    caller closes `search`. Returns its RunSummary."""
    try:
        search.store.set_config(executor.describe(), "cluster")  # where this session runs (for `report`)
        if note := executor.capacity_note():
            print(note, file=sys.stderr)
    except BaseException:
        executor.shutdown()
        raise
    settings = {k: v for k, v in chosen.items() if k not in HARDWARE}
    return search.run(**{**settings, "executor": executor}, progress=progress, minutes=minutes)


def run(args: argparse.Namespace) -> int:
    strategy = check_args(args)
    with stop_on_signals():  # from the start: opening a run (data, a supernet, a Ray cluster) takes seconds
        try:
            if oneshot.is_oneshot(strategy or ""):  # random-ws, enas, darts: the one-shot loop (search/oneshot.py)
                return oneshot.run_cli(args, config_from_args(args) if not args.resume else None, RUN_FLAGS)
            search, chosen, executor = open_run(args)
        except KeyboardInterrupt as e:  # (one-shot runs report a signal after opening themselves)
            folder = args.out if args.out and (Path(args.out) / STORE_NAME).is_file() else None
            return stopped(e, folder, "the run was being opened, nothing of it was lost")
        return _run_opened(search, chosen, executor, args)


def _run_opened(search: Search, chosen: dict, executor: Executor, args: argparse.Namespace) -> int:
    try:
        summary = run_search(search, chosen, executor, not args.quiet, args.minutes)
    except KeyboardInterrupt as e:  # SIGINT, SIGTERM, SIGHUP: the workers are stopped already
        return stopped(e, search.folder, "the trials in flight will run again")
    finally:
        search.close()
    c = summary.counts
    print(f"run folder: {summary.folder}")
    print(f"trials: {c['done']} done, {c['failed']} failed ({summary.seconds:.0f} s this session)")
    if not summary.finished:
        waiting = f", {c['running']} waiting at a rung for ASHA to promote or stop them" if c["running"] else ""
        print(f"stopped by --minutes with {c['done'] + c['failed']} of {search.config.trials} trials finished"
              f"{waiting}; `{resume_command(summary.folder)}` goes on")
    if summary.best_reward is not None:
        print(f"best: trial {summary.best_trial}, reward {summary.best_reward:.4f} -> "
              f"{Path(summary.folder) / 'best.nas'}")
    print(f"see: nasdsl report {summary.folder}")
    return 0
