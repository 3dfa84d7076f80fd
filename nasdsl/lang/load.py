"""Load .nas text into a validated Program: parse, resolve imports, check everything at once."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import Diagnostic, NasError
from ..resources import zoo_dir
from . import ast
from .ops import known_list, suggest
from .parse import parse
from .source import is_user_file, read_text
from .spec import NetworkSpec, SpaceSpec, network_spec, space_spec
from .validate import check_cell, check_network, check_space, output_states, reporter

# the most files one chain of imports may hold (the importing file included): imports resolve
# recursively, and a deeper chain would exhaust Python's stack
MAX_IMPORT_DEPTH = 100


@dataclass
class Program:
    """Every cell, network and space in scope, by name, plus the module each came from."""

    main: ast.Module
    cells: dict[str, ast.Cell] = field(default_factory=dict)
    networks: dict[str, ast.Network] = field(default_factory=dict)
    spaces: dict[str, ast.Space] = field(default_factory=dict)
    origin: dict[str, ast.Module] = field(default_factory=dict)  # name -> defining module

    def network_spec(self, name: str | None = None) -> NetworkSpec:
        """The named network (or the main module's only/first network) with defaults resolved."""
        net = self.networks[name or self.default_network()]
        normal = self.cells[str(net.get("normal"))]
        return network_spec(net, len(output_states(normal)))

    def space_spec(self, name: str) -> SpaceSpec:
        return space_spec(self.spaces[name])

    def default_network(self) -> str:
        """The main module's first network, else the only network in scope."""
        own = [i.name for i in self.main.items if isinstance(i, ast.Network)]
        if own:
            return own[0]
        if len(self.networks) == 1:
            return next(iter(self.networks))
        raise NasError(f"{self.main.file}: no network to use; pass one with --network "
                       f"(known: {known_list(self.networks) or 'none'})")

    def source_of(self, name: str) -> str:
        """The full text of the module that defines `name`."""
        return self.origin[name].source

    def names(self) -> set[str]:
        return set(self.cells) | set(self.networks) | set(self.spaces)


@lru_cache(maxsize=1)
def zoo_index() -> dict[str, Path]:
    """Zoo item name -> the zoo file defining it."""
    index: dict[str, Path] = {}
    for path in sorted(zoo_dir().glob("*.nas")):
        for item in parse(path.read_text(), path.name).items:
            if not isinstance(item, ast.Import):
                index[item.name] = path
    return index


def _zoo_module(path: Path) -> ast.Module:
    """A zoo file, parsed once per version of the file (modules are immutable, so sharing is safe)."""
    return _parse_zoo(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=64)
def _parse_zoo(path: Path, mtime_ns: int) -> ast.Module:
    return parse(path.read_text(), f"<zoo>/{path.name}")


def load(target: str | Path) -> Program:
    """Load a .nas file, or a zoo entry by name (e.g. `nasnet_a_mobile`)."""
    if not isinstance(target, (str, os.PathLike)):
        raise NasError(f"expected a .nas file or a zoo name, got {type(target).__name__}")
    if str(target) == "":
        raise NasError("an empty name: give a .nas file or a zoo name")  # Path("") is ".", a directory
    path = Path(target)
    if is_user_file(target) or _is_dir(path):
        text = read_text(path if str(target) != "-" else "-")  # UTF-8 (BOM allowed) or a located error
        return load_text(text, str(path) if str(target) != "-" else "<stdin>")
    if str(target).endswith(".nas") or "/" in str(target):
        raise NasError(f"{target}: no such file")
    name = str(target)
    if name not in zoo_index():
        hint = suggest(name, zoo_index())
        raise NasError(f"{name}: not a file and not a zoo entry" + (f"; {hint}" if hint else "")
                       + f" (zoo: {known_list(zoo_index())})")
    zoo_file = zoo_index()[name]
    return load_text(zoo_file.read_text(), f"<zoo>/{zoo_file.name}")


def input_files(target: str | Path | None) -> list[str]:
    """The files that loading `target` reads: the file and every file it imports (for standard input
    the files it imports; none for a zoo name or a pipe, which reads once; the file alone when it
    does not load, which its command reports)."""
    stdin = str(target) == "-"
    if target is None or not (stdin or _is_file(Path(target))):
        return []
    own = [] if stdin else [str(target)]
    try:
        program = load(target)
    except NasError:
        return own
    return [*own, *sorted({m.file for m in program.origin.values() if not m.file.startswith("<")})]


def target_cells(program: Program, target: str, doing: str) -> list[str]:
    """The cells a command's target names (`program` is what it loaded): a zoo cell, that cell; a zoo
    network, its cells; a file (or `-`), the cells it defines, else its networks' cells, else every
    cell it imports. A zoo search space names none: a NasError, as is a file without cells.
    `doing` ends the messages ("to draw")."""
    if not is_user_file(target):
        if target in program.cells:
            return [target]
        if target in program.networks:
            return network_cells(program.networks[target])
        raise NasError(Diagnostic(f"a search space has no cell {doing}; name a cell or a network", target))
    own = program.main.items
    names = [i.name for i in own if isinstance(i, ast.Cell)]
    names = names or [n for i in own if isinstance(i, ast.Network) for n in network_cells(i)]
    names = names or sorted(program.cells)
    if not names:
        raise NasError(Diagnostic(f"defines no cell {doing}", target))
    return list(dict.fromkeys(names))


def network_cells(net: ast.Network) -> list[str]:
    """A network's normal and reduction cells (one, where they are the same)."""
    return list(dict.fromkeys(str(net.get(k)) for k in ("normal", "reduction") if net.get(k) is not None))


def load_text(text: str, file: str = "<input>") -> Program:
    """Parse and validate `text`; imports of files resolve relative to `file`."""
    diags: list[Diagnostic] = []
    main = parse(text, file)
    program = Program(main)
    _resolve(main, program, diags, stack=(_key(file),))
    _validate(program, diags)
    if diags:
        raise NasError(_dedupe(diags))
    return program


def _key(file: str) -> str:
    if file.startswith("<"):
        return file
    try:
        return str(Path(file).resolve())
    except (OSError, RuntimeError, ValueError):  # symlink loops, odd names: fall back to the text
        return file


def _is_dir(path: Path) -> bool:
    """`Path.is_dir`, but False (not an exception) for names the OS rejects (too long, NUL)."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def _is_file(path: Path) -> bool:
    """`Path.is_file`, but False (not an exception) for names the OS rejects (too long, NUL)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _resolve(module: ast.Module, program: Program, diags: list[Diagnostic], stack: tuple[str, ...]) -> None:
    """Bring the module's imports and then its own items into `program`."""
    report = reporter(module, diags)
    for imp in module.imports:
        if imp.is_path:
            _import_file(module, imp, program, diags, stack, report)
        else:
            _import_zoo_name(imp, program, diags, stack, report)
    for item in module.items:
        if not isinstance(item, ast.Import):
            _add(item, module, program, report)


def _import_file(module, imp, program, diags, stack, report) -> None:
    base = Path(module.file).parent if not module.file.startswith("<") else Path.cwd()
    path = (base / imp.target)
    if module.file.startswith("<zoo>"):
        path = zoo_dir() / imp.target
    if not _is_file(path):
        report(f"cannot import {imp.target!r}: no such file", imp.pos)
        return
    key = _key(str(path))
    if key in stack:
        report(f"import cycle: {imp.target!r} imports this file back", imp.pos)
        return
    if key in _loaded(program):
        return
    if len(stack) >= MAX_IMPORT_DEPTH:
        report(f"import chain too deep: more than {MAX_IMPORT_DEPTH} files", imp.pos)
        return
    try:
        sub = parse(read_text(path), str(path))
    except NasError as e:
        diags.extend(e.diagnostics)
        return
    _resolve(sub, program, diags, stack + (key,))


def _import_zoo_name(imp, program, diags, stack, report) -> None:
    index = zoo_index()
    if imp.target not in index:
        report(f"cannot import {imp.target!r}: no zoo entry by that name", imp.pos,
               suggest(imp.target, index) or f"zoo: {known_list(index)}")
        return
    if imp.target in program.names():
        return
    path = index[imp.target]
    sub = _zoo_module(path)
    scratch = Program(sub)
    _resolve(sub, scratch, diags, stack + (f"<zoo>/{path.name}",))
    wanted = {imp.target}
    if imp.target in scratch.networks:  # a network brings the cells it names
        net = scratch.networks[imp.target]
        wanted |= {str(net.get(k)) for k in ("normal", "reduction", "stem_cell") if net.get(k)}
    for name in sorted(wanted):
        for table in (scratch.cells, scratch.networks, scratch.spaces):
            if name in table and name not in program.names():
                _add(table[name], scratch.origin[name], program, reporter(sub, diags))


def _loaded(program: Program) -> set[str]:
    return {_key(m.file) for m in program.origin.values()}


def _add(item: ast.Item, module: ast.Module, program: Program, report) -> None:
    if item.name in program.names():
        other = program.origin[item.name]
        where = other.file if other is not module else "this file"
        first = _find(program, item.name)
        report(f"duplicate name {item.name!r} (also defined in {where} at line {first.pos.line})",
               item.pos)
        return
    table = {ast.Cell: program.cells, ast.Network: program.networks, ast.Space: program.spaces}[type(item)]
    table[item.name] = item
    program.origin[item.name] = module


def _find(program: Program, name: str):
    return program.cells.get(name) or program.networks.get(name) or program.spaces[name]


def _validate(program: Program, diags: list[Diagnostic]) -> None:
    for name, cell in program.cells.items():
        check_cell(cell, reporter(program.origin[name], diags))
    for name, net in program.networks.items():
        check_network(net, program.cells, reporter(program.origin[name], diags), zoo_index())
    for name, space in program.spaces.items():
        check_space(space, reporter(program.origin[name], diags))


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen, out = set(), []
    for d in diags:
        k = (d.file, d.line, d.col, d.message)
        if k not in seen:
            seen.add(k)
            out.append(d)
    return sorted(out, key=lambda d: (d.file, d.line, d.col))
