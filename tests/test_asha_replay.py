"""benchmarks/asha_replay.py replays ASHA through the search's own scheduler on learning curves; its
figures mean something only if it rewards fidelity: a proxy whose early epochs rank cells as the last
does must save more, and one whose early epochs are noise must lose the best cells."""
from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import asha_replay  # noqa: E402


def _saving(curves: list[list[float]], replays: int = 100) -> tuple[float, float]:
    """(share of replays that reached random's best, total saving: a replay that never reached it
    charged all it spent)."""
    runs = [asha_replay.replay(curves, random.Random(i).sample(range(len(curves)), len(curves)), 160, 3, 1, 2, 0.35)
            for i in range(replays)]
    return sum(reached for _, reached in runs) / len(runs), 160 * len(runs) / sum(spent for spent, _ in runs)


def test_fidelity_decides_what_asha_saves():
    rng = random.Random(1)
    final = [rng.random() for _ in range(120)]
    faithful = [[f * 0.25, f * 0.5, f * 0.75, f] for f in final]  # every epoch ranks as the last
    noise = [[rng.random(), rng.random(), rng.random(), f] for f in final]  # only the last epoch ranks
    reached, saving = _saving(faithful)
    assert reached == 1.0 and saving > 3.0  # more than successive halving's 2.25x: the best comes early too
    reached_noise, saving_noise = _saving(noise)
    assert reached_noise < 0.5 and saving_noise < saving


def test_a_pool_smaller_than_what_asha_may_start_is_refused(tmp_path, capsys, monkeypatch):
    import json

    path = tmp_path / "curves.json"
    path.write_text(json.dumps({"cells": {str(i): [[0.1 * i, 1.0]] * 4 for i in range(30)}, "reduction": 3}))
    monkeypatch.setattr(sys, "argv", ["asha_replay.py", str(path), "--replays", "3"])
    assert asha_replay.main() == 2
    assert "measure at least that many" in capsys.readouterr().err


def test_a_replay_that_never_reaches_the_target_is_charged_what_it_spent():
    """A draw order in which ASHA stops the best cell early never reaches random's best: it spent
    child-epochs all the same (the first version left such replays out of the total saving)."""
    curves = [[0.0, 0.0, 0.0, 1.0]] + [[0.5] * 4 for _ in range(119)]  # cell 0 blooms late, drawn first
    spent, reached = asha_replay.replay(curves, list(range(120)), 160, 3, 1, 2, 0.35)
    assert not reached and spent >= 113  # every trial ASHA may start trained at least its first epoch
