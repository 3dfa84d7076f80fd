"""Rewards that tie. A 2-replicate reward was (a + b) / 2, and the same count of correct images gave
two floats a last bit apart by how it split between the trainings (rewards stored then still do):
a reward is now one fraction, and whatever compares, ranks or counts rewards sees the two as one."""
import pytest

from nasdsl_search.rewards import (
    canonical,
    kendall_tau,
    mann_whitney_greater,
    mean_accuracy,
    reaches,
    spearman,
)

N, COUNT = 1497, 2859  # 2,859 correct of 2 x 1,497 (seen in oneshot_cost, 2026-12-07)


def _one_count_two_floats() -> tuple[float, float]:
    means = {(i / N + (COUNT - i) / N) / 2 for i in range(COUNT - N, N + 1)}
    assert len(means) == 2  # the premise: the same count, rewards a last bit apart
    low, high = sorted(means)
    assert low < high
    return low, high


def test_rewards_from_the_same_count_of_correct_images_reach_each_other():
    low, high = _one_count_two_floats()
    assert reaches(low, high) and reaches(high, low)
    assert not reaches((COUNT - 1) / (2 * N), low)  # one correct image fewer does not reach it
    assert not reaches(None, low)


def test_canonical_makes_one_float_of_a_count_and_keeps_counts_apart():
    low, high = _one_count_two_floats()
    assert canonical(low) == canonical(high)
    assert canonical((COUNT - 1) / (2 * N)) < canonical(low) < canonical((COUNT + 1) / (2 * N))


def test_the_rank_tests_see_a_last_bit_tie_as_a_tie():
    """Five rewards each way, the same counts on both sides, one side a last bit higher: as floats
    the higher side wins every pair (p = 0.004); as counts the two samples are the same (p = 0.5+)."""
    from scipy.stats import kendalltau, mannwhitneyu

    low, high = _one_count_two_floats()
    x, y = [high] * 5, [low] * 5
    assert mannwhitneyu(x, y, alternative="greater").pvalue < 0.01  # what the bare test says
    assert mann_whitney_greater(x, y) > 0.5
    shared = [0.1, 0.2, 0.3, 0.4]
    rewards = [low, high, low, high]
    assert kendalltau(shared, rewards).statistic > 0.4  # a bit's worth of "correlation"
    tau, _ = kendall_tau(shared, rewards)
    assert tau != tau  # all rewards tie: tau-b is undefined (nan), as scipy gives for a constant
    assert spearman(shared, [low, high, high, low + 1 / N]) == spearman(shared, [high, low, high, low + 1 / N])


def test_the_rank_tests_still_see_real_differences():
    assert mann_whitney_greater([0.95, 0.96, 0.97, 0.98], [0.90, 0.91, 0.92, 0.93]) == pytest.approx(1 / 70)
    tau, p = kendall_tau([1, 2, 3, 4, 5], [0.90, 0.91, 0.92, 0.93, 0.94])
    assert tau == pytest.approx(1.0) and p < 0.05
    assert spearman([1, 2, 3, 4], [0.1, 0.3, 0.2, 0.4]) == pytest.approx(0.8)  # 1 - 6 * 2 / (4 * 15)
    assert spearman([1, 2, 3], [0.5, 0.5, 0.7]) == pytest.approx(3 ** 0.5 / 2)  # average ranks for a tie
    assert spearman([1, 2], [0.1, 0.2]) != spearman([1, 2], [0.1, 0.2])  # under 3 pairs: nan


def test_a_reward_is_one_float_per_count_of_correct_images():
    """Every split of 2,859 correct answers between two trainings of 1,497 images gives the same
    reward, the count over all images; one training's reward is its accuracy, bit for bit."""
    splits = {mean_accuracy([i / N, (COUNT - i) / N], N) for i in range(COUNT - N, N + 1)}
    assert splits == {COUNT / (2 * N)}
    assert mean_accuracy([1234 / N], N) == 1234 / N
    assert mean_accuracy([1.0, 0.0, 0.5], 2) == 0.5
