"""Typed views of `network` and `space` blocks: every key, its type, its default.

Validation checks a block against these schemas; later stages read the resolved dataclasses.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import ast

SKELETONS = ("nasnet", "pnasnet", "darts")
SEARCH_SKELETONS = ("nasnet", "darts")  # the skeletons a search trains children in and transfers to
STEMS = ("cifar", "imagenet")


# Bounds, chosen so that anything `check` accepts also builds in reasonable memory and time
# (the largest zoo networks: N = 6, F = 216, 331 px, 1000 classes).
MAX_N = 32  # normal cells per stage
MAX_FILTERS = 512  # F, the first stage's filters (P = 4 x F x k)
MAX_IMAGE = 1024
MAX_CLASSES = 100_000
MAX_BLOCKS = 16  # blocks per cell of a space
MAX_INPUTS = 8  # branches per block of a space
MAX_PARAMS_ESTIMATE = 1_000_000_000  # a network's weights, estimated from N, F and its cells (4 GB)


@dataclass(frozen=True)
class Key:
    name: str
    type: str  # cell | int | float | bool | choice | cells | names
    default: object = None
    choices: tuple[str, ...] = ()
    doc: str = ""
    lo: float | None = None  # numeric keys: the allowed range, lo (excluded if lo_open) .. hi
    hi: float | None = None
    lo_open: bool = False

    def in_range(self, v: float) -> bool:
        if self.lo is not None and (v <= self.lo if self.lo_open else v < self.lo):
            return False
        return self.hi is None or v <= self.hi

    def range_text(self) -> str:
        """The bounds as an interval, e.g. `[1, 32]` or `(0, 1]`; `—` for a key without bounds."""
        if self.lo is None and self.hi is None:
            return "—"
        lo = "(" if self.lo_open else "["
        return f"{lo}{_num(self.lo)}, {_num(self.hi) if self.hi is not None else '∞'}]"


def _num(v: float | None) -> str:
    if v is None:
        return "-∞"
    return f"{int(v)}" if float(v).is_integer() else f"{v:g}"


NETWORK_KEYS: dict[str, Key] = {k.name: k for k in [
    Key("normal", "cell", doc="the normal cell"),
    Key("reduction", "cell", doc="the reduction cell (defaults to the normal cell, as in PNASNet-5)"),
    Key("stem_cell", "cell", doc="the cell used by the ImageNet stem (defaults to the reduction cell)"),
    Key("skeleton", "choice", "nasnet", SKELETONS,
        doc="nasnet: TF-slim NASNet; pnasnet: reductions counted among the cells; darts: DARTS"),
    Key("stem", "choice", "cifar", STEMS, doc="cifar: one 3x3 conv; imagenet: strided conv + two stem cells"),
    Key("cells", "cells", doc="`N @ P` (N normal cells per stage, P penultimate filters) or N alone",
        lo=1, hi=MAX_N),
    Key("filters", "int", doc="F, the first stage's filters, when `cells` gives N alone", lo=1, hi=MAX_FILTERS),
    Key("image", "int", 32, doc="input image size", lo=1, hi=MAX_IMAGE),
    Key("classes", "int", 10, doc="number of classes", lo=1, hi=MAX_CLASSES),
    Key("stem_multiplier", "float", 3.0, doc="stem filters multiplier", lo=0, hi=16, lo_open=True),
    Key("skip_reduction_input", "bool", False, doc="TF-slim skip_reduction_layer_input"),
    Key("aux_head", "bool", False, doc="auxiliary head after stage 2"),
    Key("drop_path_keep", "float", 1.0, doc="ScheduledDropPath keep probability", lo=0, hi=1, lo_open=True),
    Key("dropout_keep", "float", 1.0, doc="keep probability of the dropout before the classifier",
        lo=0, hi=1, lo_open=True),
    Key("bn_eps", "float", 1e-3, doc="batch norm epsilon", lo=0, hi=1, lo_open=True),
]}

SPACE_KEYS: dict[str, Key] = {k.name: k for k in [
    Key("blocks", "int", 5, doc="blocks (nodes) per cell", lo=1, hi=MAX_BLOCKS),
    Key("ops", "names", doc="ops a controller may choose, a subset of the op registry"),
    Key("combine", "names", ("add",), doc="combiners a controller may choose"),
    Key("inputs", "int", 2, doc="branches per block", lo=1, hi=MAX_INPUTS),
    Key("output", "choice", "unused", ("unused", "blocks"), doc="which states the cell concatenates"),
    Key("skeleton", "choice", "nasnet", SEARCH_SKELETONS,
        doc="the skeleton children are trained in and the best cells are transferred to"),
]}


@dataclass(frozen=True)
class NetworkSpec:
    """A `network` block with every default filled in."""

    name: str
    normal: str
    reduction: str
    stem_cell: str
    skeleton: str
    stem: str
    n: int  # normal cells per stage (pnasnet: cells per stage, the reduction included)
    filters: int  # F
    penultimate: int | None  # P when given as N @ P
    image: int
    classes: int
    stem_multiplier: float
    skip_reduction_input: bool
    aux_head: bool
    drop_path_keep: float
    dropout_keep: float
    bn_eps: float


@dataclass(frozen=True)
class SpaceSpec:
    name: str
    blocks: int
    ops: tuple[str, ...]
    combine: tuple[str, ...]
    inputs: int
    output: str
    skeleton: str = "nasnet"


def network_spec(net: ast.Network, concat_count: int | None = None) -> NetworkSpec:
    """Resolve a *validated* network block. `concat_count` = states the normal cell concatenates
    (needed to turn `N @ P` into F: P = F * 2**2 * concat_count for two reductions)."""
    v = {k: net.get(k, key.default) for k, key in NETWORK_KEYS.items()}
    cells = v["cells"]
    penultimate = None
    if isinstance(cells, ast.CellsNP):
        n, penultimate = cells.n, cells.p
        if v["filters"] is None:
            if not concat_count:
                raise ValueError("N @ P needs the normal cell's concat count")
            v["filters"] = penultimate // (4 * concat_count)
    else:
        n = int(cells)
    reduction = v["reduction"] or v["normal"]
    return NetworkSpec(
        name=net.name, normal=v["normal"], reduction=reduction, stem_cell=v["stem_cell"] or reduction,
        skeleton=v["skeleton"], stem=v["stem"], n=n, filters=int(v["filters"]), penultimate=penultimate,
        image=int(v["image"]), classes=int(v["classes"]), stem_multiplier=float(v["stem_multiplier"]),
        skip_reduction_input=bool(v["skip_reduction_input"]), aux_head=bool(v["aux_head"]),
        drop_path_keep=float(v["drop_path_keep"]), dropout_keep=float(v["dropout_keep"]),
        bn_eps=float(v["bn_eps"]),
    )


def space_spec(space: ast.Space) -> SpaceSpec:
    v = {k: space.get(k, key.default) for k, key in SPACE_KEYS.items()}
    ops = v["ops"]
    return SpaceSpec(space.name, int(v["blocks"]), tuple(ops) if not isinstance(ops, str) else (ops,),
                     tuple(v["combine"]) if not isinstance(v["combine"], str) else (v["combine"],),
                     int(v["inputs"]), v["output"], v["skeleton"])
