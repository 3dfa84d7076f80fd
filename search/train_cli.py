"""`nasdsl train NAME|FILE --network N --dataset D ...`: the transfer step. Trains any compiled
network (a zoo name, or a run's best.nas with --network best_mobile, ...) on any data set of the
registry (search/data.py) with a named recipe (search/recipes.py), every value overridable.

Outputs (at least one of them):
  -o W.pt     the final weights: {"state_dict", "card" (what training saw: data set, image size,
              normalization, labels), ...}, which `nasdsl export --weights` loads and writes into
              the model card.
  --out DIR   DIR/checkpoint.pt after every epoch (model, optimizer, schedule, epoch, RNG states,
              EMA weights; written atomically), DIR/best.pt (the best held-out top-1 so far),
              DIR/weights.pt (the final weights) and DIR/log.jsonl (one line per epoch).
              `nasdsl train --resume --out DIR` continues after a crash or kill -9 and ends with
              the weights an uninterrupted run ends with (bitwise on the CPU), from any folder, and
              refuses a network edited since the start. One driver at a time holds DIR (its
              driver.lock, as a search run's); SIGINT, SIGTERM and SIGHUP stop it, exit 128 + N.

Devices: --device auto|cpu|cuda|cuda:N, --amp (CUDA). Data parallel: run under
`torchrun --nproc-per-node K -m nasdsl train ...` (or give --nproc K): NCCL on GPUs, gloo on the
CPU; each rank trains on its share of every global batch of --batch-size; rank 0 alone writes.
No process outlives the --nproc launcher: signals go on to torchrun, kill -9 reaches it as SIGTERM.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from nasdsl.errors import Diagnostic, NasError
from nasdsl.lang import ast
from nasdsl.lang.fmt import format_module
from nasdsl.lang.load import Program, input_files
from nasdsl.lang.source import check_folder, check_output, refuse_files_of_others, same_file

from .data import absolute_spec, refuse_inside
from .lifetime import Interrupted, death_signal, resume_command, stop_on_signals, stopped, tie_to_parent
from .recipes import RECIPES
from .runlock import LOCK_NAME, RunLock, lock_run_folder
from .store import STORE_NAME
from .trainer import DECAYED, ChildDiverged, SettingError, TrainConfig, check_steps, training_steps

MAX_IMAGE = 1024
WEIGHTS_FORMAT = "nasdsl-weights/1"
CHECKPOINT_FORMAT = "nasdsl-train-checkpoint/1"
RUN_FILES = ("checkpoint.pt", "best.pt", "weights.pt", "log.jsonl")  # what a run writes into --out DIR
# TrainConfig fields with a flag of the same name (default None = the recipe's value)
TRAIN_FLAGS = ("epochs", "batch_size", "lr", "momentum", "weight_decay", "weight_decay_on", "grad_clip", "aux_weight",
               "optimizer", "rmsprop_decay", "rmsprop_eps", "schedule", "lr_decay", "lr_decay_epochs",
               "label_smoothing", "ema_decay", "eval_batch", "precise_bn", "bn_momentum")
# everything that defines a run: stored in the checkpoint, refused with --resume
RUN_FLAGS = ("target", "network", "dataset", "image", "augment", "stream", "recipe", *TRAIN_FLAGS, "no_aux_head",
             "drop_path_keep", "dropout_keep", "val_size", "train_size", "split_seed", "seed")
LOADER_WORKERS = 4  # DataLoader processes of a streaming data set, unless --workers says
LAUNCHER_ENV = "NASDSL_TRAIN_LAUNCHER"  # set by --nproc for its torchrun: the launcher holds the run's lock
# set by --nproc too: where a rank leaves a user mistake (PATH.RANK), for the launcher to say once
MISTAKE_ENV = "NASDSL_TRAIN_MISTAKE"
AGENT_ENV = "NASDSL_TRAIN_TORCHRUN"  # set by --nproc's torchrun (search/torchrun.py): its pid, the ranks' parent
_PARSER: list[argparse.ArgumentParser] = []


def configure(parser: argparse.ArgumentParser) -> None:
    from .data import dataset_help

    _PARSER[:] = [parser]
    parser.add_argument("target", nargs="?", metavar="NAME|FILE",
                        help="a zoo name or a .nas file (e.g. a run's best.nas); not needed with --resume")
    parser.add_argument("--network", help="the network to train (default: the file's first network)")
    g = parser.add_argument_group("data")
    g.add_argument("--dataset", help=f"{dataset_help()} (default digits)")
    g.add_argument("--image", type=int, help=f"input size, 1..{MAX_IMAGE} (default: 16 for digits, the network's "
                   "own for image folders, else the data set's)")
    g.add_argument("--augment", help="auto (default: the data family's), none, cifar, cifar+cutout, imagenet")
    g.add_argument("--val-size", type=int, help="held-out images (default: the data set's)")
    g.add_argument("--train-size", type=int, help="use only this many training images")
    g.add_argument("--split-seed", type=int, help="seed of the held-out split (default 0)")
    g.add_argument("--stream", action="store_true", help="decode images from disk every epoch through a DataLoader "
                   "(default: only folders too large for memory stream)")
    g.add_argument("--workers", dest="loader_workers", type=int,
                   help=f"DataLoader processes for streaming data sets (default {LOADER_WORKERS}; --resume: "
                        "the run's, so that augmentations replay as they were drawn)")
    g = parser.add_argument_group("recipe (every value overrides the recipe's)")
    g.add_argument("--recipe", choices=list(RECIPES), help="; ".join(f"{k}: {r.about}" for k, r in RECIPES.items())
                   + " (default cifar)")
    g.add_argument("--epochs", type=int)
    g.add_argument("--batch-size", type=int, help="the global batch (all processes together)")
    g.add_argument("--lr", type=float, help="initial learning rate")
    g.add_argument("--optimizer", choices=("sgd", "rmsprop"))
    g.add_argument("--momentum", type=float)
    g.add_argument("--rmsprop-decay", type=float)
    g.add_argument("--rmsprop-eps", type=float)
    g.add_argument("--weight-decay", type=float)
    g.add_argument("--weight-decay-on", choices=DECAYED,
                   help="every parameter, or the conv and linear weights alone (not batch norm nor biases)")
    g.add_argument("--schedule", choices=("cosine", "exponential"))
    g.add_argument("--lr-decay", type=float, help="exponential: multiply the rate by this ...")
    g.add_argument("--lr-decay-epochs", type=float, help="... every this many epochs")
    g.add_argument("--label-smoothing", type=float)
    g.add_argument("--ema-decay", type=float, help="parameter EMA for evaluation and the saved weights (0 = off)")
    g.add_argument("--bn-momentum", type=float,
                   help="batch-norm running averages' momentum, 1 - TF's decay (0 = the layers' own, 0.1)")
    g.add_argument("--grad-clip", type=float, help="max gradient norm (0 = off)")
    g.add_argument("--aux-weight", type=float, help="aux head loss weight")
    g.add_argument("--no-aux-head", action="store_true", help="train without the auxiliary head")
    g.add_argument("--drop-path-keep", type=float, help="ScheduledDropPath keep probability at the end of training")
    g.add_argument("--dropout-keep", type=float, help="keep probability of the dropout before the classifier")
    g.add_argument("--eval-batch", type=int)
    g.add_argument("--precise-bn", type=int, metavar="N",
                   help="evaluate with batch-norm statistics recomputed on N training images (0 = the running "
                        "averages, the default; they lag behind the weights after a short training)")
    g.add_argument("--seed", type=int, help="default 0")
    g = parser.add_argument_group("hardware (may change on --resume)")
    g.add_argument("--device", default="auto", help="auto (CUDA when available, the default), cpu, cuda, cuda:N")
    g.add_argument("--amp", action="store_true", help="mixed precision on CUDA (bf16 where supported, else fp16)")
    g.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None,
                   help="NHWC memory layout (default: on CUDA only, so CPU results stay as they were; on the "
                        "CPU it is often faster for NASNet's depthwise convolutions, with slightly different rounding)")
    g.add_argument("--threads", type=int,
                   help="torch threads per process (default: all cores; with --nproc K, the cores / K each)")
    g.add_argument("--nproc", type=int, help="data parallel on this machine: launch K processes with torchrun")
    g = parser.add_argument_group("output")
    g.add_argument("-o", "--output", metavar="W.pt", help="where to save the final weights")
    g.add_argument("--out", metavar="DIR", help="checkpoint folder: checkpoint.pt every epoch, best.pt, weights.pt")
    g.add_argument("--resume", action="store_true", help="continue the run in --out DIR from its last checkpoint")


# -- checks before any training --------------------------------------------------------------------
def _check_outputs(args: argparse.Namespace) -> None:
    """--out and -o, before any work: a folder that can be made or written into (with --resume, one
    that holds a run), and -o a file of its own, not one the run writes into --out."""
    if not args.output and not args.out:
        raise NasError("say where to save: -o W.pt (the final weights) and/or --out DIR (checkpoints)")
    if args.output and Path(args.output).is_dir():
        raise NasError(f"-o {args.output}: is a folder; -o names the weights file (for a checkpoint folder use --out)")
    if args.out:
        _check_run_folder(args)
        for name in (*RUN_FILES, LOCK_NAME):
            if args.output and same_file(args.output, Path(args.out) / name):
                raise NasError(Diagnostic(f"-o names {name}, which --out writes itself; choose another output",
                                          args.output))
    elif args.resume:
        raise NasError("--resume needs --out DIR (the checkpoint folder to continue)")


def _check_run_folder(args: argparse.Namespace) -> None:
    folder = Path(args.out)
    if folder.exists() and not folder.is_dir():
        raise NasError(f"--out {folder}: is a file, not a folder")
    if args.resume:
        if not (folder / "checkpoint.pt").is_file():
            raise NasError(f"--resume: {folder} holds no checkpoint.pt to continue from")
    elif (folder / "checkpoint.pt").exists():
        raise NasError(f"--out {folder} already holds a training run; continue it with --resume or "
                       "choose another folder")
    elif (folder / STORE_NAME).exists():
        raise NasError(f"--out {folder} holds a search run (its {STORE_NAME}); choose another folder")
    else:
        refuse_files_of_others(folder, RUN_FILES)
    check_folder(folder, "--out")  # a missing or read-only parent


def _check_weights_file(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    """-o: a file that can be written and is not the network's .nas (nor a file it imports); -o and
    --out neither the data set nor in its folder (the run would write over a user's file, or into
    the set it reads)."""
    if args.output:
        check_output(args.output, "-o", inputs=input_files(settings["target"]))
    for flag, out in (("-o", args.output), ("--out", args.out)):
        refuse_inside(out, settings.get("dataset") or "digits", flag)


def _check_numbers(args: argparse.Namespace) -> None:
    if args.image is not None and not 1 <= args.image <= MAX_IMAGE:
        raise NasError(f"--image must be between 1 and {MAX_IMAGE}, got {args.image}")
    for flag in ("drop_path_keep", "dropout_keep"):
        v = getattr(args, flag)
        if v is not None and not 0 < v <= 1:
            raise NasError(f"--{flag.replace('_', '-')} must be in (0, 1], got {v}")
    for flag in ("threads", "nproc", "val_size", "train_size"):
        v = getattr(args, flag)
        if v is not None and v < 1:
            raise NasError(f"--{flag.replace('_', '-')} must be positive, got {v}")
    if args.loader_workers is not None and args.loader_workers < 0:
        raise NasError(f"--workers must be 0 or more, got {args.loader_workers}")


def _settings(args: argparse.Namespace, saved: dict | None) -> dict[str, Any]:
    """The run-defining values as given (None = default), or, with --resume, as the run stored them
    (`saved`: its checkpoint)."""
    if not args.resume:
        if args.target is None:
            raise NasError("give the network to train: nasdsl train NAME|FILE (a zoo name or a .nas file)")
        settings = {**{k: getattr(args, k) for k in RUN_FLAGS}, "target": _target_path(args.target),
                    "loader_workers": LOADER_WORKERS if args.loader_workers is None else args.loader_workers}
        if settings.get("dataset"):
            settings["dataset"] = absolute_spec(settings["dataset"])  # --resume works from any folder
        return {**settings, "resolved": resolve(settings)}
    given = [f"--{k.replace('_', '-')}" if k != "target" else "NAME|FILE" for k in RUN_FLAGS
             if getattr(args, k) is not None and getattr(args, k) is not False]  # (0 == False: --seed 0 counts)
    if given:
        raise NasError(f"--resume continues a run as it was configured; drop {', '.join(given)} "
                       "(only --device, --amp, --channels-last, --threads, --workers, --nproc and -o may change)")
    settings = dict(saved["settings"])
    if "resolved" not in settings:
        settings["resolved"] = resolved_before(saved)
    if args.loader_workers is not None:  # a worker's augmentations are seeded by its index: --workers changes them
        settings["loader_workers"] = args.loader_workers
    settings.setdefault("loader_workers", LOADER_WORKERS)  # a checkpoint from before the setting was kept
    return settings


def resolve(settings: dict[str, Any]) -> dict[str, Any]:
    """What the defaults made of the run's settings when it started: the whole TrainConfig and the
    network's regularization. A checkpoint keeps it, so that a recipe or precedence changed in a
    later nasdsl does not change a run on --resume (the nasnet-imagenet lr went from 0.008 to 0.16)."""
    return {"train": train_config(settings).to_dict(), "network": _network_values(settings)}


def resolved_before(saved: dict) -> dict[str, Any]:
    """`resolve` for a checkpoint written before runs kept it (2026-12-06): the TrainConfig its
    trainer stored, and drop path and dropout by the rule of then (the flag, else the recipe's)."""
    return {"train": saved["trainer"]["config"], "network": _network_values(saved["settings"], declared_wins=False)}


def _network_values(settings: dict[str, Any], declared_wins: bool = True) -> dict[str, Any]:
    """aux_head: the network's own, else the recipe's, off with --no-aux-head; drop_path_keep and
    dropout_keep: the flag, else the network's own (a zoo network: as published), else the recipe's
    (None: the skeleton's default)."""
    program, _, spec = _network(settings)
    recipe = RECIPES[settings.get("recipe") or "cifar"]
    declared = program.networks.get(spec.name, {})
    values = {"aux_head": bool(declared.get("aux_head", recipe.network.get("aux_head", True)))
              and not settings.get("no_aux_head")}
    for key in ("drop_path_keep", "dropout_keep"):
        order = (settings.get(key), declared.get(key) if declared_wins else None, recipe.network.get(key))
        values[key] = next((v for v in order if v is not None), None)
    return values


def _target_path(target: str) -> str:
    """A .nas file as an absolute path, so that --resume finds it from any folder; a zoo name as given."""
    return os.path.abspath(target) if os.path.isfile(target) else target


def train_config(settings: dict[str, Any]) -> TrainConfig:
    """The run's recipe as it was fixed when the run started (`resolved`), else the recipe with
    every given value in its place."""
    frozen = settings.get("resolved", {}).get("train")
    if frozen is not None:
        return TrainConfig.from_dict(frozen)
    recipe = RECIPES[settings.get("recipe") or "cifar"]
    cfg = replace(recipe.train, **{k: settings[k] for k in TRAIN_FLAGS if settings.get(k) is not None})
    try:
        return cfg.check()
    except SettingError as e:
        raise NasError(e.flag_message()) from None


# -- the network ------------------------------------------------------------------------------------------
def _network(settings: dict[str, Any]):
    """(program, network name or None, NetworkSpec) of the run's target, as `compile` resolves it."""
    from nasdsl.codegen.generate import network_spec
    from nasdsl.lang.load import load
    from nasdsl.lang.resolve import need, zoo_name

    target = settings["target"]
    program = load(target)
    network = settings.get("network")
    if network is None and zoo_name(target) is not None:  # a zoo name must be a network, as for compile
        need(program, target, "network", "nasdsl train")
        network = target
    return program, network, network_spec(program, network)


def _definition(program: Program, spec) -> dict[str, str]:
    """What the network is built from: "network N" and "cell C" -> their canonical .nas text
    (comments and layout left out). A checkpoint keeps it; --resume finds it unchanged or stops."""
    items = [program.networks[spec.name]] if spec.name in program.networks else []
    items += [program.cells[c] for c in dict.fromkeys((spec.normal, spec.reduction, spec.stem_cell))]
    return {f"{type(i).__name__.lower()} {i.name}": format_module(ast.Module((i,))) for i in items}


def _check_unchanged(settings: dict[str, Any], saved: dict) -> None:
    """--resume: refuse a network edited since the run started (a checkpoint older than the
    definition it keeps is trusted)."""
    before = saved.get("definition")
    if before is None:
        return
    program, _, spec = _network(settings)
    now = _definition(program, spec)
    changed = [k for k in sorted(before.keys() | now.keys()) if before.get(k) != now.get(k)]
    if changed:
        raise NasError(f"{settings['target']} changed since this training started ({', '.join(changed)} "
                       f"differ{'s' if len(changed) == 1 else ''}); restore it, or train into a new --out")


# -- files ----------------------------------------------------------------------------------------------
def _save(obj: Any, path: Path) -> None:
    """torch.save, atomically: a crash leaves the previous file or the new one, never half of one.
    Through a link, the file it names is written (the link stays); a path that is not a regular
    file (/dev/null, a FIFO) is written into as it is, never replaced by a file."""
    import torch

    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        with open(target, "wb") as f:
            torch.save(obj, f)
        return
    tmp = target.with_name(target.name + ".tmp")
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)


def _load(path: Path) -> dict:
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - many unpickling errors
        raise NasError(f"{path}: not a readable training checkpoint ({type(e).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise NasError(f"{path}: not a nasdsl train checkpoint")
    return state


def _log_line(entry: dict) -> str:
    return json.dumps({k: round(v, 6) if isinstance(v, float) else v for k, v in entry.items()}) + "\n"


def _write_log(path: Path, history: list[dict]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(_log_line(e) for e in history))
    os.replace(tmp, path)


def weights_file(state_dict: dict, card: dict, info: dict) -> dict:
    """What -o, best.pt and weights.pt hold: a dict that `nasdsl export --weights` loads."""
    return {"format": WEIGHTS_FORMAT, "state_dict": state_dict, "card": card, **info}


# -- process lifetime -------------------------------------------------------------------------------------
def _owner() -> bool:
    """Whether this process owns the run (takes its lock, checks the network): a lone process, the
    --nproc launcher, or rank 0 of a torchrun the user started; not the ranks the launcher started."""
    return LAUNCHER_ENV not in os.environ and os.environ.get("RANK", "0") == "0"


def _lock(args: argparse.Namespace) -> RunLock | None:
    """The --out folder's driver lock, as search takes it (search/runlock.py), held for the
    training's life: a second train or search there is refused."""
    if not args.out or not _owner():
        return None
    lock = lock_run_folder(args.out, "train")
    try:
        _check_run_folder(args)  # again, under the lock: a driver that ended meanwhile may have left a run
    except BaseException:
        lock.release()
        raise
    return lock


def _until_stopped(args: argparse.Namespace, work: Callable[[], int]) -> int:
    """`work()` under stop_on_signals: SIGINT, SIGTERM and SIGHUP stop it, and the command says how
    --resume goes on and exits 128 + the signal (130, 143, 129)."""
    with stop_on_signals():
        try:
            return work()
        except KeyboardInterrupt as e:
            return _stopped(e, args.out, args.nproc)


def _stopped(e: KeyboardInterrupt, folder: str | None, nproc: int | None = None) -> int:
    """Say on stderr what stopped the training and how it goes on (with the run's --nproc: a resume
    is bitwise the uninterrupted run only on as many processes); the exit status."""
    if _has_checkpoint(folder):
        return stopped(e, folder, "its last checkpoint is kept", "train", _nproc_flag(nproc))
    return stopped(e, None, "no epoch was saved; start it again")


def _has_checkpoint(folder: str | None) -> bool:
    return bool(folder) and (Path(folder) / "checkpoint.pt").exists()


def _nproc_flag(nproc: int | None) -> str:
    return f" --nproc {nproc}" if nproc else ""


def _dies_with_us() -> Callable[[], None]:
    """A preexec_fn: the child gets SIGTERM when this process dies, and exits if it is gone already."""
    tie = tie_to_parent(os.getpid(), signal.SIGTERM)

    def preexec() -> None:
        if not tie():
            os._exit(1)
    return preexec


# -- distributed ------------------------------------------------------------------------------------------
def _launch(args: argparse.Namespace, lock: RunLock | None) -> int:
    """--nproc K: run this same command under torchrun with K local processes, which goes with this
    one: a SIGINT, SIGTERM or SIGHUP is passed on (torchrun stops its ranks on it) and waited for, and
    a kill -9 of this process SIGTERMs it. torchrun holds the run's lock too, till it is gone."""
    argv = _argv_without_nproc(args)
    cmd = [sys.executable, "-m", "nasdsl_search.torchrun", "--standalone", f"--nproc-per-node={args.nproc}",
           "-m", "nasdsl", "train", *argv]
    print(f"launching {args.nproc} processes: torchrun --standalone --nproc-per-node {args.nproc} "
          f"-m nasdsl train ...", flush=True)
    # the cores shared out among the ranks (torchrun would give each one thread), unless the user says
    threads = os.environ.get("OMP_NUM_THREADS") or str(max(1, _cores() // args.nproc))
    with tempfile.TemporaryDirectory(prefix="nasdsl-train-") as scratch:
        mistake = os.path.join(scratch, "mistake")
        env = {**os.environ, LAUNCHER_ENV: str(os.getpid()), MISTAKE_ENV: mistake, "OMP_NUM_THREADS": threads}
        # its own session: a Ctrl-C in the terminal reaches it once, through us
        torchrun = subprocess.Popen(cmd, env=env, pass_fds=(lock.fileno(),) if lock else (),
                                    start_new_session=True, preexec_fn=_dies_with_us())
        try:
            rc = torchrun.wait()
        except KeyboardInterrupt as e:
            torchrun.send_signal(getattr(e, "signum", signal.SIGINT))
            torchrun.wait()
            raise
        said = mistakes_left(mistake)
        if rc > 0 and said:  # the ranks met the user's mistake (a diverged training): said once, exit 2
            print(said[0].read_text(), file=sys.stderr)
            return 2
    if rc < 0:  # torchrun itself killed (its ranks go with it): as if the signal had come to us
        return _stopped(Interrupted(-rc), args.out, args.nproc)
    if rc:  # a rank failed: torchrun's report is above
        kept = (f"; its last checkpoint is kept: {resume_command(args.out, 'train', _nproc_flag(args.nproc))}"
                if _has_checkpoint(args.out) else "")
        print(f"nasdsl train: a process of the run failed (torchrun exit {rc}){kept}", file=sys.stderr)
    return rc


def _threads(n: int) -> str:
    return f"{n} thread" + ("" if n == 1 else "s")


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _argv_without_nproc(args: argparse.Namespace) -> list[str]:
    """The command line that produced `args`, less --nproc (rebuilt from the parser's actions)."""
    positional, flags = [], []
    for action in _PARSER[0]._actions:
        if action.dest in ("help", "nproc"):
            continue
        value = getattr(args, action.dest, None)
        if isinstance(action, argparse.BooleanOptionalAction) and value is not None:
            flags.append(action.option_strings[0] if value else action.option_strings[1])
            continue
        if value is None or value is False:
            continue
        if not action.option_strings:
            positional.append(str(value))
        elif isinstance(action, argparse._StoreTrueAction):
            flags.append(action.option_strings[-1])
        elif value != action.default:
            flags += [action.option_strings[-1], str(value)]
    return flags + ["--", *positional] if positional else flags  # "--": a file named "-x.nas" stays a file


def _stored_nproc(saved: dict) -> int | None:
    """--resume goes on with as many processes as the run had (each rank's share of the batch, and so
    its weights, depend on it), as --nproc would; --nproc K changes it."""
    procs = int(saved.get("processes", 1))
    if procs > 1:
        print(f"resuming with --nproc {procs}, as the run was trained (give --nproc to change it)", flush=True)
    return procs if procs > 1 else None


def _check_devices(device_spec: str, procs: int) -> None:
    """Before torchrun: a --device this machine lacks, or fewer GPUs than processes, is one line here
    rather than the same error from every rank and torchrun's report."""
    import torch

    from .devices import resolve_device

    device = resolve_device(device_spec)
    if device.type == "cuda" and torch.cuda.device_count() < procs:
        raise NasError(f"--nproc {procs}: this machine has {torch.cuda.device_count()} GPU(s), one per process "
                       "is needed; use fewer processes, or --device cpu")


def _start_distributed(device_spec: str):
    """(rank, world, device) under torchrun (WORLD_SIZE > 1), else (0, 1, device)."""
    import torch

    from .devices import resolve_device

    world = int(os.environ.get("WORLD_SIZE", "1"))
    device = resolve_device(device_spec)
    if world == 1:
        return 0, 1, device
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        if local >= torch.cuda.device_count():
            raise NasError(f"process {local} of this machine has no GPU of its own ({torch.cuda.device_count()} "
                           "here): use at most one process per GPU, or --device cpu")
        device = torch.device("cuda", local)
    torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo", device_id=device
                                         if device.type == "cuda" else None)
    return torch.distributed.get_rank(), world, device


# -- the run ----------------------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    from .devices import check_device

    if "TORCHELASTIC_RUN_ID" in os.environ:  # a rank under torchrun: it goes when torchrun goes
        agent = os.environ.get(AGENT_ENV)
        if agent and agent.isdigit():  # --nproc's torchrun: if it died before the request, nothing will tell
            if not tie_to_parent(int(agent), signal.SIGTERM)():  # this rank, and nobody hosts its rendezvous
                os._exit(128 + signal.SIGTERM)  # as if told
        else:
            death_signal(signal.SIGTERM)()
    check_device(args.device)
    _check_numbers(args)
    _check_outputs(args)
    saved = _load(Path(args.out) / "checkpoint.pt") if args.resume else None
    settings = _settings(args, saved)
    if saved is not None and args.nproc is None and "WORLD_SIZE" not in os.environ:
        args.nproc = _stored_nproc(saved)
    _check_weights_file(args, settings)
    cfg = train_config(settings)  # a bad value fails here, once, not in K processes
    procs = int(os.environ.get("WORLD_SIZE", "0")) or args.nproc or 1
    if cfg.batch_size % procs:
        fix = "; give an --nproc that divides it (the run's batch cannot change)" if args.resume else ""
        raise NasError(f"--batch-size {cfg.batch_size} must be a multiple of the {procs} processes{fix}")
    if saved is not None and _owner():
        _check_unchanged(settings, saved)
    lock = _lock(args)
    try:
        if procs > 1 and "WORLD_SIZE" not in os.environ:
            _check_devices(args.device, procs)
            data = _build(settings)[3]  # a user mistake the ranks would meet is one line here, before torchrun
            _no_steps(lambda: check_steps(training_steps(data.train, cfg.batch_size, procs), data.train,
                                          cfg.batch_size, procs))
            return _until_stopped(args, lambda: _launch(args, lock))
        return _run_here(args, settings)
    finally:
        if lock is not None:
            lock.release()


# How gloo words a collective whose peer went away: closed, reset or a broken pipe, depending on
# where the peer was in the exchange; every such error comes from its TCP transport.
PEER_GONE = ("gloo/transport/", "Connection closed by peer", "Connection reset by peer", "Broken pipe")


def _peer_gone(error: RuntimeError) -> bool:
    import torch

    return isinstance(error, torch.distributed.DistError) or any(m in str(error) for m in PEER_GONE)


def _run_here(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    """Train in this process: alone (a signal stops it, see _until_stopped), or as one rank under
    torchrun (which stops it)."""
    rank, world, device = _start_distributed(args.device)
    if world == 1:
        return _until_stopped(args, lambda: _train(args, settings, rank, world, device))
    import torch

    try:
        return _train(args, settings, rank, world, device)
    except KeyboardInterrupt as e:  # torchrun stopping its ranks: under --nproc, the launcher says what stopped it
        if LAUNCHER_ENV not in os.environ:
            raise
        return 128 + getattr(e, "signum", signal.SIGINT)
    except NasError as e:  # the same mistake in every rank: under --nproc, left for the launcher to say once
        mistake = os.environ.get(MISTAKE_ENV)
        if not mistake or args.debug:
            raise
        _write_mistake(Path(f"{mistake}.{rank}"), e.render("nasdsl train"))
        return 2
    except RuntimeError as e:  # a collective whose peer is gone (killed, or failed first): not our bug
        if not _peer_gone(e):
            raise
        first = next((line.strip() for line in str(e).splitlines() if line.strip()), type(e).__name__)
        print(f"nasdsl train: process {rank}: another process of the run is gone ({first[:200]})", file=sys.stderr)
        return 1
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def mistakes_left(prefix: str) -> list[Path]:
    """The user mistakes ranks left under MISTAKE_ENV's `prefix` (PREFIX.RANK), lowest rank first."""
    where = Path(prefix)
    return sorted(where.parent.glob(where.name + ".*"), key=lambda p: int(p.suffix[1:]))


def _write_mistake(path: Path, text: str) -> None:
    """Whole or not at all: the launcher reads it once torchrun is gone, which this rank's exit precedes."""
    tmp = path.with_name("." + path.name)  # not a mistake.* of the launcher's glob yet
    tmp.write_text(text)
    tmp.rename(path)


def _open_data(settings: dict[str, Any], spec) -> Any:
    from .data import open_dataset

    dataset = settings.get("dataset") or "digits"
    image = settings.get("image")
    if image is None:
        image = 16 if dataset == "digits" else (spec.image if dataset.startswith("imagefolder:") else None)
    return open_dataset(dataset, image=image, augment=settings.get("augment") or "auto",
                        val_size=settings.get("val_size"), train_size=settings.get("train_size"),
                        split_seed=settings.get("split_seed") or 0, in_memory=False if settings.get("stream") else None)


def _build(settings: dict[str, Any]):
    """(program, network, spec, data, aux head on?, overrides, model): the network resolved, the
    data set opened, the model compiled for it, seeded. The --nproc launcher builds it once before
    torchrun starts, so that a user mistake met here is one line, exit 2, not K ranks' lines and
    torchrun's report."""
    import torch

    from nasdsl.codegen.generate import compile as compile_network

    program, network, spec = _network(settings)
    data = _open_data(settings, spec)
    fixed = settings["resolved"]["network"]
    aux = fixed["aux_head"]
    overrides: dict[str, Any] = {"image": data.image, "classes": data.classes,
                                 **{k: v for k, v in fixed.items() if v is not None}}
    torch.manual_seed(settings.get("seed") or 0)
    try:
        model = compile_network(program, network, overrides=overrides)
    except NasError as e:
        if aux and "aux head" in str(e):
            d = e.diagnostics[0]
            more = "(or train at a larger --image, or with --no-aux-head)"
            raise NasError(replace(d, hint=f"{d.hint}\n  {more}" if d.hint else more)) from None
        raise
    return program, network, spec, data, aux, overrides, model


def _no_steps(make: Callable[[], Any]) -> Any:
    """`make()`, with a data set and batch that make no training step as the flag's one line."""
    try:
        return make()
    except SettingError as e:
        raise NasError(e.flag_message()) from None


def _train(args: argparse.Namespace, settings: dict[str, Any], rank: int, world: int, device) -> int:
    import torch

    from .trainer import Trainer

    say = print if rank == 0 else (lambda *a, **k: None)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = train_config(settings)
    target = settings["target"]
    program, network, spec, data, aux, overrides, model = _build(settings)
    name = network or program.default_network()
    seed = settings.get("seed") or 0
    trainer = _no_steps(lambda: Trainer(model, cfg, data.train, data.val, seed=seed, device=device, amp=args.amp,
                                        channels_last=args.channels_last, workers=settings["loader_workers"]))
    folder = Path(args.out) if args.out else None
    history: list[dict] = []
    best = -1.0
    if args.resume:
        state = _load(folder / "checkpoint.pt")
        trainer.load_state_dict(state["trainer"])
        history, best = list(state["history"]), float(state["best_top1"])
        if rank == 0:  # the log says what the checkpoint holds (a kill may have come between the two)
            _write_log(folder / "log.jsonl", history)
        say(f"resuming {folder} after epoch {trainer.epoch}/{cfg.epochs}")
    params = sum(p.numel() for p in model.parameters())
    keep = overrides.get("drop_path_keep", spec.drop_path_keep)
    say(f"training {name} ({params:,} parameters, aux head {'on' if aux else 'off'}, drop path keep {keep}) "
        f"on {data.name} at {data.image}x{data.image}: {len(data.train)} train, {len(data.val)} held out; "
        f"recipe {settings.get('recipe') or 'cifar'} ({cfg.optimizer}, {cfg.schedule}, lr {cfg.lr:g}, "
        f"batch {cfg.batch_size}); {device}{' amp' if trainer.amp_dtype else ''}"
        + (f", {world} processes ({_threads(torch.get_num_threads())} each)" if world > 1 else ""), flush=True)
    card = data.card()
    info = {"network": name, "target": target, "image": data.image, "classes": data.classes,
            "ema": cfg.ema_decay > 0, "recipe": settings.get("recipe") or "cifar"}
    definition = _definition(program, spec)
    start = time.perf_counter()
    done_before = trainer.epoch
    while trainer.epoch < cfg.epochs:
        try:
            stats = trainer.train_epoch()
        except ChildDiverged as e:  # the settings' doing, not a fault of the program: one line
            kept = "; the last checkpoint is kept, and --resume would diverge again" if folder is not None \
                and (folder / "checkpoint.pt").exists() else ""
            raise NasError(f"the training diverged: {e}; try a lower --lr, or --grad-clip{kept}") from None
        ev = trainer.evaluate()
        state = trainer.state_dict()  # collective under torch.distributed: every rank calls it
        eval_weights = (trainer.ema.model if trainer.ema is not None else trainer.model).state_dict()
        if rank != 0:
            continue
        entry = {**stats, **{f"val_{k}" if k == "loss" else k: v for k, v in ev.items()}}  # loss: training's
        history.append(entry)
        elapsed = time.perf_counter() - start
        left = elapsed / (trainer.epoch - done_before) * (cfg.epochs - trainer.epoch)
        say(f"  epoch {trainer.epoch}/{cfg.epochs}  loss {stats['loss']:.4f}  top-1 {ev['top1']:.4f}  "
            f"top-5 {ev['top5']:.4f}  {stats['images_per_s']:.0f} img/s  {stats['seconds']:.1f} s  "
            f"(about {left:.0f} s left)", flush=True)
        if folder is not None:
            if ev["top1"] > best:
                best = ev["top1"]
                _save(weights_file(eval_weights, card, {**info, "epoch": trainer.epoch, "top1": best}),
                      folder / "best.pt")
            _save({"format": CHECKPOINT_FORMAT, "trainer": state, "settings": settings, "history": history,
                   "best_top1": best, "card": card, "info": info, "definition": definition, "processes": world},
                  folder / "checkpoint.pt")
            with open(folder / "log.jsonl", "a") as f:
                f.write(_log_line(entry))
    if world > 1:
        diff = trainer.replica_difference()
        say(f"replicas: {world} ranks, largest weight difference from rank 0: {diff:g}")
    ev = trainer.evaluate()
    final_weights = (trainer.ema.model if trainer.ema is not None else trainer.model).state_dict()
    test = trainer.evaluate(data.test) if data.test is not None else None
    if rank != 0:
        return 0
    say(f"held-out accuracy {ev['top1']:.4f} (top-5 {ev['top5']:.4f}) after {trainer.step} steps "
        f"({time.perf_counter() - start:.1f} s)" + (" with the EMA weights" if trainer.ema is not None else ""))
    if test is not None:
        say(f"test accuracy {test['top1']:.4f} (top-5 {test['top5']:.4f})")
    final = weights_file(final_weights, card, {**info, "epoch": trainer.epoch, "top1": ev["top1"]})
    written = []
    if folder is not None:
        _save(final, folder / "weights.pt")
        written.append(folder / "weights.pt")
    if args.output:
        _save(final, Path(args.output))
        written.append(Path(args.output))
    out = written[-1]
    say(f"wrote {', '.join(map(str, written))}: export it with  nasdsl export {target}"
        + (f" --network {name}" if settings.get("network") else "") + f" --weights {out} -o model.onnx")
    return 0
