"""Passes over the cell IR: the registry and pipeline runner, cse, fold-identity, dead-block, lanes.

The shape pass (shape.py) and the cost pass (nasdsl/ir/cost.py) are registered in the same registry;
`passes()` lists them all. Run a pipeline with `run_pipeline(g, "shape,cse,cost", ctx)`.
"""
from .manager import (
    OPTIMIZE,
    PASSES,
    PassError,
    PipelineResult,
    parse_pipeline,
    passes,
    register,
    run_pipeline,
)

__all__ = ["OPTIMIZE", "PASSES", "PassError", "PipelineResult", "parse_pipeline", "passes", "register", "run_pipeline"]
