"""The pass registry and pipeline runner: passes by name, lint after each, failures name the pass.

A pass is a pure function `fn(g, ctx) -> (new_graph, changed)`: it copies, never mutates its input
graph, and says whether it changed anything. `ctx` is whatever the pipeline was given (for the
shape pass: where the cell sits in a network); passes that need none ignore it. A pipeline is a
comma-separated string of pass names, e.g. "shape,cse,fold-identity,dead-block,cost".
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import networkx as nx

from ...errors import NasError
from ...lang.ops import known_list, suggest
from ..graph import LintError, lint, ports, print_graph

PassFn = Callable[[nx.DiGraph, object], tuple[nx.DiGraph, bool]]


@dataclass(frozen=True)
class Pass:
    name: str
    fn: PassFn
    doc: str


# THE pass registry: name -> Pass. Filled by `register` in the modules of BUILTIN_MODULES.
PASSES: dict[str, Pass] = {}

# Modules whose import registers the built-in passes (imported on first lookup, so that
# `import nasdsl.ir.passes` stays cheap and the modules may import this one).
BUILTIN_MODULES = (
    "nasdsl.ir.passes.shape",
    "nasdsl.ir.passes.cse",
    "nasdsl.ir.passes.fold_identity",
    "nasdsl.ir.passes.dead_block",
    "nasdsl.ir.passes.lanes",
    "nasdsl.ir.cost",
)
_loaded = False

# The optimization passes in the order that reaches a fixed point in one run: folding an identity
# block can make two branches identical (`avg3x3(b1)` becomes `avg3x3(b0)`), so cse comes after it;
# neither cse nor dead-block creates work for the passes before them.
OPTIMIZE = "fold-identity,cse,dead-block"


class PassError(Exception):
    """A pass failed or broke the IR: a compiler bug. Names the pass and the ones before it."""


def register(name: str, doc: str = "") -> Callable[[PassFn], PassFn]:
    """Decorator: register `fn` as the pass `name` (the first docstring line is its help)."""

    def deco(fn: PassFn) -> PassFn:
        if name in PASSES and PASSES[name].fn is not fn:
            raise ValueError(f"pass {name!r} registered twice")
        lines = (fn.__doc__ or "").strip().splitlines()
        PASSES[name] = Pass(name, fn, doc or (lines[0] if lines else ""))
        return fn

    return deco


def passes() -> dict[str, Pass]:
    """Every registered pass, the built-in ones loaded."""
    global _loaded
    if not _loaded:
        _loaded = True
        for module in BUILTIN_MODULES:
            importlib.import_module(module)
        if "shape" not in PASSES:  # shape.py exposes a plain `shape(g, ctx) -> g`
            register("shape")(_shape)
    return PASSES


def _shape(g: nx.DiGraph, ctx: object = None) -> tuple[nx.DiGraph, bool]:
    """Channels, spatial size, stride and runtime layer of every node (needs a network context)."""
    from .shape import CellContext, shape

    if not isinstance(ctx, CellContext):
        raise NasError("the shape pass needs to know where the cell sits: give a network "
                       "(e.g. --network NAME) or run the pipeline with a CellContext")
    return shape(g, ctx), True


def parse_pipeline(pipeline: str | Sequence[str]) -> list[str]:
    """Pass names from "a,b,c" (or a list); an unknown name is a NasError listing the known ones."""
    names = [p.strip() for p in pipeline.split(",")] if isinstance(pipeline, str) else list(pipeline)
    names = [n for n in names if n]
    known = passes()
    for n in names:
        if n not in known:
            hint = suggest(n, known)
            raise NasError(f"unknown pass {n!r}" + (f"; {hint}" if hint else "")
                           + f" (passes: {known_list(known)})")
    return names


@dataclass
class PipelineResult:
    graph: nx.DiGraph
    changed: dict[str, bool] = field(default_factory=dict)  # pass name -> changed anything, in order
    dumps: list[tuple[str, nx.DiGraph]] = field(default_factory=list)  # (after pass, graph) when dumping

    def dump_text(self, meta: bool = True) -> str:
        """Every kept graph printed, each under a `# after PASS` line."""
        return "".join(f"# after {name}\n{print_graph(g, meta)}" for name, g in self.dumps)


def run_pipeline(g: nx.DiGraph, pipeline: str | Sequence[str], ctx: object = None,
                 dump: bool = False) -> PipelineResult:
    """Run the passes in order on a copy of `g`, linting after each one.

    A NasError raised by a pass (bad user input, e.g. an impossible shape) is re-raised with the
    pass named; any other exception, or a graph that fails lint, becomes a PassError naming the
    failing pass and the ones that ran before it. With `dump`, the printed IR after each pass is
    kept in `dumps` (the input graph first, as "input"); passes never mutate a graph, so each
    stays as it was after its pass."""
    names = parse_pipeline(pipeline)
    result = PipelineResult(copy_graph(g))
    if dump:
        result.dumps.append(("input", result.graph))
    ran: list[str] = []
    for name in names:
        where = f"pass {name!r} (after {', '.join(ran) if ran else 'no other pass'})"
        before = result.graph
        try:
            out, changed = passes()[name].fn(before, ctx)
        except NasError as e:
            raise NasError([_prefixed(d, where) for d in e.diagnostics]) from e
        except Exception as e:  # a compiler bug: say where it happened
            raise PassError(f"{where} failed: {type(e).__name__}: {e}") from e
        if out is before:
            raise PassError(f"{where} returned its input graph; passes must work on a copy")
        try:
            lint(out)
        except LintError as e:
            raise PassError(f"{where} left a malformed graph:\n{e}") from e
        result.graph = out
        result.changed[name] = bool(changed)
        ran.append(name)
        if dump:
            result.dumps.append((name, out))
    return result


def _prefixed(d, where: str):
    from dataclasses import replace

    return replace(d, message=f"{where}: {d.message}")


def copy_graph(g: nx.DiGraph) -> nx.DiGraph:
    """A deep enough copy for a pass: node attribute dicts and `meta` dicts are fresh."""
    out = nx.DiGraph(**g.graph)
    for n, d in g.nodes(data=True):
        out.add_node(n, **{**d, "meta": dict(d.get("meta", {}))})
    for u, v, d in g.edges(data=True):
        out.add_edge(u, v, **d)
    return out


def replace_uses(g: nx.DiGraph, old: str, new: str) -> None:
    """Make every consumer of `old` read `new` at the same argument positions (in place, on a
    pass's own copy). A consumer that already reads `new` ends up reading it at several ports."""
    for v in list(g.successors(old)):
        moved = ports(g, old, v)
        g.remove_edge(old, v)
        if g.has_edge(new, v):
            moved = tuple(sorted(ports(g, new, v) + moved))
        g.add_edge(new, v, port=moved[0] if len(moved) == 1 else moved)


def need_meta(g: nx.DiGraph, n: str, keys: Sequence[str], pass_name: str) -> dict:
    """The node's meta, or a NasError saying the shape pass must run first."""
    meta = g.nodes[n]["meta"]
    missing = [k for k in keys if k not in meta]
    if missing:
        raise NasError(f"{pass_name} needs shape metadata ({', '.join(missing)}) on %{n}: run the shape "
                       f"pass first, e.g. --passes shape,{pass_name} (with a network context)")
    return meta
