"""ASHA bookkeeping (search/scheduler.py) on synthetic rung results: a hand-worked example, the
relation to synchronous successive halving with one worker, settling, and the bad settings."""
from __future__ import annotations

import random

import pytest

from nasdsl.errors import NasError
from nasdsl_search.scheduler import Asha, rung_epochs


def simulate(scores: dict[int, float], rungs=(1, 3, 9), eta=3, bonus=0.01):
    """One worker: ask for a job, run it (score at rung k = scores[trial] + k * bonus), report it,
    settle what is over. Returns the scheduler, the job log and the order trials were settled in."""
    asha = Asha(rungs, eta, budget=len(scores))
    log, settled, next_id = [], [], 1
    while True:
        job = asha.next_job()
        if job is None:
            break
        kind, trial, rung = job
        if kind == "new":
            trial, next_id = next_id, next_id + 1
            asha.start(trial)
        else:
            asha.promote(trial, rung - 1)
        log.append((trial, rung))
        asha.report(trial, rung, scores[trial] + rung * bonus)
        for t in asha.to_settle():
            asha.settle(t)
            settled.append(t)
    assert asha.done()
    return asha, log, settled


def test_rungs_are_geometric_up_to_max_epochs():
    assert rung_epochs(1, 9, 3) == (1, 3, 9)
    assert rung_epochs(1, 10, 3) == (1, 3, 9, 10)
    assert rung_epochs(2, 16, 2) == (2, 4, 8, 16)
    assert rung_epochs(2, 4, 3) == (2, 4)


@pytest.mark.parametrize("args, message", [
    ((5, 4, 3), "--min-epochs 5 is above --max-epochs 4"),
    ((1, 9, 1), "--reduction must be at least 2, got 1"),
    ((0, 9, 3), "--min-epochs must be at least 1"),
    ((4, 4, 3), "needs at least two rungs"),
])
def test_settings_that_cannot_work_are_one_line_errors(args, message):
    with pytest.raises(NasError) as e:
        rung_epochs(*args)
    assert message in e.value.render() and "\n" not in e.value.render().strip()


def test_hand_worked_example():
    # eta 3, rungs 1/3/9 epochs, 9 trials, one worker (worked through by hand in the comments)
    scores = {1: .5, 2: .7, 3: .6, 4: .9, 5: .4, 6: .8, 7: .3, 8: .2, 9: .95}
    asha, log, settled = simulate(scores)
    assert log == [
        (1, 0), (2, 0), (3, 0),
        (2, 1),            # 3 results at rung 0: the top 1 (trial 2, 0.7) goes on
        (4, 0), (4, 1),    # 4 results: trial 4 (0.9) is now the top 1, not yet promoted
        (5, 0), (6, 0),
        (6, 1),            # 6 results: top 2 = trials 4 and 6; 6 goes on
        (4, 2),            # rung 1 has 3 results: its top 1 (trial 4) goes to the top rung first
        (7, 0), (8, 0), (9, 0),
        (9, 1), (9, 2),    # 9 results at rung 0, top 3 = 9, 4, 6; then 9 tops rung 1 (4 results)
    ]
    # after trial 5: at most 9 results at rung 0, so a top 3, and 4, 2, 3 beat both 1 and 5;
    # after trial 6: 4, 6, 2 beat 3; after 6 reaches rung 1: at most 6 trials can reach rung 1
    # (top 2) and 4, 6 beat 2; 4 finishes the top rung; after trial 7, at most 5 reach rung 1
    # (top 1 = trial 4), so 6 is over too, as are 7, 8 (bottom of rung 0) and 9 (finished)
    assert settled == [1, 5, 3, 2, 4, 6, 7, 8, 9]
    assert [sorted(r) for r in asha.results] == [list(range(1, 10)), [2, 4, 6, 9], [4, 9]]
    assert asha.child_epochs() == 9 * 1 + 4 * 2 + 2 * 6
    assert asha.accuracy(9) == pytest.approx(0.97) and asha.accuracy(5) == pytest.approx(0.4)


def successive_halving(scores: dict[int, float], rungs, eta, bonus=0.01) -> list[set[int]]:
    alive = set(scores)
    out = []
    for k in range(len(rungs)):
        out.append(set(alive))
        ranked = sorted(alive, key=lambda t: (-(scores[t] + k * bonus), t))
        alive = set(ranked[:len(ranked) // eta])
    return out


@pytest.mark.parametrize("seed", range(8))
def test_one_worker_asha_contains_synchronous_successive_halving(seed):
    rng = random.Random(seed)
    n, eta, rungs = 27, 3, (1, 3, 9, 27)
    scores = {t: rng.random() for t in range(1, n + 1)}
    asha, _, settled = simulate(scores, rungs, eta)
    sh = successive_halving(scores, rungs, eta)
    for k in range(len(rungs)):  # every survivor of synchronous SH reached the same rung in ASHA
        assert sh[k] <= set(asha.results[k]), k
    assert max(scores, key=scores.get) in asha.results[-1]  # the best trial always reaches the top
    assert sorted(settled) == list(range(1, n + 1))  # each trial settled exactly once
    # arriving best-first, ASHA makes exactly the synchronous decisions
    ordered = dict(zip(range(1, n + 1), sorted(scores.values(), reverse=True)))
    asha2, _, _ = simulate(ordered, rungs, eta)
    assert [set(r) for r in asha2.results] == successive_halving(ordered, rungs, eta)


def test_settling_is_never_premature():
    """A trial settled as hopeless is never in its rung's top 1/eta at the end of the run."""
    for seed in range(20):
        rng = random.Random(seed)
        scores = {t: rng.random() for t in range(1, 19)}
        asha, _, settled = simulate(scores, (1, 2, 4, 8), 2)
        for t in settled:
            k = asha.reached(t)
            if k < asha.top:
                assert t not in asha.ranked(k)[:len(asha.results[k]) // asha.eta]


def test_failures_free_their_place_and_two_workers_keep_busy():
    asha = Asha((1, 3), 3, budget=4)
    for t in (1, 2):
        asha.start(t)
    assert asha.next_job() == ("new", None, 0)  # a free worker never waits for a rung to fill
    asha.fail(1)
    asha.report(2, 0, 0.5)
    assert asha.to_settle() == []  # 2 more trials may come: rung 0 may still get 3 results
    asha.start(3)
    asha.start(4)
    asha.report(3, 0, 0.6)
    asha.report(4, 0, 0.7)
    assert asha.next_job() == ("promote", 4, 1)
    asha.promote(4, 0)
    assert asha.to_settle() == [2, 3]
    asha.report(4, 1, 0.8)
    assert asha.to_settle() == [2, 3, 4]
