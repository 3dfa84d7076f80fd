"""The formatter: one canonical text for a Module, comments kept. `parse(format_module(m)) == m`.

Canonical form: 4-space indentation; one item per paragraph (imports grouped); `a(x) + b(y)` for
`add`, `name(a(x), b(y))` for other combiners; settings in the schema's key order (the parser keeps
them in that order too, so the round trip holds for any input); ints as written, floats as Python's
shortest repr with a plain exponent (1e-5); long name lists wrapped under their first value.

Comments: a comment on its own line belongs to the next element (item, block, output, setting or
closing brace) and is printed above it; a comment after code belongs to the last element that starts
on or before its line and is printed after it. One blank line after a comment is kept.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from lark import Token

from ..errors import NasError
from . import ast
from .spec import NETWORK_KEYS, SPACE_KEYS

INDENT = "    "
WIDTH = 80


@dataclass
class _Notes:
    """Comments attached to one element."""

    leading: list[tuple[str, bool]] = field(default_factory=list)  # (text, blank line after)
    trailing: list[str] = field(default_factory=list)


def format_module(module: ast.Module) -> str:
    """The canonical text of `module` (ends with one newline; empty module -> comments only); a
    Program (what `nasdsl.load` returns) gives its own file's."""
    if not isinstance(module, ast.Module):
        main = getattr(module, "main", None)
        if not isinstance(main, ast.Module):
            raise NasError(f"format_module takes a parsed module or a Program, got {type(module).__name__}")
        module = main
    notes, tail = _attach_comments(module)
    return _render(module.items, notes, tail)


def format_item(module: ast.Module, name: str) -> str:
    """The canonical text of the one item of `module` named `name`, with the comments that belong to
    it (`nasdsl fmt NAME` of a zoo entry)."""
    notes, _ = _attach_comments(module)
    items = [i for i in module.items if not isinstance(i, ast.Import) and i.name == name]
    if not items:
        raise NasError(f"{module.file} defines no {name}")
    return _render(items, notes, [])


def _render(items, notes: dict, tail: list[tuple[str, bool]]) -> str:
    out: list[str] = []
    prev: ast.Item | None = None
    for item in items:
        if prev is not None and not (isinstance(prev, ast.Import) and isinstance(item, ast.Import)):
            out.append("")
        out.extend(_item_lines(item, notes))
        prev = item
    if tail:
        if out:
            out.append("")
        out.extend(_comment_lines(tail, ""))
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n" if out else ""


def format_text(text: str, file: str = "<input>") -> str:
    """Parse `text` (syntax only, no validation) and return its canonical form."""
    from .parse import parse

    return format_module(parse(text, file))


# ---------------------------------------------------------------- items

def _item_lines(item: ast.Item, notes: dict) -> list[str]:
    if isinstance(item, ast.Import):
        target = f'"{item.target}"' if item.is_path else item.target
        return _with_notes(notes, ("item", id(item)), f"import {target}", "")
    if isinstance(item, ast.Cell):
        kind = "" if item.kind == "any" else f" : {item.kind}"
        lines = _with_notes(notes, ("item", id(item)), f"cell {item.name}{kind} {{", "")
        for block in item.blocks:
            lines += _with_notes(notes, ("node", id(block)), INDENT + format_block(block), INDENT)
        lines += _with_notes(notes, ("node", id(item.output)), INDENT + format_output(item.output),
                             INDENT)
        return lines + _with_notes(notes, ("close", id(item)), "}", INDENT)
    kind = "network" if isinstance(item, ast.Network) else "space"
    schema = NETWORK_KEYS if isinstance(item, ast.Network) else SPACE_KEYS
    lines = _with_notes(notes, ("item", id(item)), f"{kind} {item.name} {{", "")
    for s in _ordered(item.settings, schema):
        lines += _with_notes(notes, ("node", id(s)), _setting_text(s), INDENT)
    return lines + _with_notes(notes, ("close", id(item)), "}", INDENT)


def format_block(block: ast.Block) -> str:
    """`b0 = sep3x3(h0) + id(h1)` or `b0 = concat(sep3x3(h0), id(h1))`."""
    branches = [f"{b.op}({b.input})" for b in block.branches]
    if block.combine == "add":
        return f"{block.name} = " + " + ".join(branches)
    return f"{block.name} = {block.combine}(" + ", ".join(branches) + ")"


def format_output(out: ast.Output) -> str:
    states = out.states if out.mode == "list" else (out.mode,)
    return f"out = {out.combine}(" + ", ".join(states) + ")"


def format_value(value: ast.Value) -> str:
    """One setting value in canonical text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, ast.CellsNP):
        return f"{format_number(value.n)} @ {format_number(value.p)}"
    if isinstance(value, tuple):
        return ", ".join(value)
    return str(value)


def format_number(x: float) -> str:
    """Ints as digits; floats as the shortest repr, exponent without '+' or leading zeros."""
    if isinstance(x, int):
        return str(x)
    if not math.isfinite(x) or math.copysign(1.0, x) < 0:
        raise ValueError(f"no .nas text for the number {x!r}")
    text = repr(float(x))
    if "e" in text:
        mant, exp = text.split("e")
        sign = "-" if exp.startswith("-") else ""
        text = f"{mant}e{sign}{exp.lstrip('+-').lstrip('0') or '0'}"
    return text


def _setting_text(s: ast.Setting) -> str:
    head = f"{INDENT}{s.key} = "
    if not isinstance(s.value, tuple) or len(head) + len(format_value(s.value)) <= WIDTH:
        return head + format_value(s.value)
    lines, line = [], head
    for i, name in enumerate(s.value):
        piece = name + ("," if i < len(s.value) - 1 else "")
        if line.strip() and not line.endswith("= ") and len(line) + 1 + len(piece) > WIDTH:
            lines.append(line)
            line = " " * len(head) + piece
        else:
            line += ("" if line.endswith("= ") else " ") + piece
    lines.append(line)
    return "\n".join(lines)


def _ordered(settings: tuple[ast.Setting, ...], schema: dict) -> list[ast.Setting]:
    order = {k: i for i, k in enumerate(schema)}
    return sorted(settings, key=lambda s: order.get(s.key, len(order)))


# ---------------------------------------------------------------- comments

def _with_notes(notes: dict, key: tuple, text: str, indent: str) -> list[str]:
    """`text` (an element's lines) with its comments; `indent` is the comments' indentation."""
    note = notes.get(key)
    if note is None:
        return text.split("\n")
    lines = _comment_lines(note.leading, indent)
    lines += [f"{indent}#{t}" for t in note.trailing[:-1]]  # extra trailing comments go above
    body = text.split("\n")
    if note.trailing:
        body[-1] += f"  #{note.trailing[-1]}"
    return lines + body


def _comment_lines(comments: list[tuple[str, bool]], indent: str) -> list[str]:
    lines = []
    for text, blank_after in comments:
        lines.append(f"{indent}#{text}")
        if blank_after:
            lines.append("")
    return lines


def _anchors(module: ast.Module, braces: list[int]) -> list[tuple[int, tuple]]:
    """(source line, key) of every element a comment can attach to, in source order."""
    closes = _close_brace_lines(module, braces)
    anchors: list[tuple[int, tuple]] = []
    for item in module.items:
        anchors.append((item.pos.line, ("item", id(item))))
        if isinstance(item, ast.Cell):
            anchors += [(b.pos.line, ("node", id(b))) for b in item.blocks]
            anchors.append((item.output.pos.line, ("node", id(item.output))))
        elif isinstance(item, (ast.Network, ast.Space)):
            # settings are stored in schema order; comments follow source order
            anchors += sorted(((s.pos.line, ("node", id(s))) for s in item.settings), key=lambda a: a[0])
        if not isinstance(item, ast.Import):
            anchors.append((closes.get(id(item), item.pos.line), ("close", id(item))))
    return anchors


def _tokens(module: ast.Module) -> list[Token]:
    from .parse import _parser

    return list(_parser().lex(module.source)) if module.source else []


def _close_brace_lines(module: ast.Module, braces: list[int]) -> dict[int, int]:
    """id(item) -> the line of its closing '}' (the first '}' after the item starts)."""
    out, i = {}, 0
    for item in module.items:
        if isinstance(item, ast.Import):
            continue
        while i < len(braces) and braces[i] < item.pos.line:
            i += 1
        if i < len(braces):
            out[id(item)] = braces[i]
            i += 1
    return out


def _attach_comments(module: ast.Module) -> tuple[dict, list[tuple[str, bool]]]:
    """Map each comment to an element; comments after the last element form the tail."""
    if not module.comments:
        return {}, []
    tokens = _tokens(module)
    anchors = _anchors(module, [t.line for t in tokens if t.type == "RBRACE"])
    if any(line <= 0 for line, _ in anchors):  # an AST built by hand: no positions to go by
        return {}, [(c.text, False) for c in module.comments]
    anchors.sort(key=lambda a: a[0])  # stable: same-line anchors keep source order
    code_lines = sorted({t.line for t in tokens} | {c.line for c in module.comments})
    notes: dict = {}
    tail: list[tuple[str, bool]] = []
    for c in module.comments:
        if c.trailing:
            key = _last_at_or_before(anchors, c.line)
            if key is not None:
                notes.setdefault(key, _Notes()).trailing.append(c.text)
                continue
        nxt = _first_after(code_lines, c.line)
        blank_after = nxt is not None and nxt - c.line > 1
        key = _first_anchor_after(anchors, c.line)
        if key is None:
            tail.append((c.text, blank_after))
        else:
            notes.setdefault(key, _Notes()).leading.append((c.text, blank_after))
    return notes, tail


def _last_at_or_before(anchors: list[tuple[int, tuple]], line: int):
    key = None
    for a_line, a_key in anchors:
        if a_line > line:
            break
        key = a_key
    return key


def _first_anchor_after(anchors: list[tuple[int, tuple]], line: int):
    return next((k for a_line, k in anchors if a_line > line), None)


def _first_after(lines: list[int], line: int) -> int | None:
    return next((x for x in lines if x > line), None)
