"""Asynchronous successive halving (ASHA, Li et al., MLSys 2020) over epochs, as pure bookkeeping.

Rungs are epoch counts: min_epochs, min_epochs * eta, min_epochs * eta^2, ... below max_epochs,
then max_epochs. A trial trains to a rung, reports its held-out accuracy there, and waits.
Whenever a worker is free, `next_job` promotes the best trial that is in the top 1/eta of those
that reached its rung and was not promoted yet (the highest rung first); if there is none, a new
trial starts at the bottom rung (while the trial budget lasts).

A waiting trial is *settled* (stopped for good) once it can never be promoted: even if every trial
that may still reach its rung ranks below it, it stays outside the top 1/eta. A trial is also
settled when it finishes the top rung or fails. Each trial is settled exactly once, and the driver
tells the strategy about it then, with its accuracy at the highest rung it reached.

Nothing here trains or touches files; the driver feeds it events in the order they were stored,
so a run rebuilt from its store makes the same decisions.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from nasdsl.errors import NasError

SCHEDULERS = ("none", "asha")


def rung_epochs(min_epochs: int, max_epochs: int, eta: int) -> tuple[int, ...]:
    """The rungs' epoch counts; NasError (one line) for settings that cannot work."""
    if eta < 2:
        raise NasError(f"--reduction must be at least 2, got {eta}")
    if min_epochs < 1:
        raise NasError(f"--min-epochs must be at least 1, got {min_epochs}")
    if min_epochs > max_epochs:
        raise NasError(f"--min-epochs {min_epochs} is above --max-epochs {max_epochs}")
    if min_epochs == max_epochs:
        raise NasError(f"--scheduler asha needs at least two rungs, but --min-epochs equals --max-epochs "
                       f"({max_epochs}): nothing could be stopped early")
    rungs, e = [], min_epochs
    while e < max_epochs:
        rungs.append(e)
        e *= eta
    return (*rungs, max_epochs)


@dataclass
class Asha:
    """The scheduler's state: rung results, promotions, jobs in flight, settled trials."""

    rungs: tuple[int, ...]
    eta: int
    budget: int  # trials that may be started in all
    results: list[dict[int, float]] = field(default_factory=list)  # per rung: trial -> accuracy
    promoted: list[set[int]] = field(default_factory=list)  # per rung: trials promoted out of it
    started: set[int] = field(default_factory=set)  # trials started at the bottom rung
    jobs: dict[int, int] = field(default_factory=dict)  # trial -> rung it is training towards
    failed: set[int] = field(default_factory=set)
    settled: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.results = self.results or [{} for _ in self.rungs]
        self.promoted = self.promoted or [set() for _ in self.rungs]

    @property
    def top(self) -> int:
        return len(self.rungs) - 1

    # -- events
    def start(self, trial: int) -> None:
        """A new trial begins training towards rung 0."""
        self.started.add(trial)
        self.jobs[trial] = 0

    def promote(self, trial: int, rung: int) -> None:
        """`trial` goes on from `rung` to `rung + 1`."""
        if trial not in self.results[rung] or trial in self.promoted[rung] or rung >= self.top:
            raise ValueError(f"trial {trial} cannot be promoted from rung {rung}")
        self.promoted[rung].add(trial)
        self.jobs[trial] = rung + 1

    def report(self, trial: int, rung: int, accuracy: float) -> None:
        """`trial` reached `rung` with this held-out accuracy."""
        if trial in self.results[rung]:
            raise ValueError(f"trial {trial} already reported rung {rung}")
        self.results[rung][trial] = float(accuracy)
        self.jobs.pop(trial, None)

    def fail(self, trial: int) -> None:
        self.failed.add(trial)
        self.settled.add(trial)
        self.jobs.pop(trial, None)

    # -- questions
    def reached(self, trial: int) -> int | None:
        """The highest rung `trial` has a result at (None: none yet)."""
        return max((k for k, r in enumerate(self.results) if trial in r), default=None)

    def accuracy(self, trial: int) -> float | None:
        """Its accuracy at the highest rung it reached: what the strategy is told."""
        k = self.reached(trial)
        return None if k is None else self.results[k][trial]

    def ranked(self, rung: int) -> list[int]:
        """Trials with a result at `rung`, best first (ties: lower trial id first)."""
        r = self.results[rung]
        return sorted(r, key=lambda t: (-r[t], t))

    def promotable(self, rung: int) -> list[int]:
        """Trials at `rung`, in its top 1/eta, waiting (not promoted, not settled), best first."""
        if rung >= self.top:
            return []
        k = len(self.results[rung]) // self.eta
        return [t for t in self.ranked(rung)[:k]
                if t not in self.promoted[rung] and t not in self.settled and t not in self.jobs]

    def next_job(self) -> tuple[str, int | None, int] | None:
        """What a free worker does: ("promote", trial, to_rung), ("new", None, 0), or None (wait)."""
        for rung in range(self.top - 1, -1, -1):
            cands = self.promotable(rung)
            if cands:
                return "promote", cands[0], rung + 1
        if len(self.started) < self.budget:
            return "new", None, 0
        return None

    def to_settle(self) -> list[int]:
        """Trials that are now over and not yet settled, in id order: those that finished the top
        rung, and waiting trials that can never be promoted. The caller settles them (`settle`)."""
        out: set[int] = {t for t in self.results[self.top] if t not in self.settled}
        gone = set(self.settled) | out
        not_started = self.budget - len(self.started)
        for rung in range(self.top):
            # trials that may still add a result at this rung: not started, or alive below it
            below = sum(1 for t in self.started
                        if t not in gone and (self.reached(t) is None or self.reached(t) < rung))
            cap = (len(self.results[rung]) + max(not_started, 0) + below) // self.eta
            for i, t in enumerate(self.ranked(rung)):
                if (i >= cap and t not in gone and t not in self.promoted[rung] and t not in self.jobs
                        and self.reached(t) == rung):
                    out.add(t)
                    gone.add(t)
        return sorted(out)

    def settle(self, trial: int) -> None:
        self.settled.add(trial)

    def done(self) -> bool:
        """Nothing in flight, nothing to promote or start, every trial settled."""
        return not self.jobs and self.next_job() is None and self.settled >= self.started

    def child_epochs(self) -> int:
        """Epochs trained so far by finished rung jobs (each continues from the previous rung)."""
        total = 0
        for k, r in enumerate(self.results):
            total += len(r) * (self.rungs[k] - (self.rungs[k - 1] if k else 0))
        return total
