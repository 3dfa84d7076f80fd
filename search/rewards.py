"""What a reward is and how rewards compare. A reward is the fraction of held-out images a child
classifies correctly over its replicate trainings (`mean_accuracy`: one division, so one count of
correct images is one float). Rewards trained before 2026-12-07 were the mean of the replicates'
accuracies, (a + b) / 2, which rounds by how a count splits between a and b (2,859 of 2 x 1,497
correct is 0.9549098196392785 or ...786): whatever asks "as good as", ranks rewards or counts
distinct ones goes through here (`reaches`, `canonical`, the rank tests) and sees those as one value."""
from __future__ import annotations

from collections.abc import Sequence

DIGITS = 9  # canonical() rounds rewards to 1e-9
REWARD_TIE = 10.0 ** -DIGITS  # far below one image (3.3e-4 on the default proxy), far above a last bit


def mean_accuracy(accuracies: Sequence[float], images: int) -> float:
    """The reward of replicates that each scored `images` held-out images: their correct answers over
    all their images, one division, so one count is one float (a single replicate's accuracy as it is)."""
    correct = sum(round(a * images) for a in accuracies)
    return correct / (len(accuracies) * images)


def canonical(reward: float) -> float:
    """`reward` with the bits that only tell apart two splits of one count rounded off."""
    return round(reward, DIGITS)


def reaches(reward: float | None, target: float) -> bool:
    """Whether `reward` is at least `target`, rewards within REWARD_TIE of each other being equal."""
    return reward is not None and reward >= target - REWARD_TIE


def mann_whitney_greater(x: Sequence[float], y: Sequence[float]) -> float:
    """One-sided Mann-Whitney U p-value that rewards `x` tend to be higher than rewards `y`."""
    from scipy.stats import mannwhitneyu

    return float(mannwhitneyu([canonical(v) for v in x], [canonical(v) for v in y], alternative="greater").pvalue)


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation of two reward lists (average ranks for ties); nan under 3 pairs
    or where one list is constant."""
    from scipy.stats import spearmanr

    if len(x) < 3:
        return float("nan")
    return float(spearmanr([canonical(v) for v in x], [canonical(v) for v in y]).statistic)


def kendall_tau(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Kendall tau-b of two score lists (say shared-weight accuracy and reward) and its p-value."""
    from scipy.stats import kendalltau

    result = kendalltau([canonical(v) for v in x], [canonical(v) for v in y])
    return float(result.statistic), float(result.pvalue)
