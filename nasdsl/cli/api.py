"""`nasdsl.search(...)`: run (or continue) a cell search from Python, e.g. a script or a notebook.

    import nasdsl

    summary = nasdsl.search(out="runs/demo", strategy="random", trials=20, reward="synthetic")
    print(summary.best_reward, summary.folder / "best.nas")

It works the same from a script (no `if __name__ == "__main__":` guard needed: the local pool's
workers are spawned without importing the driver's `__main__` again) and from a notebook.

The same settings as `nasdsl search`'s flags (underscores for dashes): strategy, space, seed, reward,
dataset, val_size, train_size, repeats, max_params, max_madds, budget_on, cells, filters, stem_multiplier,
epochs, batch_size, lr, momentum, weight_decay, controller_lr, entropy_weight, baseline_decay,
controller_batch, lstm_units, init_range, ppo_epochs, ppo_clip, population, sample_size,
failed_reward. The search package (`nasdsl_search`) is imported only when this function is called.
"""
from __future__ import annotations

from typing import Any

from ..errors import NasError


def search(out: str, *, resume: bool = False, trials: int | None = None, executor: str = "local",
           workers: int = 1, address: str | None = None, threads: int | None = None,
           progress: bool = False, minutes: float | None = None, **settings: Any):
    """Run the search in the run folder `out` until `trials` trials have finished; returns a
    `nasdsl_search.driver.RunSummary` (folder, counts, best_reward, best_trial, seconds). `resume=True`
    continues the run in `out` (its settings are those it was started with); `minutes` bounds this
    call's wall time (nothing new starts after it). Ctrl-C stops it
    cleanly (the workers are stopped; run it again with resume=True to continue). Raises
    NasError for a bad setting or a run folder in use by another driver."""
    import argparse

    from nasdsl_search.cli import _RUN_FLAGS, config_from_args
    from nasdsl_search.driver import Search

    unknown = sorted(set(settings) - set(_RUN_FLAGS))
    if unknown:
        raise NasError(f"nasdsl.search: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(_RUN_FLAGS))}")
    if workers < 1 or (threads is not None and threads < 1):
        raise NasError("nasdsl.search: workers and threads must be at least 1")
    if resume:
        if settings:
            raise NasError(f"nasdsl.search(resume=True) continues a run as it was configured; drop "
                           f"{', '.join(sorted(settings))}")
        run = Search(out, resume=True, trials=trials)
    else:
        args = argparse.Namespace(trials=trials, **{f: settings.get(f) for f in _RUN_FLAGS})
        run = Search(out, config_from_args(args))
    try:
        return run.run(executor=executor, workers=workers, address=address, threads=threads, progress=progress,
                       minutes=minutes)
    finally:
        run.close()
