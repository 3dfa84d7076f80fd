"""Random search with weight sharing (Li & Talwalkar, 2019): the supernet trains on uniformly
sampled paths, then many uniformly sampled architectures are ranked by shared-weight accuracy.
The one-shot loop is search/oneshot.py; this strategy only samples."""
from __future__ import annotations

from .random_search import RandomSearch


class RandomWS(RandomSearch):
    """Uniform sampling, for the one-shot loop (`oneshot = True`: the CLI runs it in search/oneshot.py)."""

    name = "random-ws"
    oneshot = True
