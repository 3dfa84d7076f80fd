"""The `nasdsl` command. Each subcommand lives in its own module with `configure(parser)` and
`run(args) -> int`; only the chosen one is imported (torch loads only where it is needed).

Exit codes: 0 ok, 1 a check found something (e.g. `fmt --check`), 2 bad input or usage (a NasError:
one located message), 3 an internal error (one line; `--debug` shows the traceback of either),
128 + N stopped by signal N (`search`, `train`: 130 SIGINT, 143 SIGTERM, 129 SIGHUP; `serve` on a second one).
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import math
import os
import signal
import sys
import traceback

from ..errors import Diagnostic, NasError, print_error
from ..lang.spec import MAX_CLASSES, MAX_FILTERS, MAX_IMAGE, MAX_N
from .streams import silenced_when_unread

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("nasdsl.cli.commands.check", "parse and validate .nas files"),
    "fmt": ("nasdsl.cli.commands.fmt", "print the canonical form (--check: exit 1 if a file would change)"),
    "ir": ("nasdsl.cli.commands.ir", "print a cell's IR, optionally after passes"),
    "convert": ("nasdsl.cli.commands.convert", "convert genotypes between .nas, TF-slim and DARTS"),
    "stats": ("nasdsl.cli.commands.stats", "parameters and mult-adds per stage, from the IR alone"),
    "compile": ("nasdsl.cli.commands.compile", "generate a PyTorch module file"),
    "convert-weights": ("nasdsl.cli.commands.convert_weights", "map a reference state_dict onto ours"),
    "export": ("nasdsl.cli.commands.export", "export a network to ONNX"),
    "infer": ("nasdsl.cli.commands.infer", "classify images with an exported .onnx (onnxruntime)"),
    "serve": ("nasdsl.cli.commands.serve", "serve an exported .onnx over HTTP with dynamic batching (no torch)"),
    "viz": ("nasdsl.cli.commands.viz", "draw a cell as SVG, PNG or DOT"),
    "search": ("nasdsl_search.cli", "search cells: multi-trial (ppo, reinforce, random, evolution) or one-shot (random-ws, enas, darts)"),
    "report": ("nasdsl_search.report_cli", "summarize a search run (table, json, report.html)"),
    "train": ("nasdsl_search.train_cli", "train a compiled network on any data set (digits, CIFAR, npz, image folders)"),
}


# numeric flags of every command (by their dest): the allowed range (lo, hi, lo excluded); checked
# after parsing, before any work. The .nas keys' bounds (nasdsl.lang.spec) apply to the same flags.
_INF = float("inf")
FLAG_BOUNDS: dict[str, tuple[float, float, bool]] = {
    "image": (1, MAX_IMAGE, False), "classes": (1, MAX_CLASSES, False), "cells": (1, MAX_N, False),
    "filters": (1, MAX_FILTERS, False), "stem_multiplier": (1, 16, False),
    "threads": (1, 1024, False), "workers": (1, 1024, False), "trials": (1, 10**7, False),
    "epochs": (1, 10**5, False), "min_epochs": (1, 10**5, False), "max_epochs": (1, 10**5, False),
    "batch": (1, 10**6, False), "batch_size": (1, 10**6, False),
    "top": (1, 10**9, False), "train_size": (1, 10**9, False), "val_size": (1, 10**9, False),
    "controller_batch": (1, 10**5, False), "lstm_units": (1, 4096, False), "ppo_epochs": (1, 1000, False),
    "population": (1, 10**6, False), "sample_size": (1, 10**6, False), "max_params": (1, _INF, False),
    "max_madds": (1, _INF, False), "seed": (0, 2**32 - 1, False), "opset": (1, 10**3, False),
    "crop_pct": (0, 1, True), "drop_path_keep": (0, 1, True), "lr": (0, 1e3, True),
    "controller_lr": (0, 1e3, True), "momentum": (0, 1, False), "weight_decay": (0, 1, False),
    "entropy_weight": (0, 1e3, False), "baseline_decay": (0, 1, False), "init_range": (0, 1e3, True),
    "tanh_constant": (0, 1e3, False), "op_tanh_reduce": (0, 1e3, True),
    "ppo_clip": (0, 1e3, True), "aux_weight": (0, 1e3, False), "failed_reward": (-1e6, 1e6, False),
    "minutes": (0, 10**7, True), "repeats": (1, 100, False), "split_seed": (0, 2**32 - 1, False),
    "grad_clip": (0, 1e6, False), "rmsprop_decay": (0, 1, False), "rmsprop_eps": (0, 1e3, True),
    "supernet_epochs": (1, 10**5, False), "supernet_lr": (0, 1e3, True), "supernet_lr_min": (0, 1e3, False),
    "arch_lr": (0, 1e3, True), "arch_warmup": (0, 10**5, False),
    "arch_weight_decay": (0, 1, False), "controller_steps": (0, 10**6, False), "rank_samples": (1, 10**5, False),
    "eval_images": (1, 10**9, False), "top_k": (1, 10**5, False),
    # serve: a batch waits at most a minute (inf would hold a lone request until the next one came)
    "port": (0, 65535, False), "max_batch": (1, 4096, False), "max_queue": (1, 10**6, False),
    "max_body": (1, 2**40, False), "max_pixels": (1, 10**10, False), "min_side": (1, 10**5, False),
    "decode_threads": (1, 1024, False), "max_wait_ms": (0, 60_000, False), "read_timeout": (0, 86_400, True),
    "min_upload_rate": (0, 2**40, False),
}


def check_flags(args: argparse.Namespace) -> None:
    """Every numeric flag given is finite and within FLAG_BOUNDS (NasError naming the flag)."""
    for dest in FLAG_BOUNDS:
        check_bound(dest, getattr(args, dest, None))


def check_bound(dest: str, v: object) -> None:
    """NasError naming the flag when the number `v` of flag `dest` is not finite or is outside its
    FLAG_BOUNDS (anything not a number is left to the flag's parser)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return
    lo, hi, lo_open = FLAG_BOUNDS[dest]
    flag = "--" + dest.replace("_", "-")
    if not math.isfinite(v):
        raise NasError(f"{flag} must be a finite number, got {v}")
    if (v <= lo) if lo_open else (v < lo):
        raise NasError(f"{flag} must be {'greater than' if lo_open else 'at least'} {_num(lo)}, got {v:g}")
    if v > hi:
        raise NasError(f"{flag} must be at most {_num(hi)}, got {v:g}")


def _num(x: float) -> str:
    return "∞" if math.isinf(x) else str(int(x)) if float(x).is_integer() else f"{x:g}"


# flags for which an empty value means something: no passes
EMPTY_ALLOWED = frozenset({"passes", "graph_passes"})


def check_not_empty(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """NasError naming the argument given as an empty string ("" names no file: a path would turn it
    into the current folder, a name into nothing at all; `serve --host ""` would name no address)."""
    for action in parser._actions:
        value = getattr(args, action.dest, None)
        values = value if isinstance(value, (list, tuple)) else [value]
        if action.dest not in EMPTY_ALLOWED and any(v == "" for v in values):
            what = "/".join(action.option_strings) if action.option_strings else action.metavar or action.dest.upper()
            raise NasError(f"{what}: an empty argument; give a value")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors: exit 2, no traceback
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _top_help() -> str:
    width = max(len(n) for n in COMMANDS)
    lines = ["usage: nasdsl COMMAND [options]   (nasdsl COMMAND --help for more)", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "global options: --debug (show the traceback of any error), --version"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """One command line. A reader of its output that goes away (`nasdsl --help | head -1`) silences
    it and does not stop it (streams.py)."""
    with silenced_when_unread():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    if not argv or argv[0] in ("-h", "--help"):
        print(_top_help())
        return 0 if argv else 2
    if argv[0] in ("-V", "--version"):
        from .. import __version__
        print(f"nasdsl {__version__}")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        from ..lang.ops import suggest
        hint = suggest(name, COMMANDS)
        print(f"nasdsl: error: unknown command {name!r}" + (f"; {hint}" if hint else ""), file=sys.stderr)
        print(_top_help(), file=sys.stderr)
        return 2
    return _run(name, rest, debug)


# what the OS says of a path the user gave, wherever a command meets it: a user mistake (a name
# longer than the file system allows, a loop of symbolic links), not the command's
USER_PATH_ERRORS = (errno.ENAMETOOLONG, errno.ELOOP)


def _run(name: str, rest: list[str], debug: bool) -> int:
    """Run one command under the one rule: a user mistake (NasError) is its message and exit 2;
    anything else is an internal error, one line and exit 3; --debug adds the traceback to both."""
    module_name, help_ = COMMANDS[name]
    prog = f"nasdsl {name}"
    try:
        module = importlib.import_module(module_name)
        parser = _Parser(prog=prog, description=help_)
        module.configure(parser)
        args = parser.parse_args(rest)
        check_not_empty(parser, args)
        check_flags(args)
        args.debug = debug
        return int(module.run(args) or 0)
    except NasError as e:
        _quietly(print_error, e, debug, prog)
        return 2
    except KeyboardInterrupt as e:  # what a command does not handle itself; a stop signal's carries its number
        signum = getattr(e, "signum", signal.SIGINT)
        _quietly(print, "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}",
                 file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:  # a write around sys.stdout (streams.py): the reader is gone, nothing more to say
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as e:
        if e.errno not in USER_PATH_ERRORS:
            return _internal_error(e, prog, debug)
        name = str(e.filename)
        shown = name if len(name) <= 80 else name[:77] + "..."
        _quietly(print_error, NasError(Diagnostic(os.strerror(e.errno).lower(), shown)), debug, prog)
        return 2
    except Exception as e:  # noqa: BLE001 - the one place where an unexpected error becomes a line
        return _internal_error(e, prog, debug)


def _internal_error(e: Exception, prog: str, debug: bool) -> int:
    if debug:
        _quietly(traceback.print_exc)
    what = f"{type(e).__name__}: {e}".splitlines()[0][:300]
    _quietly(print, f"{prog}: internal error: {what}" + ("" if debug else " (rerun with --debug for the traceback)"),
             file=sys.stderr)
    return 3


def _quietly(say, *args, **kwargs) -> None:
    """Say why the command ends; a terminal that is gone (closed: EIO) takes no more lines, and the exit
    status must still be the one that says why."""
    with contextlib.suppress(OSError):
        say(*args, **kwargs)


if __name__ == "__main__":
    sys.exit(main())
