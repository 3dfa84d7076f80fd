"""Network skeletons: where each cell instance sits (stem, reductions, inputs, filters, sizes).

A skeleton turns a `NetworkSpec` into a `NetworkPlan`: the stem, every cell instance in forward
order with its `CellContext` and shaped IR, the aux head position and the head. The code generator,
the interpreter and the cost model all read the same plan. `SKELETONS` is the registry, keyed by the
`skeleton` setting of a network; a new layout registers one function there.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import networkx as nx

from .errors import NasError
from .ir import cell_graph
from .passes.shape import HW, CellContext, shape
from .spec import NetworkSpec


@dataclass(frozen=True)
class Stem:
    """`imagenet`: 3x3 conv stride 2 VALID + BN (named conv0); `cifar`: 3x3 conv SAME + BN (stem)."""

    kind: str
    attr: str
    in_channels: int
    channels: int
    stride: int
    padding: str  # 'valid' | 'same'
    hw: HW  # output size
    # (in, out, kernel, stride, out_hw) of each conv (+ BN) when the stem has several (DARTS ImageNet);
    # empty: the one conv described above
    convs: tuple[tuple[int, int, int, int, HW], ...] = ()


@dataclass
class CellInstance:
    attr: str  # module attribute: cell_stem_0, cell_3, reduction_cell_0
    cell: str  # DSL cell name
    ctx: CellContext
    input: str  # attr of the layer whose output is h0's source
    prev: str | None  # attr of h1's source; None: h1 is the cell input itself
    index: int  # TF-slim's true cell number (stem cells included), for ScheduledDropPath
    graph: nx.DiGraph = field(repr=False, default=None)

    @property
    def channels(self) -> int:
        return self.graph.nodes["out"]["meta"]["channels"]

    @property
    def hw(self) -> HW:
        return self.graph.nodes["out"]["meta"]["hw"]


@dataclass
class NetworkPlan:
    spec: NetworkSpec
    stem: Stem
    cells: list[CellInstance]
    total_cells: int  # for the drop-path layer ratio (index + 1) / total_cells
    aux_after: str | None  # attr of the cell the aux head reads
    image: HW = (32, 32)
    aux_stride: int = 3  # the aux head's 5x5 avg pool stride (DARTS ImageNet: 2)
    aux_bn: bool = True  # BN after the aux head's 768 conv (DARTS ImageNet: none)

    @property
    def final(self) -> CellInstance:
        return self.cells[-1]

    def instance(self, attr: str) -> CellInstance:
        return next(c for c in self.cells if c.attr == attr)

    def aux_shape(self) -> tuple[int, HW] | None:
        if self.aux_after is None:
            return None
        c = self.instance(self.aux_after)
        return c.channels, c.hw


Layout = Callable[[dict, NetworkSpec, "Passes"], NetworkPlan]
Passes = Callable[[nx.DiGraph, CellContext], nx.DiGraph]


def default_passes(g: nx.DiGraph, ctx: CellContext) -> nx.DiGraph:
    """The passes every instance gets when no pipeline is given: shape only."""
    return shape(g, ctx)


def plan(program, spec: NetworkSpec, passes: Passes = default_passes) -> NetworkPlan:
    """Lay out `spec` with its skeleton; `passes(g, ctx)` shapes (and may optimize) each instance."""
    if spec.skeleton not in SKELETONS:
        raise NasError(f"network {spec.name}: no skeleton {spec.skeleton!r} "
                       f"(known: {', '.join(sorted(SKELETONS))})")
    return SKELETONS[spec.skeleton](program.cells, spec, passes)


class _Builder:
    """Appends cell instances while tracking every layer's output (channels, size)."""

    def __init__(self, cells: dict, spec: NetworkSpec, passes: Passes, family: str):
        self.cells, self.spec, self.passes, self.family = cells, spec, passes, family
        self.shapes: dict[str, tuple[int, HW]] = {}
        self.instances: list[CellInstance] = []
        self.index = 0

    def stem(self) -> Stem:
        s = self.spec
        image = (s.image, s.image)
        if s.stem == "imagenet":
            if s.image < 3:
                raise NasError(f"network {s.name}: image {s.image} is smaller than the 3x3 stem conv")
            hw = ((s.image - 3) // 2 + 1,) * 2
            stem = Stem("imagenet", "conv0", 3, int(32 * s.stem_multiplier), 2, "valid", hw)
        else:
            stem = Stem("cifar", "stem", 3, int(s.stem_multiplier * s.filters), 1, "same", image)
        if stem.channels < 1:
            raise NasError(f"network {s.name}: the stem has {stem.channels} filters")
        self.shapes[stem.attr] = (stem.channels, stem.hw)
        return stem

    def add(self, attr: str, cell: str, filters: int, reduction: bool, input: str, prev: str | None):
        in_c, in_hw = self.shapes[input]
        prev_c, prev_hw = self.shapes[prev] if prev is not None else (None, None)
        if min(in_hw) < 1 or filters < 1:
            raise NasError(f"network {self.spec.name}: {attr} would have {filters} filters at "
                           f"{in_hw[0]}x{in_hw[1]}: the image is too small or F too low")
        ctx = CellContext(in_c, in_hw, prev_c, prev_hw, filters, reduction, self.family)
        g = self.passes(cell_graph(self.cells[cell]), ctx)
        inst = CellInstance(attr, cell, ctx, input, prev, self.index, g)
        self.index += 1
        self.instances.append(inst)
        self.shapes[attr] = (inst.channels, inst.hw)
        return attr

    def imagenet_stem_cells(self, stem: Stem) -> list[str | None]:
        """TF-slim `_imagenet_stem`: two reduction cells at F/4 and F/2; stem 0 has no previous layer."""
        outputs: list[str | None] = [None, stem.attr]
        scaling = 1.0 / 4
        for k in range(2):
            filters = int(self.spec.filters * scaling)
            outputs.append(self.add(f"cell_stem_{k}", self.spec.stem_cell, filters, True,
                                    outputs[-1], outputs[-2]))
            scaling *= 2
        return outputs


def reduction_indices(num_cells: int, num_reductions: int = 2) -> list[int]:
    """TF-slim `calc_reduction_layers`."""
    return [int(float(i) / (num_reductions + 1) * num_cells) for i in range(1, num_reductions + 1)]


def _start(cells, spec, passes, family) -> tuple[_Builder, Stem, list[str | None]]:
    b = _Builder(cells, spec, passes, family)
    stem = b.stem()
    outputs = b.imagenet_stem_cells(stem) if spec.stem == "imagenet" else [None, stem.attr]
    return b, stem, outputs


def nasnet_layout(cells: dict, spec: NetworkSpec, passes: Passes) -> NetworkPlan:
    """TF-slim `_build_nasnet_base`: N normal cells, reduction, N normal, reduction, N normal."""
    b, stem, outputs = _start(cells, spec, passes, "nasnet")
    num_cells = 3 * spec.n
    reds = reduction_indices(num_cells)
    aux = [reds[1] - 1] if len(reds) >= 2 else []
    scaling, prev, aux_after = 1.0, outputs[-2], None
    for k in range(num_cells):
        if spec.skip_reduction_input:
            prev = outputs[-2]
        if k in reds:
            scaling *= 2
            outputs.append(b.add(f"reduction_cell_{reds.index(k)}", spec.reduction,
                                 int(spec.filters * scaling), True, outputs[-1], outputs[-2]))
        if not spec.skip_reduction_input:
            prev = outputs[-2]
        outputs.append(b.add(f"cell_{k}", spec.normal, int(spec.filters * scaling), False, outputs[-1], prev))
        if k in aux:
            aux_after = outputs[-1]
    total = num_cells + 2 + (2 if spec.stem == "imagenet" else 0)
    return NetworkPlan(spec, stem, b.instances, total, aux_after, (spec.image, spec.image))


def pnasnet_layout(cells: dict, spec: NetworkSpec, passes: Passes) -> NetworkPlan:
    """TF-slim `_build_pnasnet_base`: 3N cells, the reductions (cells N and 2N) counted among them."""
    b, stem, outputs = _start(cells, spec, passes, "pnasnet")
    num_cells = 3 * spec.n
    reds = reduction_indices(num_cells)
    aux = [reds[1] - 1] if len(reds) >= 2 else []
    scaling, prev, aux_after = 1.0, outputs[-2], None
    for k in range(num_cells):
        reduction = k in reds
        if reduction:
            scaling *= 2
        if spec.skip_reduction_input or not reduction:
            prev = outputs[-2]
        cell = spec.reduction if reduction else spec.normal
        outputs.append(b.add(f"cell_{k}", cell, int(spec.filters * scaling), reduction, outputs[-1], prev))
        if k in aux:
            aux_after = outputs[-1]
    total = num_cells + (2 if spec.stem == "imagenet" else 0)
    return NetworkPlan(spec, stem, b.instances, total, aux_after, (spec.image, spec.image))


# THE skeleton registry: network `skeleton` setting -> layout function.
SKELETONS: dict[str, Layout] = {
    "nasnet": nasnet_layout,
    "pnasnet": pnasnet_layout,
}

from .skeletons_darts import darts_layout  # noqa: E402 - imported last: it builds on the classes above

SKELETONS["darts"] = darts_layout


def with_overrides(spec: NetworkSpec, **overrides) -> NetworkSpec:
    """A copy of `spec` with some fields replaced (e.g. n=1, filters=8, image=32 for quick tests)."""
    unknown = set(overrides) - set(spec.__dataclass_fields__)
    if unknown:
        raise NasError(f"unknown network override(s): {', '.join(sorted(unknown))}")
    return replace(spec, **overrides)
