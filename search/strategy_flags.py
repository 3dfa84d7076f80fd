"""Which `nasdsl search` flags mean something for which strategies. A flag typed for a strategy that
would ignore it is a user mistake (one line, exit 2), never a silent no-op:

- multi-trial only: the one-shot strategies train one supernet in the driver and their picks
  stand-alone after it, so the trial count, executor, budgets, early stopping and reward kind of
  the multi-trial loop do not apply to them;
- one-shot only: the supernet flags (search/oneshot.py `configure`), some of them for one strategy;
- a strategy's own options: the LSTM controller's flags, PPO's, evolution's;
- `--reward synthetic` trains no child: the data and child-training flags mean nothing to it
  (`--epochs` only scales ASHA's rungs).

Flags left out of SCOPE apply to every strategy; only flags the user typed count (their argparse
default is None)."""
from __future__ import annotations

from nasdsl.errors import NasError

from .oneshot import ONESHOT as ONE_SHOT
from .strategies import STRATEGIES

MULTI_TRIAL = tuple(name for name in STRATEGIES if name not in ONE_SHOT)
CONTROLLER = ("ppo", "reinforce", "enas")  # the strategies with the LSTM controller (search/strategies/rl.py)

# argparse dest -> the strategies it is for
SCOPE: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("trials", "reward", "executor", "workers", "address", "amp", "gpus_per_trial",
                     "cpus_per_trial", "max_params", "max_madds", "budget_on", "scheduler", "min_epochs",
                     "max_epochs", "reduction"), MULTI_TRIAL),
    **dict.fromkeys(("controller_lr", "entropy_weight", "baseline_decay", "controller_batch", "lstm_units",
                     "init_range", "tanh_constant", "op_tanh_reduce"), CONTROLLER),
    "ppo_epochs": ("ppo",), "ppo_clip": ("ppo",),
    "population": ("evolution",), "sample_size": ("evolution",),
    "failed_reward": tuple(name for name in MULTI_TRIAL if STRATEGIES[name].learns_from_failures),
    **dict.fromkeys(("supernet_epochs", "supernet_lr", "supernet_lr_min", "eval_images"), ONE_SHOT),
    "top_k": ("random-ws", "enas"), "rank_samples": ("random-ws", "enas"),  # darts trains its one derived cell
    "controller_steps": ("enas",), "arch_lr": ("darts",), "arch_weight_decay": ("darts",),
    "arch_warmup": ("darts",),
}


# argparse dests of the children's data and training recipe, which `--reward synthetic` ignores (where
# the children would run, --device, --amp and the like, is left to the executor's checks)
CHILD_TRAINING = ("dataset", "val_size", "image", "augment", "train_size", "repeats", "batch_size", "lr",
                  "momentum", "weight_decay", "precise_bn")


def _who(strategies: tuple[str, ...]) -> str:
    if strategies == MULTI_TRIAL:
        return f"the multi-trial strategies ({', '.join(MULTI_TRIAL)})"
    if strategies == ONE_SHOT:
        return f"the one-shot strategies ({', '.join(ONE_SHOT)})"
    *rest, last = strategies
    return f"--strategy {', '.join(rest)} or {last}" if rest else f"--strategy {last}"


def check_flags(args, strategy: str) -> None:
    """NasError naming the first flag typed that `strategy` would ignore, and the strategies it is for."""
    for dest, strategies in SCOPE.items():
        if strategy not in strategies and getattr(args, dest, None) is not None:
            raise NasError(f"--{dest.replace('_', '-')} is for {_who(strategies)} only; "
                           f"this run's strategy is {strategy}")


def check_reward_flags(args) -> None:
    """NasError naming the first data or child-training flag typed for a run that trains no child."""
    if getattr(args, "reward", None) != "synthetic":
        return
    ignored = CHILD_TRAINING + (() if getattr(args, "scheduler", None) == "asha" else ("epochs",))
    for dest in ignored:
        if getattr(args, dest, None) is not None:
            raise NasError(f"--{dest.replace('_', '-')} is for runs that train their children; "
                           "--reward synthetic trains none")
