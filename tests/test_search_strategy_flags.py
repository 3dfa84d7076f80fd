"""A `nasdsl search` flag typed for a strategy that would ignore it is refused in one line, exit 2,
naming the flag and the strategies it is for (search/strategy_flags.py), through the real CLI, before
any run folder is made; the resumed run's own strategy counts under --resume."""
from __future__ import annotations

import pytest
from proc_helpers import run_cli

ONE_SHOT = "the one-shot strategies (random-ws, enas, darts)"
MULTI = "the multi-trial strategies (ppo, reinforce, random, evolution)"


def _refused(r, *needles: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


@pytest.mark.parametrize("argv, flag, who", [
    (["--strategy", "ppo", "--supernet-epochs", "2"], "--supernet-epochs", ONE_SHOT),
    (["--supernet-lr", "0.1"], "--supernet-lr", ONE_SHOT),  # the default strategy (ppo) is multi-trial
    (["--strategy", "random-ws", "--scheduler", "asha"], "--scheduler", MULTI),
    (["--strategy", "enas", "--min-epochs", "2"], "--min-epochs", MULTI),
    (["--strategy", "darts", "--reduction", "2"], "--reduction", MULTI),
    (["--strategy", "darts", "--executor", "ray"], "--executor", MULTI),
    (["--strategy", "random-ws", "--workers", "2"], "--workers", MULTI),
    (["--strategy", "enas", "--trials", "5"], "--trials", MULTI),
    (["--strategy", "random-ws", "--reward", "synthetic"], "--reward", MULTI),
    (["--strategy", "darts", "--no-amp"], "--amp", MULTI),
    (["--strategy", "darts", "--top-k", "3"], "--top-k", "--strategy random-ws or enas"),
    (["--strategy", "random-ws", "--controller-steps", "3"], "--controller-steps", "--strategy enas"),
    (["--strategy", "random-ws", "--controller-lr", "0.01"], "--controller-lr",
     "--strategy ppo, reinforce or enas"),
    (["--strategy", "random", "--population", "5"], "--population", "--strategy evolution"),
    (["--strategy", "evolution", "--failed-reward", "-1"], "--failed-reward", "--strategy ppo or reinforce"),
])
def test_flag_for_other_strategies_is_refused(tmp_path, argv, flag, who):
    out = tmp_path / "run"
    r = run_cli("search", *argv, "--out", str(out), "--quiet", cwd=tmp_path)
    _refused(r, f"{flag} is for {who} only")
    assert not out.exists()


def test_resume_refuses_a_one_shot_flag_for_a_multi_trial_run(tmp_path):
    out = tmp_path / "run"
    r = run_cli("search", "--reward", "synthetic", "--strategy", "random", "--trials", "2", "--workers", "1",
                "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    _refused(run_cli("search", "--resume", "--out", str(out), "--top-k", "2"),
             "--top-k is for --strategy random-ws or enas only", "this run's strategy is random")


@pytest.mark.parametrize("argv, flag", [
    (["--dataset", "digits"], "--dataset"),
    (["--lr", "0.1"], "--lr"),
    (["--repeats", "2"], "--repeats"),
    (["--precise-bn", "0"], "--precise-bn"),
    (["--epochs", "3"], "--epochs"),  # without ASHA's rungs, epochs scale nothing
])
def test_child_training_flags_are_refused_with_the_synthetic_reward(tmp_path, argv, flag):
    """--reward synthetic trains no child: the data and training flags would be silent no-ops."""
    out = tmp_path / "run"
    r = run_cli("search", "--reward", "synthetic", *argv, "--out", str(out), "--quiet", cwd=tmp_path)
    _refused(r, f"{flag} is for runs that train their children; --reward synthetic trains none")
    assert not out.exists()


def test_the_synthetic_reward_keeps_epochs_for_asha_and_the_api_checks_as_the_cli(tmp_path):
    import nasdsl
    from nasdsl.errors import NasError

    s = nasdsl.search(out=str(tmp_path / "asha"), trials=3, workers=1, reward="synthetic", strategy="random",
                      scheduler="asha", epochs=4, min_epochs=1, progress=False)
    assert s.counts["done"] == 3
    with pytest.raises(NasError, match="--batch-size is for runs that train their children"):
        nasdsl.search(out=str(tmp_path / "api"), trials=1, reward="synthetic", batch_size=8, progress=False)
    assert not (tmp_path / "api").exists()
