"""Conversions between .nas cells and published genotype formats, read without eval.

- TF-slim NASNet/PNASNet: three lists `operations`, `hiddenstate_indices`, `used_hiddenstates`.
  State 0 = this cell's input after its 1x1 (our h0), 1 = the input before (h1), 2.. = blocks.
  Block k adds ops[2k](state idx[2k]) and ops[2k+1](state idx[2k+1]); the cell concatenates, in
  index order, the states whose `used_hiddenstates` entry is 0. TF-slim's 'none' is the identity.
- DARTS: `Genotype(normal=[(op, j), ...], normal_concat=[...], reduce=[...], reduce_concat=[...])`,
  two (op, j) pairs per node, summed. DARTS numbers the inputs the other way round: 0 = c_{k-2}
  (our h1), 1 = c_{k-1} (our h0); 2.. = nodes. DARTS' 'none' is the zero op.

The input is read by a small tokenizer and recursive-descent parser for the Python-literal subset
these formats use (names, ints, strings, lists, tuples, calls with keyword arguments, `range`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import NasError, diag_at
from . import ast
from .ops import known_list, suggest
from .validate import output_states

# DARTS primitive -> registry op (DARTS PRIMITIVES, its operations.py extras, AmoebaNet's conv pair)
DARTS_OPS: dict[str, str] = {
    "none": "none",
    "skip_connect": "id",
    "max_pool_3x3": "max3x3",
    "avg_pool_3x3": "avg3x3",
    "sep_conv_3x3": "sep3x3",
    "sep_conv_5x5": "sep5x5",
    "sep_conv_7x7": "sep7x7",
    "dil_conv_3x3": "dil_sep3x3",
    "dil_conv_5x5": "dil_sep5x5",
    "conv_7x1_1x7": "conv1x7_7x1",
    "conv_1x1": "conv1x1",
    "conv_3x3": "conv3x3",
}
DARTS_NAMES: dict[str, str] = {v: k for k, v in DARTS_OPS.items()}

# TF-slim op name -> registry op. 'separable_KxK_2' = two stacked separable convs (our sepKxK).
TFSLIM_OPS: dict[str, str] = {
    "none": "id",
    "separable_3x3_2": "sep3x3",
    "separable_5x5_2": "sep5x5",
    "separable_7x7_2": "sep7x7",
    "avg_pool_3x3": "avg3x3",
    "max_pool_3x3": "max3x3",
    "max_pool_5x5": "max5x5",
    "max_pool_7x7": "max7x7",
}
TFSLIM_NAMES: dict[str, str] = {v: k for k, v in TFSLIM_OPS.items()}

TFSLIM_KEYS = ("operations", "hiddenstate_indices", "used_hiddenstates")


# ---------------------------------------------------------------- a literal reader, no eval

@dataclass(frozen=True)
class Name:
    text: str
    at: int  # offset in the source


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple
    kwargs: dict
    at: int


@dataclass(frozen=True)
class Lit:
    """A literal with its source offset (so errors can point at it)."""

    value: object
    at: int


_TOKEN = re.compile(r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<int>[0-9]+)
  | (?P<str>'[^'\\\n]*'|"[^"\\\n]*")
  | (?P<punct>[()\[\],=;])
""", re.VERBOSE)


class _Reader:
    """Recursive descent over the token list; every error is a NasError at the offending token."""

    def __init__(self, text: str, file: str):
        text = re.sub(r"\r\n?", "\n", text)  # a lone CR ends a line (and a comment), as in .nas files
        self.text, self.file = text, file
        self.toks: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                self.fail(f"unexpected character {text[pos]!r}", pos)
            if m.lastgroup != "ws":
                self.toks.append((m.lastgroup, m.group(), pos))
            pos = m.end()
        self.i = 0

    def fail(self, message: str, at: int, hint: str = ""):
        line = self.text.count("\n", 0, at) + 1
        col = at - (self.text.rfind("\n", 0, at) + 1) + 1
        raise NasError(diag_at(message, self.text, self.file, line, col, hint))

    def peek(self) -> tuple[str, str, int]:
        return self.toks[self.i] if self.i < len(self.toks) else ("end", "", len(self.text))

    def take(self, text: str | None = None) -> tuple[str, str, int]:
        tok = self.peek()
        if tok[0] == "end":
            self.fail("unexpected end of input" + (f"; expected {text!r}" if text else ""), tok[2])
        if text is not None and tok[1] != text:
            self.fail(f"expected {text!r}, found {tok[1]!r}", tok[2])
        self.i += 1
        return tok

    def statements(self) -> list[tuple[str | None, object]]:
        """`[NAME =] value` statements, separated by newlines, ',' or ';'."""
        out = []
        while self.peek()[0] != "end":
            if self.peek()[1] in (",", ";"):
                self.take()
                continue
            kind, text, _ = self.peek()
            if kind == "name" and self.i + 1 < len(self.toks) and self.toks[self.i + 1][1] == "=":
                self.take()
                self.take("=")
                out.append((text, self.value()))
            else:
                out.append((None, self.value()))
        return out

    def value(self):
        self.depth = getattr(self, "depth", 0) + 1
        try:
            return self._value()
        finally:
            self.depth -= 1

    def _value(self):
        kind, text, at = self.take()
        if self.depth > MAX_NESTING:
            self.fail(f"nested more than {MAX_NESTING} levels deep; a genotype needs 3", at)
        if kind == "int":
            return Lit(int(text), at)
        if kind == "str":
            return Lit(text[1:-1], at)
        if text in ("[", "("):
            items = self.sequence("]" if text == "[" else ")")
            return Lit(list(items) if text == "[" else tuple(items), at)
        if kind == "name":
            if self.peek()[1] == "(":
                self.take("(")
                args, kwargs = self.arguments()
                return Call(text, tuple(args), kwargs, at)
            return Name(text, at)
        self.fail(f"unexpected {text!r}", at)

    def sequence(self, close: str) -> list:
        items = []
        while self.peek()[1] != close:
            items.append(self.value())
            if self.peek()[1] != close:
                self.take(",")
        self.take(close)
        return items

    def arguments(self) -> tuple[list, dict]:
        args, kwargs = [], {}
        while self.peek()[1] != ")":
            kind, text, at = self.peek()
            if kind == "name" and self.i + 1 < len(self.toks) and self.toks[self.i + 1][1] == "=":
                self.take()
                self.take("=")
                if text in kwargs:
                    self.fail(f"argument {text!r} given twice", at)
                kwargs[text] = self.value()
            else:
                args.append(self.value())
            if self.peek()[1] != ")":
                self.take(",")
        self.take(")")
        return args, kwargs


MAX_NESTING = 64  # lists and calls inside each other (a genotype uses 3); deeper is not a genotype


def read_literals(text: str, file: str = "<input>") -> list[tuple[str | None, object]]:
    """The statements of a Python-literal-like text as (assigned name or None, value) pairs."""
    return _Reader(text, file).statements()


# ---------------------------------------------------------------- DARTS

def from_darts(text: str, name: str = "darts", file: str = "<darts>") -> ast.Module:
    """Cells from every `Genotype(...)` in `text`: `<name>_normal` (and `<name>_reduce`).
    A genotype assigned to a variable (`DARTS_V2 = Genotype(...)`, `genotypes.DARTS_V2 = ...`) is
    named after it, lowercased."""
    reader = _Reader(text, file)
    cells: list[ast.Cell] = []
    found = []
    for target, value in reader.statements():
        if not (isinstance(value, Call) and value.func.split(".")[-1] == "Genotype"):
            continue
        found.append(value)
        base = target.split(".")[-1].lower() if target else name
        fields = _genotype_fields(reader, value)
        for part, kind, suffix in (("normal", "normal", "normal"), ("reduce", "reduction", "reduce")):
            if fields.get(part) is None:
                continue
            if any(c.name == f"{base}_{suffix}" for c in cells):
                reader.fail(f"this genotype's {part} cell is named {base}_{suffix} too (an earlier one's name; "
                            "names are lowercased)", value.at, "assign the genotypes to different names")
            concat = fields.get(f"{part}_concat")
            cells.append(_darts_cell(reader, f"{base}_{suffix}", kind, fields[part], concat, value.at))
    if not found:
        reader.fail("no Genotype(...) found", 0, "expected Genotype(normal=[('sep_conv_3x3', 1), ...], "
                    "normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[...])")
    if not cells:
        reader.fail("no cell: every Genotype's normal and reduce are None", found[0].at)
    return ast.Module(tuple(cells), file)


_GENOTYPE_FIELDS = ("normal", "normal_concat", "reduce", "reduce_concat")


def _genotype_fields(reader: _Reader, call: Call) -> dict:
    if len(call.args) > len(_GENOTYPE_FIELDS):
        reader.fail("Genotype takes at most 4 fields", call.at)
    fields = dict(zip(_GENOTYPE_FIELDS, call.args))
    for key, value in call.kwargs.items():
        if key not in _GENOTYPE_FIELDS:
            reader.fail(f"unknown Genotype field {key!r}", call.at,
                        suggest(key, _GENOTYPE_FIELDS) or f"fields: {', '.join(_GENOTYPE_FIELDS)}")
        if key in fields:
            reader.fail(f"Genotype field {key!r} given twice", call.at)
        fields[key] = value
    if "normal" not in fields:
        reader.fail("Genotype has no `normal` list", call.at)
    return {k: (None if isinstance(v, Name) and v.text == "None" else v) for k, v in fields.items()}


def _darts_cell(reader: _Reader, name: str, kind: str, edges, concat, at: int) -> ast.Cell:
    pairs = _edge_pairs(reader, edges)
    if not pairs or len(pairs) % 2:
        reader.fail(f"{name}: expected two (op, input) pairs per node, got {len(pairs)} pairs",
                    getattr(edges, "at", at))
    blocks = []
    for k in range(len(pairs) // 2):
        branches = []
        for op_lit, j_lit in pairs[2 * k: 2 * k + 2]:
            op = DARTS_OPS.get(op_lit.value)
            if op is None:
                reader.fail(f"unknown DARTS op {op_lit.value!r}", op_lit.at,
                            suggest(str(op_lit.value), DARTS_OPS) or f"known: {known_list(DARTS_OPS)}")
            branches.append(ast.Branch(op, _darts_state(reader, j_lit, k)))
        blocks.append(ast.Block(f"b{k}", "add", tuple(branches)))
    n = len(blocks)
    if concat is None:
        states = tuple(range(2, n + 2))
    else:
        states = tuple(_ints(reader, concat, f"{name} concat"))
    if not states:
        reader.fail(f"{name}: the concat list is empty", getattr(concat, "at", at))
    for k, (s, s_at) in enumerate(zip(states, _offsets(concat, at, len(states)))):
        if not 0 <= s < n + 2:
            reader.fail(f"{name}: concat names state {s}; states are 0..{n + 1}", s_at)
        if s in states[:k]:
            reader.fail(f"{name}: concat names state {s} twice", s_at)
    if states == tuple(range(2, n + 2)):
        output = ast.Output("blocks")
    else:
        output = ast.Output("list", tuple(_darts_name(s) for s in states))
    return ast.Cell(name, kind, tuple(blocks), output)


def _edge_pairs(reader: _Reader, edges) -> list[tuple[Lit, Lit]]:
    """[(op, j), ...] or [((op, j), (op, j)), ...] (one pair of edges per node)."""
    if not (isinstance(edges, Lit) and isinstance(edges.value, (list, tuple))):
        reader.fail("expected a list of (op, input) pairs", getattr(edges, "at", 0))
    pairs = []
    for item in edges.value:
        if isinstance(item, Lit) and isinstance(item.value, tuple) and len(item.value) == 2 \
                and all(isinstance(x, Lit) and isinstance(x.value, tuple) for x in item.value):
            pairs += [_pair(reader, x) for x in item.value]
        else:
            pairs.append(_pair(reader, item))
    return pairs


def _pair(reader: _Reader, item) -> tuple[Lit, Lit]:
    ok = isinstance(item, Lit) and isinstance(item.value, tuple) and len(item.value) == 2
    if ok:
        op, j = item.value
        if isinstance(op, Lit) and isinstance(op.value, str) and isinstance(j, Lit) \
                and isinstance(j.value, int):
            return op, j
    reader.fail("expected an (op, input) pair such as ('sep_conv_3x3', 1)", getattr(item, "at", 0))


def _darts_state(reader: _Reader, j: Lit, node: int) -> str:
    if j.value >= node + 2:
        reader.fail(f"node {node} reads state {j.value}, which is not earlier (states 0..{node + 1})",
                    j.at)
    return _darts_name(j.value)


def _darts_name(j: int) -> str:
    return {0: "h1", 1: "h0"}.get(j, f"b{j - 2}")


def _ints(reader: _Reader, value, what: str) -> list[int]:
    if isinstance(value, Call) and value.func == "range" and not value.kwargs \
            and 1 <= len(value.args) <= 2:
        bounds = [_int(reader, a, what) for a in value.args]
        lo, hi = (0, *bounds) if len(bounds) == 1 else bounds
        if hi - lo > 10_000:  # checked before building it: range(2, 10**30) must not hang
            reader.fail(f"{what}: range of {hi - lo} states is too long", value.at)
        return list(range(lo, hi))
    if isinstance(value, Lit) and isinstance(value.value, (list, tuple)):
        return [_int(reader, x, what) for x in value.value]
    reader.fail(f"{what}: expected a list of ints or range(a, b)", getattr(value, "at", 0))


def _int(reader: _Reader, value, what: str) -> int:
    if isinstance(value, Lit) and isinstance(value.value, int):
        return value.value
    reader.fail(f"{what}: expected an int", getattr(value, "at", 0))


def _offsets(value, default: int, n: int) -> list[int]:
    if isinstance(value, Lit) and isinstance(value.value, (list, tuple)):
        return [getattr(x, "at", default) for x in value.value]
    return [getattr(value, "at", default)] * n


def to_darts(normal: ast.Cell, reduce: ast.Cell | None = None) -> str:
    """`Genotype(normal=[...], normal_concat=[...], reduce=[...], reduce_concat=[...])` text."""
    parts = []
    for key, cell in (("normal", normal), ("reduce", reduce)):
        if cell is None:
            parts += [f"{key}=None", f"{key}_concat=None"]
            continue
        index = _state_index(cell, {"h1": 0, "h0": 1})
        edges = []
        for block in cell.blocks:
            _need_add_pair(cell, block, "DARTS")
            for br in block.branches:
                if br.op not in DARTS_NAMES:
                    raise NasError(f"cell {cell.name}: op {br.op!r} has no DARTS name "
                                   f"(DARTS ops: {known_list(DARTS_NAMES)})")
                edges.append(f"({DARTS_NAMES[br.op]!r}, {index[br.input]})")
        concat = [index[s] for s in output_states(cell)]
        parts += [f"{key}=[{', '.join(edges)}]", f"{key}_concat={concat}"]
    return "Genotype(" + ", ".join(parts) + ")"


# ---------------------------------------------------------------- TF-slim

def from_tfslim(text: str, name: str = "cell", kind: str = "any", file: str = "<tfslim>") -> ast.Module:
    """One cell from TF-slim's three lists, given as `operations = [...]` etc. (any order) or as
    three lists in the order operations, hiddenstate_indices, used_hiddenstates."""
    reader = _Reader(text, file)
    named: dict[str, object] = {}
    positional: list = []
    def keep(key: str, value) -> None:
        if key in named:
            reader.fail(f"{key} given twice: TF-slim text holds one cell", getattr(value, "at", 0),
                        "convert one cell at a time")
        named[key] = value

    for target, value in reader.statements():
        if isinstance(value, Call):  # e.g. NasNetANormalCell(...) keywords, or a wrapper call
            for k, v in value.kwargs.items():
                if k in TFSLIM_KEYS:
                    keep(k, v)
            positional += [a for a in value.args if isinstance(a, Lit) and isinstance(a.value, list)]
        elif target is not None and target.split(".")[-1] in TFSLIM_KEYS:
            keep(target.split(".")[-1], value)
        elif target is None and isinstance(value, Lit) and isinstance(value.value, list):
            positional.append(value)
    lists = dict(zip(TFSLIM_KEYS, positional)) if not named else named
    missing = [k for k in TFSLIM_KEYS if k not in lists]
    if missing:
        reader.fail(f"missing TF-slim list(s): {', '.join(missing)}", 0,
                    "give operations = [...], hiddenstate_indices = [...], used_hiddenstates = [...]")
    ops = _strings(reader, lists["operations"], "operations")
    idx = _ints(reader, lists["hiddenstate_indices"], "hiddenstate_indices")
    used = _ints(reader, lists["used_hiddenstates"], "used_hiddenstates")
    op_at = _offsets(lists["operations"], 0, len(ops))
    idx_at = _offsets(lists["hiddenstate_indices"], 0, len(idx))
    if len(ops) != len(idx) or not ops or len(ops) % 2:
        reader.fail(f"operations ({len(ops)}) and hiddenstate_indices ({len(idx)}) must have the same "
                    "even, non-zero length (two per block)", getattr(lists["operations"], "at", 0))
    n = len(ops) // 2
    if len(used) != n + 2:
        reader.fail(f"used_hiddenstates has {len(used)} entries; {n} blocks need {n + 2}",
                    getattr(lists["used_hiddenstates"], "at", 0))
    for u, u_at in zip(used, _offsets(lists["used_hiddenstates"], 0, len(used))):
        if u not in (0, 1):
            reader.fail(f"used_hiddenstates: expected 0 or 1, got {u}", u_at)
    blocks = []
    for k in range(n):
        branches = []
        for i in (2 * k, 2 * k + 1):
            op = TFSLIM_OPS.get(ops[i])
            if op is None:
                reader.fail(f"unknown TF-slim op {ops[i]!r}", op_at[i],
                            suggest(ops[i], TFSLIM_OPS) or f"known: {known_list(TFSLIM_OPS)}")
            if not 0 <= idx[i] < k + 2:
                reader.fail(f"block {k} reads state {idx[i]}, which is not earlier (states 0..{k + 1})",
                            idx_at[i])
            branches.append(ast.Branch(op, _tfslim_name(idx[i])))
        blocks.append(ast.Block(f"b{k}", "add", tuple(branches)))
    states = tuple(_tfslim_name(i) for i, u in enumerate(used) if not u)
    if not states:
        reader.fail("used_hiddenstates marks every state used: the cell would output nothing",
                    getattr(lists["used_hiddenstates"], "at", 0))
    if states == tuple(f"b{k}" for k in range(n)):
        output = ast.Output("blocks")
    else:
        output = ast.Output("list", states)
    return ast.Module((ast.Cell(name, kind, tuple(blocks), output),), file)


def _strings(reader: _Reader, value, what: str) -> list[str]:
    if isinstance(value, Lit) and isinstance(value.value, (list, tuple)):
        out = []
        for x in value.value:
            if not (isinstance(x, Lit) and isinstance(x.value, str)):
                reader.fail(f"{what}: expected a string", getattr(x, "at", value.at))
            out.append(x.value)
        return out
    reader.fail(f"{what}: expected a list of strings", getattr(value, "at", 0))


def _tfslim_name(i: int) -> str:
    return {0: "h0", 1: "h1"}.get(i, f"b{i - 2}")


def to_tfslim(cell: ast.Cell) -> str:
    """The three TF-slim lists of `cell`, as Python assignments."""
    index = _state_index(cell, {"h0": 0, "h1": 1})
    ops, idx = [], []
    for block in cell.blocks:
        _need_add_pair(cell, block, "TF-slim")
        for br in block.branches:
            if br.op not in TFSLIM_NAMES:
                raise NasError(f"cell {cell.name}: op {br.op!r} has no TF-slim name "
                               f"(TF-slim ops: {known_list(TFSLIM_NAMES)})")
            ops.append(TFSLIM_NAMES[br.op])
            idx.append(index[br.input])
    out = [index[s] for s in output_states(cell)]
    if out != sorted(set(out)):
        raise NasError(f"cell {cell.name}: TF-slim concatenates states in index order, once each; "
                       f"this cell concatenates {', '.join(output_states(cell))}")
    used = [0 if i in out else 1 for i in range(len(cell.blocks) + 2)]
    return (f"operations = {ops!r}\n"
            f"hiddenstate_indices = {idx!r}\n"
            f"used_hiddenstates = {used!r}\n")


# ---------------------------------------------------------------- shared

def _state_index(cell: ast.Cell, inputs: dict[str, int]) -> dict[str, int]:
    index = dict(inputs)
    for k, block in enumerate(cell.blocks):
        index[block.name] = k + 2
    return index


def _need_add_pair(cell: ast.Cell, block: ast.Block, fmt: str) -> None:
    if block.combine != "add" or len(block.branches) != 2:
        raise NasError(f"cell {cell.name}: block {block.name} is not the sum of two branches, "
                       f"which is all {fmt} can express")

