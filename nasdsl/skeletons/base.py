"""What every skeleton shares: the plan it produces, the builder that lays cells out, the registry.

A skeleton turns a `NetworkSpec` into a `NetworkPlan`: the stem, every cell instance in forward
order with its `CellContext` and shaped IR, the aux head position and the head. The code generator,
the interpreter and the cost model all read the same plan. `SKELETONS` is THE skeleton registry,
keyed by the `skeleton` setting of a network: a `Skeleton` record names the layout function, the
padding runtime its generated code uses, its head, how a search's proxy network and transfer
networks are written, and the few conventions the shape pass needs. Families register themselves
from their own modules (tfslim.py: NASNet and PNASNet; darts.py: DARTS).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import networkx as nx

from ..errors import NasError, diag_at
from ..ir.graph import cell_graph
from ..ir.passes.shape import HW, CellContext, shape
from ..lang.ops import OPS
from ..lang.spec import NetworkSpec
from ..lang.validate import override_problem, plain


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

    def aux_problem(self) -> str:
        """Why an aux head cannot read where the skeleton puts it ("" when it can: 5x5 at least)."""
        aux = self.aux_shape()
        if aux is None or min(aux[1]) >= 5:
            return ""
        return (f"network {self.spec.name}: the aux head needs at least 5x5 where it reads ({self.aux_after}), "
                f"got {aux[1][0]}x{aux[1][1]}; set aux_head = false")


Layout = Callable[[dict, NetworkSpec, "Passes"], NetworkPlan]
Passes = Callable[[nx.DiGraph, CellContext], nx.DiGraph]
# the generated code of a stem: (constructor lines, forward lines), attributes named like Stem.attr
StemCode = Callable[[Stem, NetworkSpec], tuple[list[str], list[str]]]


@dataclass(frozen=True)
class Skeleton:
    """Everything about one network layout that the rest of nasdsl needs."""

    name: str
    layout: Layout
    stem_code: StemCode
    padding: str  # the runtime padding of its layers: "same" (TF 'SAME') | "symmetric" (PyTorch)
    stem_classes: tuple[str, ...] = ("ConvBn",)  # runtime classes its stem code names
    doc: str = ""
    head_relu: bool = True  # a ReLU before the global pool (TF-slim) or none (DARTS)
    depth_drop_path: bool = True  # drop path scaled by cell depth (TF-slim layer_ratio) or not
    # an identity op made a layer (strided or channel-changing) is dropped like any op (DARTS: only a
    # plain Identity is not), or never, as TF-slim's 'none' (`if operation != 'none': drop_path`)
    drop_path_on_identity: bool = False
    # shape conventions: the layer of a strided identity op, and whether h1 always gets ReLU-1x1-BN
    strided_identity: str = "relu_conv_bn"
    project_h1: bool = False
    # search: keys of the proxy network before its size (`stem = cifar`, ...), and the transfer
    # presets (name -> keys) with the function turning one into `network` keys for given cells
    proxy: dict = field(default_factory=dict)
    # NetworkSpec fields (stem, n, filters, image, ...) of the CIFAR network a file of its cells compiles to
    cifar: dict = field(default_factory=dict)
    transfers: dict = field(default_factory=dict)
    transfer_keys: Callable[[dict, int], dict] | None = None

    def drops(self, op: str) -> bool:
        """Whether drop path applies to `op`'s output when it is made a layer (a plain identity
        never gets it: there is nothing to drop)."""
        return self.drop_path_on_identity or OPS[op].family != "identity"


# THE skeleton registry: network `skeleton` setting -> Skeleton (filled by tfslim.py and darts.py).
SKELETONS: dict[str, Skeleton] = {}


def register(skeleton: Skeleton) -> Skeleton:
    """Add a skeleton to the registry (a new family calls this from its module)."""
    SKELETONS[skeleton.name] = skeleton
    return skeleton


def skeleton(name: str) -> Skeleton:
    """The registered skeleton of that name (NasError naming the known ones otherwise)."""
    if name not in SKELETONS:
        raise NasError(f"no skeleton {name!r} (known: {', '.join(sorted(SKELETONS))})")
    return SKELETONS[name]


def default_passes(g: nx.DiGraph, ctx: CellContext) -> nx.DiGraph:
    """The passes every instance gets when no pipeline is given: shape only."""
    return shape(g, ctx)


def pipeline_passes(pipeline: str | None) -> Passes:
    """`shape` alone, or shape followed by a named pipeline of other passes (e.g. "cse")."""
    if not pipeline:
        return default_passes
    from ..ir.passes.manager import parse_pipeline, run_pipeline

    names = [n for n in parse_pipeline(pipeline) if n != "shape"]

    def run(g: nx.DiGraph, ctx: CellContext) -> nx.DiGraph:
        g = default_passes(g, ctx)
        return run_pipeline(g, names, ctx).graph if names else g

    return run


def plan(program, spec: NetworkSpec, passes: Passes = default_passes) -> NetworkPlan:
    """Lay out `spec` with its skeleton; `passes(g, ctx)` shapes (and may optimize) each instance."""
    if spec.skeleton not in SKELETONS:
        raise NasError(f"network {spec.name}: no skeleton {spec.skeleton!r} "
                       f"(known: {', '.join(sorted(SKELETONS))})")
    try:
        return SKELETONS[spec.skeleton].layout(program.cells, spec, passes)
    except NasError as e:
        raise at_network(e, program, spec) from None


def check_shapes(program, name: str) -> None:
    """Lay out network `name` as compiling it would, aux head included where it has one: what the
    validator cannot see (a stem of 0 filters, an image too small for the cells or the aux head)
    becomes an error at the network's block."""
    layout = plan(program, program.network_spec(name))
    if layout.spec.aux_head and (problem := layout.aux_problem()):
        raise at_network(NasError(problem), program, layout.spec)


def at_network(e: NasError, program, spec: NetworkSpec) -> NasError:
    """`e` pointed at the `network` block it is about, when it has no position of its own, the
    network has a block (a CIFAR network that a file of cells compiles to has none), and `spec` is
    that block as written: with overrides (export --image 2, train's data) the block may not be
    where the problem is, and `e` stays as it is."""
    net = program.networks.get(spec.name)
    if net is None or net.pos.line <= 0 or any(d.line > 0 for d in e.diagnostics):
        return e
    if spec != program.network_spec(spec.name):
        return e
    text = program.source_of(spec.name)
    return NasError([diag_at(d.message, text, net.pos.file, net.pos.line, net.pos.col, d.hint)
                     for d in e.diagnostics])


class Builder:
    """Appends cell instances while tracking every layer's output (channels, size)."""

    def __init__(self, cells: dict, spec: NetworkSpec, passes: Passes, family: str):
        self.cells, self.spec, self.passes, self.family = cells, spec, passes, family
        self.skeleton = skeleton(family)
        self.shapes: dict[str, tuple[int, HW]] = {}
        self.instances: list[CellInstance] = []
        self.index = 0

    def add(self, attr: str, cell: str, filters: int, reduction: bool, input: str, prev: str | None):
        in_c, in_hw = self.shapes[input]
        prev_c, prev_hw = self.shapes[prev] if prev is not None else (None, None)
        if min(in_hw) < 1 or filters < 1:
            raise NasError(f"network {self.spec.name}: {attr} would have {filters} filters at "
                           f"{in_hw[0]}x{in_hw[1]}: the image is too small or F too low")
        sk = self.skeleton
        ctx = CellContext(in_c, in_hw, prev_c, prev_hw, filters, reduction, self.family, sk.strided_identity,
                          sk.project_h1)
        g = self.passes(cell_graph(self.cells[cell]), ctx)
        inst = CellInstance(attr, cell, ctx, input, prev, self.index, g)
        self.index += 1
        self.instances.append(inst)
        self.shapes[attr] = (inst.channels, inst.hw)
        return attr


def with_overrides(spec: NetworkSpec, **overrides) -> NetworkSpec:
    """A copy of `spec` with some fields replaced (e.g. n=1, filters=8, image=32 for quick tests)."""
    unknown = set(overrides) - set(spec.__dataclass_fields__)
    if unknown:
        raise NasError(f"unknown network override(s): {', '.join(sorted(unknown))}")
    for key, value in overrides.items():
        if problem := override_problem(key, value):
            raise NasError(f"network {spec.name}: override {key}={value!r}: {problem}")
    return replace(spec, **{key: plain(value) for key, value in overrides.items()})
