"""Semantic checks. Every problem in a file is reported at once, each with its position."""
from __future__ import annotations

import numbers
import re
from bisect import bisect_right
from collections.abc import Callable, Collection
from dataclasses import replace
from functools import lru_cache

from ..errors import Diagnostic, diag_at
from . import ast
from .ops import CELL_INPUTS, COMBINERS, OPS, known_list, suggest
from .spec import MAX_FILTERS, MAX_N, MAX_PARAMS_ESTIMATE, NETWORK_KEYS, SPACE_KEYS, Key

RESERVED = frozenset({"h0", "h1", "out", "unused", "blocks", "cell", "network", "space", "import"})
CELL_KINDS = ("normal", "reduction")
CELL_ROLES = {"normal": "normal", "reduction": "reduction", "stem_cell": "reduction"}  # network key -> kind

Report = Callable[[str, ast.Pos, str], None]  # (message, position, hint)


def reporter(module: ast.Module, sink: list[Diagnostic]) -> Report:
    """A function that records a diagnostic at a position in `module`'s text."""

    def report(message: str, pos: ast.Pos, hint: str = "") -> None:
        sink.append(diag_at(message, module.source, pos.file or module.file, pos.line, pos.col, hint))

    report.source = module.source  # lets checks point at a word inside a node (see `_word_at`)
    return report


@lru_cache(maxsize=4)
def _line_starts(text: str) -> tuple[int, ...]:
    """The offset where each line of `text` starts (lines ended by "\\n", as the parser counts them)."""
    return (0, *(m.end() for m in re.finditer("\n", text)))


def _offset(text: str, pos: ast.Pos) -> int:
    starts = _line_starts(text)
    return starts[pos.line - 1] + pos.col - 1 if pos.line <= len(starts) else -1


def _to_pos(text: str, offset: int, like: ast.Pos) -> ast.Pos:
    line = bisect_right(_line_starts(text), offset)
    return ast.Pos(like.file, line, offset - _line_starts(text)[line - 1] + 1)


def _word_at(report: Report, pos: ast.Pos, word: str, nth: int = 0) -> ast.Pos:
    """The position of the `nth` whole-word `word` at or after `pos` (else `pos` itself)."""
    text = getattr(report, "source", "")
    start = _offset(text, pos) if text and pos.line > 0 else -1
    if start < 0:
        return pos
    pattern = re.compile(r"(?<![A-Za-z0-9_.])" + re.escape(word) + r"(?![A-Za-z0-9_])")
    for i, m in enumerate(pattern.finditer(text, start)):
        if i == nth:
            return _to_pos(text, m.start(), pos)
    return pos


def _after(report: Report, pos: ast.Pos, mark: str) -> ast.Pos:
    """The first non-blank after the first `mark` at or after `pos` (else `pos`): a setting's value
    after '=', a cell's kind after ':', a branch's input after '('."""
    text = getattr(report, "source", "")
    start = _offset(text, pos) if text and pos.line > 0 else -1
    at = text.find(mark, start) if start >= 0 else -1
    if at < 0:
        return pos
    m = re.compile(r"\s*").match(text, at + 1)
    return _to_pos(text, m.end(), pos)


def _value_at(report: Report, pos: ast.Pos) -> ast.Pos:
    return _after(report, pos, "=")


def check_cell(cell: ast.Cell, report: Report) -> None:
    """Kind, block names, op and combiner names, state references, cycles, the output list."""
    if cell.kind not in (*CELL_KINDS, "any"):
        report(f"unknown cell kind {cell.kind!r}; expected normal or reduction", _after(report, cell.pos, ":"),
               suggest(cell.kind, CELL_KINDS))
    if not cell.blocks:
        report(f"cell {cell.name!r} has no blocks", cell.pos)
    defined: dict[str, ast.Block] = {}
    all_blocks = {b.name: b for b in cell.blocks}
    for block in cell.blocks:
        if block.name in RESERVED:
            report(f"{block.name!r} is reserved and cannot name a block", block.pos)
        elif block.name in defined:
            first = defined[block.name].pos
            report(f"duplicate block {block.name!r} (first defined at line {first.line})", block.pos)
        if block.combine not in COMBINERS:
            report(f"unknown combiner {block.combine!r}; known: {known_list(COMBINERS)}", block.pos,
                   suggest(block.combine, COMBINERS))
        for br in block.branches:
            if br.op not in OPS:
                report(f"unknown op {br.op!r}", br.pos,
                       _join(suggest(br.op, OPS), f"known ops: {known_list(OPS)}"))
            _check_state(br.input, _after(report, br.pos, "("), block.name, defined, all_blocks, report)
        defined.setdefault(block.name, block)
    out = cell.output
    if out.combine != "concat":
        report(f"a cell's output must be concat(...), not {out.combine}(...)", out.pos)
    if out.mode == "list":
        seen: set[str] = set()
        for s in out.states:
            if s not in CELL_INPUTS and s not in defined:
                report(f"output names unknown state {s!r}", _word_at(report, out.pos, s),
                       suggest(s, [*CELL_INPUTS, *defined]))
            if s in seen:
                report(f"output lists {s!r} twice", _word_at(report, out.pos, s, 1))
            seen.add(s)
    elif out.mode == "unused" and cell.blocks and not unused_states(cell):
        report("concat(unused) is empty: every state is read by a block", out.pos)


def _check_state(name: str, pos: ast.Pos, block: str, defined: dict, all_blocks: dict,
                 report: Report) -> None:
    if name in CELL_INPUTS or name in defined:
        return
    if name == block:
        report(f"cycle: {block} reads itself", pos)
    elif name in all_blocks:
        path = _cycle(all_blocks, name, block)
        if path:
            report("cycle: " + " -> ".join(path), pos)
        else:
            report(f"{name!r} is used before it is defined", pos)
    else:
        report(f"unknown state {name!r}; a branch reads h0, h1 or an earlier block", pos,
               suggest(name, [*CELL_INPUTS, *defined]))


def _cycle(blocks: dict[str, ast.Block], start: str, target: str) -> list[str]:
    """A path of reads from `start` back to `target`, if any (so target -> start -> ... -> target)."""
    stack, seen = [(start, [target, start])], set()
    while stack:
        node, path = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for br in blocks[node].branches:
            if br.input == target:
                return path + [target]
            if br.input in blocks:
                stack.append((br.input, path + [br.input]))
    return []


def unused_states(cell: ast.Cell) -> tuple[str, ...]:
    """States (h0, h1, blocks) that no block reads, in index order: NASNet's output rule."""
    read = {br.input for b in cell.blocks for br in b.branches}
    return tuple(s for s in (*CELL_INPUTS, *(b.name for b in cell.blocks)) if s not in read)


def output_states(cell: ast.Cell) -> tuple[str, ...]:
    """The states the cell concatenates, in order."""
    if cell.output.mode == "unused":
        return unused_states(cell)
    if cell.output.mode == "blocks":
        return tuple(b.name for b in cell.blocks)
    return cell.output.states


def check_settings(node: ast.Network | ast.Space, schema: dict[str, Key], report: Report,
                   cells: dict[str, ast.Cell] | None, zoo: Collection[str] = ()) -> None:
    """Known keys, no duplicates, values of the right type; cell names exist (when `cells` is given;
    a missing cell that the zoo has gets an `import` hint)."""
    kind = "network" if isinstance(node, ast.Network) else "space"
    seen: dict[str, ast.Setting] = {}
    for s in node.settings:
        key = schema.get(s.key)
        if key is None:
            report(f"unknown {kind} key {s.key!r}", s.pos,
                   _join(suggest(s.key, schema), f"known keys: {known_list(schema)}"))
            continue
        if s.key in seen:
            report(f"duplicate key {s.key!r} (first set at line {seen[s.key].pos.line})", s.pos)
        seen[s.key] = s
        problem = _type_problem(key, s.value) or _range_problem(key, s.value)
        if problem:
            report(f"{s.key}: {problem}", _value_at(report, s.pos))
        elif key.type == "cell" and cells is not None and s.value not in cells:
            hint = (f"{s.value} is in the zoo: add `import {s.value}`" if s.value in zoo else
                    _join(suggest(str(s.value), cells), f"known cells: {known_list(cells) or '(none)'}"))
            report(f"unknown cell {s.value!r}", _value_at(report, s.pos), hint)
        elif key.type == "cell" and cells is not None and _miscast(s.key, cells[s.value]):
            report(f"{s.key}: {s.value} is declared `: {cells[s.value].kind}`; {s.key} takes a "
                   f"{CELL_ROLES[s.key]} cell (or one of no kind)", _value_at(report, s.pos))
        elif s.key == "ops":
            for op in _names(s.value):
                if op not in OPS:
                    report(f"space names op {op!r}, which the registry lacks", _word_at(report, s.pos, op),
                           _join(suggest(op, OPS), f"known ops: {known_list(OPS)}"))
        elif s.key == "combine":
            for c in _names(s.value):
                if c not in COMBINERS:
                    report(f"unknown combiner {c!r}; known: {known_list(COMBINERS)}",
                           _word_at(report, s.pos, c), suggest(c, COMBINERS))


def _miscast(key: str, cell: ast.Cell) -> bool:
    """Whether the network's `key` names a cell declared of the other kind (a kind that is neither
    is reported at the cell)."""
    return key in CELL_ROLES and cell.kind in CELL_KINDS and cell.kind != CELL_ROLES[key]


def _names(value: ast.Value) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (str(value),)


def _range_problem(key: Key, v: ast.Value) -> str:
    """A well-typed number outside the key's bounds (for `cells`: N)."""
    n = v.n if isinstance(v, ast.CellsNP) else v
    if isinstance(n, bool) or not isinstance(n, (int, float)) or key.in_range(n):
        return ""
    what = "N" if key.type == "cells" else "value"
    return f"{what} {n:g} is out of range; expected {key.range_text()}" if isinstance(n, float) else \
        f"{what} {n} is out of range; expected {key.range_text()}"


def _type_problem(key: Key, v: ast.Value) -> str:
    t = key.type
    if t == "cell":
        return "" if isinstance(v, str) and not isinstance(v, bool) else "expected a cell name"
    if t == "int":
        return "" if isinstance(v, int) and not isinstance(v, bool) and v > 0 else "expected a positive integer"
    if t == "float":
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v != v:  # v != v: NaN
            return "expected a number"
        return "" if v >= 0 else "expected a number of 0 or more"
    if t == "bool":
        return "" if isinstance(v, bool) else "expected true or false"
    if t == "choice":
        if isinstance(v, str) and v in key.choices:
            return ""
        return f"expected one of {', '.join(key.choices)}"
    if t == "cells":
        if isinstance(v, ast.CellsNP):
            ints = all(isinstance(x, int) and not isinstance(x, bool) for x in (v.n, v.p))
            return "" if ints and v.n > 0 and v.p > 0 else "N and P must be positive integers"
        ok = isinstance(v, int) and not isinstance(v, bool) and v > 0
        return "" if ok else "expected `N @ P` or a positive N"
    if t == "names":
        return "" if isinstance(v, (tuple, str)) and not isinstance(v, bool) else "expected a list of names"
    return ""


# NetworkSpec fields an API caller may override, with the DSL key whose type and bounds they keep
_FIELD_KEYS = {**{k: key for k, key in NETWORK_KEYS.items() if k != "cells"},
               "n": replace(NETWORK_KEYS["cells"], name="n", type="int")}


def plain(value: object) -> object:
    """A numpy (or other) integer or real as Python's own int or float; anything else unchanged."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return value


def override_problem(field: str, value: object) -> str:
    """Why `value` cannot replace NetworkSpec field `field` ("" when it can): the type and bounds
    `check` applies to the DSL key (`n`: the N of `cells`). `name` and `penultimate`, which no key
    sets directly, must be a name and a positive integer (or None); `skeleton`, any name (plan looks
    it up in the skeleton registry)."""
    value = plain(value)
    if field in ("name", "skeleton"):  # a skeleton registered from Python need not be one the DSL names
        return "" if isinstance(value, str) and value else "expected a name"
    if field == "penultimate":
        return "" if value is None or (isinstance(value, int) and value > 0) else "expected a positive integer"
    key = _FIELD_KEYS[field]
    return _type_problem(key, value) or _range_problem(key, value)


def check_network(net: ast.Network, cells: dict[str, ast.Cell], report: Report,
                  zoo: Collection[str] = ()) -> None:
    """Keys and cells, then the shape of `cells`: P = 4 * F * (states the normal cell concatenates)."""
    check_settings(net, NETWORK_KEYS, report, cells, zoo)
    if net.get("normal") is None:
        report(f"network {net.name!r} needs `normal = <cell>`", net.pos)
    cells_v, filters = net.get("cells"), net.get("filters")
    if cells_v is None:
        report(f"network {net.name!r} needs `cells = N @ P` (or `cells = N` with `filters = F`)", net.pos)
        return
    pos = _value_at(report, next(s.pos for s in net.settings if s.key == "cells"))
    normal = cells.get(str(net.get("normal")))
    if isinstance(cells_v, ast.CellsNP):
        if filters is not None:
            report("give either `cells = N @ P` or `filters = F`, not both", pos)
        elif normal is not None and isinstance(cells_v.p, int):
            k = len(output_states(normal))
            if k and cells_v.p % (4 * k):
                f = cells_v.p / (4 * k)
                report(f"bad N @ P: P = 4 x F x {k} (the states {normal.name} concatenates), "
                       f"so P must be a multiple of {4 * k}; {cells_v.p} gives F = {f:g}", pos)
    elif isinstance(cells_v, int) and filters is None:
        report("`cells = N` needs `filters = F` (or write `cells = N @ P`)", pos)
    _check_size(net, cells_v, filters, normal, pos, report)


def _check_size(net: ast.Network, cells_v: ast.Value, filters: ast.Value, normal: ast.Cell | None,
                pos: ast.Pos, report: Report) -> None:
    """F within bounds (also when it comes from P), and the weights of the whole network, estimated
    from N, F and the normal cell's branches, within MAX_PARAMS_ESTIMATE (so that it builds)."""
    k = len(output_states(normal)) if normal is not None else 0
    n = cells_v.n if isinstance(cells_v, ast.CellsNP) else cells_v
    f = cells_v.p / (4 * k) if isinstance(cells_v, ast.CellsNP) and k and filters is None else filters
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (n, f)) or n > MAX_N:
        return
    if f > MAX_FILTERS:
        if isinstance(cells_v, ast.CellsNP) and filters is None:
            report(f"P = {cells_v.p} gives F = {f:g} filters, more than {MAX_FILTERS}; "
                   f"expected P <= {4 * k * MAX_FILTERS}", pos)
        return
    if problem := size_problem(net.name, n, f, normal):
        report(problem, pos)


def size_problem(network: str, n: float, f: float, normal: ast.Cell | None) -> str:
    """"" or why a network of N cells per stage, F filters and this normal cell is too large to build:
    its weights, estimated from N, F and the cell's branches, over MAX_PARAMS_ESTIMATE."""
    branches = sum(len(b.branches) for b in normal.blocks) if normal is not None else 2
    # per stage: N cells x branches x a separable conv's 2 pointwise convs at that stage's width
    estimate = sum(n * branches * 2 * (f * 2 ** stage) ** 2 for stage in range(3))
    if estimate <= MAX_PARAMS_ESTIMATE:
        return ""
    return (f"network {network!r} is too large to build: about {estimate:,.0f} weights "
            f"(limit {MAX_PARAMS_ESTIMATE:,}); lower N, P or the cell's blocks")


def cell_override_problem(field: str, name: str, cells: dict[str, ast.Cell]) -> str:
    """"" or why the cell `name` cannot be a network's `field` (normal, reduction, stem_cell), as
    `check` holds a network's text to it."""
    if name not in cells:
        hint = suggest(name, cells)
        return f"no cell {name!r}" + (f"; {hint}" if hint else "") + f" (cells: {known_list(cells) or 'none'})"
    if _miscast(field, cells[name]):
        return (f"{name} is declared `: {cells[name].kind}`; {field} takes a {CELL_ROLES[field]} cell "
                "(or one of no kind)")
    return ""


def check_space(space: ast.Space, report: Report) -> None:
    check_settings(space, SPACE_KEYS, report, None)
    ops = space.get("ops")
    if ops is None:
        report(f"space {space.name!r} needs `ops = ...`", space.pos)
    elif set(_names(ops)) <= {"none"}:
        setting = next(st for st in space.settings if st.key == "ops")
        report("a space needs an op besides `none`: every cell of this one outputs zeros", _value_at(report, setting.pos))


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)
