"""The search space as decisions: what a controller samples, and how decisions become .nas text.

A cell of B blocks with k branches per block (k = the space's `inputs`, 2 in NASNet) is
B x (k inputs, k ops, 1 combiner) decisions; an architecture is a normal cell then a reduction
cell, so 2 x (2k + 1) x B decisions (2 x 5B = 50 for NASNet). Block b may read h0, h1 or any
earlier block, so its input decisions have 2 + b choices.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from nasdsl.codegen.supernet import Proxy as ProxyNet  # the network a child trains in
from nasdsl.errors import NasError
from nasdsl.lang.spec import SpaceSpec

CELL_KINDS = ("normal", "reduction")
INPUT_NAMES = ("h0", "h1")

# Names the searched cells and the proxy network get in the emitted text.
CELL_NAMES = {"normal": "normal_cell", "reduction": "reduce_cell"}
PROXY_NETWORK = "proxy"
DEFAULT_PROXY = ProxyNet()


@dataclass(frozen=True)
class Decision:
    """One softmax decision: which cell, which block, what it picks and among how many choices."""

    cell: str  # normal | reduction
    block: int
    kind: str  # input | op | combine
    slot: int  # which branch (0 for the combiner)
    choices: int


@dataclass(frozen=True)
class Space:
    """A `space` block turned into an ordered list of decisions."""

    name: str
    blocks: int
    ops: tuple[str, ...]
    combine: tuple[str, ...]
    inputs: int = 2
    output: str = "unused"
    skeleton: str = "nasnet"  # the skeleton children are trained in (nasnet | darts)
    decisions: tuple[Decision, ...] = field(init=False)

    def __post_init__(self) -> None:
        ds: list[Decision] = []
        for cell in CELL_KINDS:
            for b in range(self.blocks):
                ds += [Decision(cell, b, "input", s, len(INPUT_NAMES) + b) for s in range(self.inputs)]
                ds += [Decision(cell, b, "op", s, len(self.ops)) for s in range(self.inputs)]
                ds.append(Decision(cell, b, "combine", 0, len(self.combine)))
        object.__setattr__(self, "decisions", tuple(ds))

    @property
    def sizes(self) -> tuple[int, ...]:
        """Number of choices of each decision, in order."""
        return tuple(d.choices for d in self.decisions)

    @property
    def per_block(self) -> int:
        return 2 * self.inputs + 1

    @property
    def spec(self) -> SpaceSpec:
        """The `space` block this came from (what the supernet compiler reads)."""
        return SpaceSpec(self.name, self.blocks, self.ops, self.combine, self.inputs, self.output, self.skeleton)

    def to_dict(self) -> dict[str, Any]:
        """The space as a JSON value: what a run folder keeps of it (`space_from_dict` reads it back)."""
        return asdict(self.spec)

    def check(self, decisions: tuple[int, ...] | list[int]) -> tuple[int, ...]:
        """Decisions as a tuple of ints, each within its range (ValueError otherwise)."""
        ds = tuple(int(x) for x in decisions)
        if len(ds) != len(self.decisions):
            raise ValueError(f"expected {len(self.decisions)} decisions, got {len(ds)}")
        for x, d in zip(ds, self.decisions):
            if not 0 <= x < d.choices:
                raise ValueError(f"decision {d} out of range: {x}")
        return ds


def space_from_spec(spec: SpaceSpec) -> Space:
    """The decision view of a resolved `space` block."""
    if spec.blocks < 1 or spec.inputs < 1 or not spec.ops or not spec.combine:
        raise NasError(f"space {spec.name!r} is empty: it needs blocks, inputs, ops and combine")
    return Space(spec.name, spec.blocks, tuple(spec.ops), tuple(spec.combine), spec.inputs, spec.output,
                 spec.skeleton)


def space_text(spec: SpaceSpec) -> str:
    """A `space` block as .nas text."""
    keys = {"blocks": spec.blocks, "ops": ", ".join(spec.ops), "combine": ", ".join(spec.combine),
            "inputs": spec.inputs, "output": spec.output, "skeleton": spec.skeleton}
    return "\n".join([f"space {spec.name} {{", *(f"    {k} = {v}" for k, v in keys.items()), "}"]) + "\n"


def space_from_dict(d: dict[str, Any]) -> Space:
    """The space `Space.to_dict` made, held to the rules of a `space` block: ValueError (TypeError,
    KeyError for missing or unknown keys) if it breaks one, as a damaged store's value may."""
    from nasdsl.lang.load import load_text

    spec = SpaceSpec(**{**d, "ops": tuple(d["ops"]), "combine": tuple(d["combine"])})
    try:
        again = load_text(space_text(spec), "<stored space>").space_spec(spec.name)
    except NasError as e:
        raise ValueError(e.diagnostics[0].message) from None
    if again != spec:
        raise ValueError("a setting has the wrong type")
    return space_from_spec(spec)


def load_space(name_or_file: str = "nasnet") -> Space:
    """A space by zoo name, or the only (or `FILE:NAME`) space of a .nas file."""
    from nasdsl.lang.load import load

    path, sep, wanted = name_or_file.rpartition(":")
    if not sep or not path.endswith(".nas"):
        path, wanted = name_or_file, ""
    program = load(path)
    if not wanted and path in program.names() and path not in program.spaces:
        from nasdsl.lang.resolve import need

        need(program, path, "space", "nasdsl search --space")
    names = list(program.spaces)
    if not names:
        raise NasError(f"{name_or_file}: holds no `space` block")
    if wanted:
        if wanted not in program.spaces:
            raise NasError(f"{path}: no space named {wanted!r}; it has {', '.join(names)}")
        name = wanted
    elif path in program.spaces:
        name = path
    elif len(names) == 1:
        name = names[0]
    else:
        raise NasError(f"{path}: holds several spaces ({', '.join(names)}); pick one with FILE:NAME")
    return space_from_spec(program.space_spec(name))


def cell_blocks(space: Space, decisions: tuple[int, ...], cell: str) -> list[tuple[tuple[int, ...], tuple[str, ...], str]]:
    """(input indices, op names, combiner) per block of one cell."""
    start = CELL_KINDS.index(cell) * space.blocks * space.per_block
    k = space.inputs
    out = []
    for b in range(space.blocks):
        d = decisions[start + b * space.per_block: start + (b + 1) * space.per_block]
        out.append((tuple(d[:k]), tuple(space.ops[i] for i in d[k:2 * k]), space.combine[d[2 * k]]))
    return out


def state_name(index: int) -> str:
    return INPUT_NAMES[index] if index < len(INPUT_NAMES) else f"b{index - len(INPUT_NAMES)}"


def concat_count(space: Space, decisions: tuple[int, ...], cell: str) -> int:
    """How many states the cell's output concatenates (for `N @ P` and channel counts)."""
    if space.output == "blocks":
        return space.blocks
    used = {i for ins, _, _ in cell_blocks(space, decisions, cell) for i in ins}
    return sum(1 for i in range(len(INPUT_NAMES) + space.blocks) if i not in used)


def cell_text(space: Space, decisions: tuple[int, ...], cell: str, name: str | None = None) -> str:
    """One cell of an architecture as canonical-looking .nas text."""
    name = name or CELL_NAMES[cell]
    lines = [f"cell {name} : {cell} {{"]
    for b, (ins, ops, comb) in enumerate(cell_blocks(space, decisions, cell)):
        branches = [f"{op}({state_name(i)})" for op, i in zip(ops, ins)]
        if comb == "add" or len(branches) == 1:
            rhs = " + ".join(branches)
        else:
            rhs = f"{comb}({', '.join(branches)})"
        lines.append(f"    b{b} = {rhs}")
    lines.append(f"    out = concat({space.output})")
    lines.append("}")
    return "\n".join(lines)


def network_text(name: str, normal: str, reduction: str, settings: dict[str, object]) -> str:
    """A `network` block on one line per key."""
    lines = [f"network {name} {{", f"    normal = {normal}", f"    reduction = {reduction}"]
    for k, v in settings.items():
        if isinstance(v, bool):
            v = "true" if v else "false"
        lines.append(f"    {k} = {v}")
    lines.append("}")
    return "\n".join(lines)


def proxy_settings(proxy: ProxyNet, skeleton: str = "nasnet") -> dict[str, object]:
    """The proxy network's keys: the CIFAR stem of the space's skeleton, N cells per stage, F filters."""
    from nasdsl.skeletons import skeleton as named

    return {**named(skeleton).proxy, "cells": proxy.cells, "filters": proxy.filters, "image": proxy.image,
            "classes": proxy.classes, "stem_multiplier": proxy.stem_multiplier}


def zoo_cells_nas(normal: str, reduction: str, proxy: ProxyNet = DEFAULT_PROXY, skeleton: str = "nasnet") -> str:
    """Two cells of the zoo (the same one twice for a cell of kind `any`) in the proxy network of
    `skeleton`, as a .nas file: their imports, then the network."""
    imports = [f"import {normal}"] + ([f"import {reduction}"] if reduction != normal else [])
    return "\n".join(imports) + "\n\n" + network_text(PROXY_NETWORK, normal, reduction,
                                                      proxy_settings(proxy, skeleton)) + "\n"


def to_nas(space: Space, decisions: tuple[int, ...] | list[int], proxy: ProxyNet = DEFAULT_PROXY) -> str:
    """The architecture as a .nas file: the normal cell, the reduction cell and the proxy network."""
    ds = space.check(decisions)
    parts = [f"# sampled from space {space.name}: {' '.join(map(str, ds))}",
             cell_text(space, ds, "normal"), cell_text(space, ds, "reduction"),
             network_text(PROXY_NETWORK, CELL_NAMES["normal"], CELL_NAMES["reduction"],
                          proxy_settings(proxy, space.skeleton))]
    return "\n\n".join(parts) + "\n"
