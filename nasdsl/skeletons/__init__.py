"""Network skeletons: where each cell instance sits (stem, reductions, inputs, filters, sizes).

`base.py` holds the plan, the builder and THE registry (`SKELETONS`, `Skeleton`); one module per
family registers its skeletons: `tfslim.py` (nasnet, pnasnet), `darts.py` (darts). A new family is
one module calling `register(Skeleton(...))`, imported here or by whoever needs it.
"""
from __future__ import annotations

from . import darts, tfslim  # noqa: F401 - each registers its skeletons
from .base import (
                   SKELETONS,
                   Builder,
                   CellInstance,
                   Layout,
                   NetworkPlan,
                   Passes,
                   Skeleton,
                   Stem,
                   at_network,
                   check_shapes,
                   default_passes,
                   pipeline_passes,
                   plan,
                   register,
                   skeleton,
                   with_overrides,
)

__all__ = ["SKELETONS", "Builder", "CellInstance", "Layout", "NetworkPlan", "Passes", "Skeleton", "Stem",
           "at_network", "check_shapes", "default_passes", "pipeline_passes", "plan", "register", "skeleton", "with_overrides"]
