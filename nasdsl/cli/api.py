"""`nasdsl.search(...)`: run (or continue) a cell search from Python, e.g. a script or a notebook.

    import nasdsl

    summary = nasdsl.search(out="runs/demo", strategy="random", trials=20, reward="synthetic")
    print(summary.best_reward, summary.folder / "best.nas")

It works the same from a script (no `if __name__ == "__main__":` guard needed: the local pool's
workers are spawned without importing the driver's `__main__` again) and from a notebook.

A one-shot strategy (random-ws, enas, darts), or `resume=True` on a one-shot run folder, runs the
one-shot loop as `nasdsl search --strategy enas` does:

    summary = nasdsl.search(out="runs/enas", strategy="enas", space="enas", supernet_epochs=10)

The same settings as `nasdsl search`'s flags (underscores for dashes): strategy, space, seed, reward,
dataset, val_size, train_size, repeats, image, augment, max_params, max_madds, budget_on, scheduler,
min_epochs, max_epochs, reduction, cells, filters, stem_multiplier, epochs, batch_size, lr, momentum,
weight_decay, controller_lr, entropy_weight, baseline_decay, controller_batch, lstm_units, init_range,
tanh_constant, op_tanh_reduce, ppo_epochs, ppo_clip, population, sample_size, failed_reward; the
one-shot ones supernet_epochs, supernet_lr, supernet_lr_min, controller_steps, rank_samples,
eval_images, top_k, arch_lr, arch_weight_decay, arch_warmup; and device, amp, gpus_per_trial, cpus_per_trial.
They are checked as the command line checks them: a setting the run's strategy would ignore
(`trials` or `workers` with enas, `top_k` with ppo) is refused (search/strategy_flags.py). The
search package (`nasdsl_search`) is imported only when this function is called.
"""
from __future__ import annotations

import os
from typing import Any

from ..errors import NasError


def _check_types(parser, settings: dict[str, Any]) -> None:
    """Each setting of the type (and among the choices) its command-line flag parses to: the
    command line never hands a str to an int flag, nor anything but a str to a text flag or a bool
    to a switch, so nothing after it checks for one."""
    for action in parser._actions:
        v = settings.get(action.dest)
        if v is None:
            continue
        if action.nargs == 0 and not isinstance(v, bool):  # a switch (--amp)
            raise NasError(f"nasdsl.search: {action.dest} must be True or False, got {v!r}")
        if action.type is None and action.nargs is None and not isinstance(v, str):
            raise NasError(f"nasdsl.search: {action.dest} must be a string, got {v!r}")
        if action.type in (int, float):
            ok = not isinstance(v, bool) and isinstance(v, int if action.type is int else (int, float))
            if not ok:
                kind = "an integer" if action.type is int else "a number"
                raise NasError(f"nasdsl.search: {action.dest} must be {kind}, got {v!r}")
        if action.choices is not None and v not in action.choices:
            raise NasError(f"nasdsl.search: {action.dest} must be one of {', '.join(map(str, action.choices))}, "
                           f"got {v!r}")


def search(out: str, *, resume: bool = False, trials: int | None = None, executor: str | None = None,
           workers: int | None = None, address: str | None = None, threads: int | None = None,
           progress: bool = False, minutes: float | None = None, **settings: Any):
    """Run the search in the run folder `out`; returns a summary with `folder`, `counts`,
    `best_reward`, `best_trial` and `seconds` (this call's). A multi-trial strategy runs until
    `trials` trials have finished (`nasdsl_search.driver.RunSummary`; executor local and 1 worker unless
    given); a one-shot strategy trains its supernet and its picks stand-alone, which are the run's
    trials (`nasdsl_search.oneshot.OneShotSummary`, with `picks`). `resume=True` continues the run in
    `out` (its settings are those it was started with; a multi-trial run may change `trials` and
    where it runs); `minutes` bounds this call's wall time: nothing new starts after it (a trial or
    promotion; one-shot: a supernet epoch or a pick), and resume=True goes on from there.
    Ctrl-C stops it cleanly (the workers are stopped; run it again with resume=True to continue).
    Raises NasError for a bad setting or a run folder in use by another driver."""
    import argparse

    from nasdsl_search import cli, oneshot

    from .dispatch import check_flags, check_not_empty

    if not isinstance(out, (str, os.PathLike)):
        raise NasError(f"nasdsl.search: out must be a path (a str or a Path), got {out!r}")
    for name, v in (("resume", resume), ("progress", progress)):
        if not isinstance(v, bool):
            raise NasError(f"nasdsl.search: {name} must be True or False, got {v!r}")
    known = {*cli.RUN_FLAGS, *oneshot.FLAGS, *cli.HARDWARE}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise NasError(f"nasdsl.search: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    parser = argparse.ArgumentParser()
    cli.configure(parser)
    args = parser.parse_args([])  # every flag as `nasdsl search` alone has it: not given
    _check_types(parser, {**settings, "trials": trials, "workers": workers, "threads": threads, "minutes": minutes,
                          "executor": executor, "address": address})
    vars(args).update(settings, out=str(out), resume=resume, trials=trials, executor=executor, workers=workers,
                      address=address, threads=threads, minutes=minutes, quiet=not progress)
    check_not_empty(parser, args)
    check_flags(args)  # the command line's bounds (nan, 0, ...), before any folder is made
    strategy = cli.check_args(args)
    if oneshot.is_oneshot(strategy or ""):
        run = oneshot.open_cli(args, None if resume else cli.config_from_args(args), cli.RUN_FLAGS)
        try:
            return run.run(progress=progress, minutes=minutes)
        finally:
            run.close()
    if not resume and workers is None:
        args.workers = 1  # from Python one worker unless asked (the command line's default is 2)
    run, chosen, executor = cli.open_run(args)
    try:
        return cli.run_search(run, chosen, executor, progress, minutes)
    finally:
        run.close()
