"""How the suite shares the machine when it runs on pytest-xdist workers (scripts/test.sh:
`-n logical --dist loadfile --no-loadscope-reorder`). On one process these hooks change nothing.

- A test file is one unit of work (loadfile), so its module fixtures (a Ray cluster, a server, an NNI
  run) are made once, on one worker. Tests that start Ray clusters may run beside each other: every
  cluster takes free ports and a session folder of its own.
- The slowest files go first, so that the workers end near each other.
- Each worker, and what its tests start, computes on its share of the cores (OMP_NUM_THREADS): two
  workers that each run torch on every core slow each other down.
"""
from __future__ import annotations

import os

import pytest

WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if WORKERS > 1:
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, len(os.sched_getaffinity(0)) // WORKERS)))

# The files that took longest on one process on the 2-core machine, slowest first (pytest
# --durations, 2026-12-07: from 335 s for the zoo exports down to 83 s).
SLOWEST_FIRST = ("test_onnx_zoo", "test_train_ddp", "test_reliability_faults", "test_reliability_signals",
                 "test_ray_cluster", "test_reliability_cli", "test_search_oneshot", "test_reliability_store",
                 "test_search_asha", "test_search_strategy_flags", "test_search_run_space", "test_backend_networks")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if WORKERS > 1:
        rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
        items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))  # stable: files stay in order
