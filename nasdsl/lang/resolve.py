"""Which network a target compiles to: the one chooser that compile, cost, interp, export, ir and
stats call (next to `load`, which it uses).

A target is a Program, DSL text, a .nas path or a zoo name. A zoo name means what it names: a
network compiles; a cell or a space is a NasError saying what the command needs. A FILE (or text)
compiles to the network asked for with `network`, else its own first network, else, when it holds
only cells, to the CIFAR network of its cells' skeleton: the skeleton of a zoo network built from
its normal cell (so a file of DARTS cells compiles onto the DARTS skeleton), else NASNet's.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import NasError
from ..skeletons import skeleton, with_overrides
from . import ast
from .load import Program, _is_file, load, load_text, zoo_index
from .ops import known_list, suggest
from .spec import NetworkSpec
from .validate import CELL_ROLES, cell_override_problem, size_problem

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def zoo_name(src) -> str | None:
    """The zoo name `src` is, or None (a Program, text, a path, an existing file)."""
    if isinstance(src, str) and NAME.match(src) and not _is_file(Path(src)):
        return src
    return None


def load_program(src) -> Program:
    """A Program from a Program, DSL text, a .nas path or a zoo name."""
    if isinstance(src, Program):
        return src
    if isinstance(src, Path):
        return load(src)
    if not isinstance(src, str):
        raise NasError(f"expected DSL text, a .nas path, a zoo name or a Program, got {type(src).__name__}")
    text = src
    if ("\n" in text or "{" in text) and not _is_file(Path(text)):  # an existing file is read as one
        return load_text(text, "<input>")
    return load(text)


def kind_of(program: Program, name: str) -> str:
    """`cell`, `network`, `space` or '' for a name in scope."""
    for kind, table in (("network", program.networks), ("cell", program.cells), ("space", program.spaces)):
        if name in table:
            return kind
    return ""


def need(program: Program, name: str, kind: str, command: str) -> None:
    """NasError unless `name` is a `kind` (`command` names what asks, e.g. `nasdsl export`)."""
    have = kind_of(program, name)
    if have != kind:
        table = {"network": program.networks, "cell": program.cells, "space": program.spaces}[kind]
        where = ""
        if name in zoo_index():  # a zoo name: its module's table is not what the user can choose from
            table, where = [n for n in zoo_index() if _zoo_kind(n) == kind], "zoo "
        raise NasError(f"{command} needs a {kind}, and {name!r} is a {have or 'name it does not know'}"
                       f" (known {where}{kind}s: {known_list(table) or 'none'})")


def _zoo_kind(name: str) -> str:
    from .load import _zoo_module

    item = next(i for i in _zoo_module(zoo_index()[name]).items if getattr(i, "name", None) == name)
    return {ast.Network: "network", ast.Cell: "cell", ast.Space: "space"}.get(type(item), "")


def cells_skeleton(program: Program, normal: str) -> str:
    """The skeleton a file of cells compiles onto: that of a zoo network whose normal cell it is."""
    for name in sorted(zoo_index()):
        zoo = _zoo_network(name)
        if zoo is not None and str(zoo.get("normal")) == normal:
            return str(zoo.get("skeleton") or "nasnet")
    return "nasnet"


def _zoo_network(name: str) -> ast.Network | None:
    from .load import _zoo_module

    module = _zoo_module(zoo_index()[name])
    return next((i for i in module.items if isinstance(i, ast.Network) and i.name == name), None)


def cifar_spec(program: Program) -> NetworkSpec:
    """The CIFAR network a file of cells compiles to: its skeleton's `cifar` preset."""
    own = [i for i in program.main.items if isinstance(i, ast.Cell)] or list(program.cells.values())
    if not own:
        raise NasError(f"{program.main.file}: no cell or network to compile")
    normal = next((c for c in own if c.kind in ("normal", "any")), own[0])
    reduction = next((c for c in own if c.kind == "reduction"), normal)
    sk = skeleton(cells_skeleton(program, normal.name))
    return NetworkSpec(name=f"{normal.name}_cifar", normal=normal.name, reduction=reduction.name,
                       stem_cell=reduction.name, skeleton=sk.name, penultimate=None, **sk.cifar)


def network_spec(program: Program, network: str | None = None, overrides: dict | None = None) -> NetworkSpec:
    """The spec to compile: the named network, else the file's network, else a CIFAR network."""
    if network is not None:
        if network not in program.networks:
            hint = suggest(network, program.networks)
            raise NasError(f"no network {network!r}" + (f"; {hint}" if hint else "")
                           + f" (known: {known_list(program.networks) or 'none'})")
        spec = program.network_spec(network)
    elif any(isinstance(i, ast.Network) for i in program.main.items) or (
            program.networks and not any(isinstance(i, ast.Cell) for i in program.main.items)):
        spec = program.network_spec(None)
    else:
        spec = cifar_spec(program)
    if not overrides:
        return spec
    spec = with_overrides(spec, **overrides)
    for field in CELL_ROLES.keys() & overrides.keys():  # what check holds a network's text to
        if problem := cell_override_problem(field, getattr(spec, field), program.cells):
            raise NasError(f"network {spec.name}: override {field}={overrides[field]!r}: {problem}")
    if problem := size_problem(spec.name, spec.n, spec.filters, program.cells.get(spec.normal)):
        raise NasError(problem)
    return spec


def resolve(src, network: str | None = None, overrides: dict | None = None,
            command: str = "compile") -> tuple[Program, NetworkSpec]:
    """(Program, NetworkSpec) of a target (see the module doc); `command` words the error when a
    zoo name is not a network."""
    program = load_program(src)
    name = zoo_name(src)
    if network is None and name is not None:
        need(program, name, "network", command)
        network = name
    return program, network_spec(program, network, overrides)
