"""Text to AST: the lark LALR parser, a thin Transformer, and syntax errors a person can read."""
from __future__ import annotations

import math
import re
from functools import lru_cache

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ..errors import NasError, diag_at
from ..resources import grammar_path
from . import ast
from .spec import NETWORK_KEYS, SPACE_KEYS

# Known-bad inputs -> a short label. Keep each example minimal. A parse error gets the label of
# an example that fails in the same LALR state on the same kind of token, else of one that fails
# in the same state (see `_label`).
_SYNTAX_EXAMPLES: dict[str, list[str]] = {
    "missing ')'": ["cell c { b0 = sep3x3(h0 }", "cell c { b0 = sep3x3(h0) + id(h1 }",
                    "cell c { b0 = id(h0) out = concat(b0 }"],
    "missing '('": ["cell c { b0 = sep3x3 h0) }"],
    "an op reads one state, e.g. sep3x3(h0); add branches with '+'": [
        "cell c { b0 = sep3x3(h0, h1) }"],
    "a branch is op(state), e.g. sep3x3(h0)": [
        "cell c { b0 = h0 + h1 out = concat(unused) }",
        "cell c { b0 = sep3x3(h0) + h1 out = concat(unused) }",
        "cell c { b0 = concat(h0, h1) }",
    ],
    "missing '+' between branches (or '=' after a block name)": [
        "cell c { b0 = sep3x3(h0) sep3x3(h1) }"],
    "missing ',' between branches": ["cell c { b0 = concat(id(h0) id(h1)) }"],
    "missing '=' after the name": ["cell c { b0 sep3x3(h0) }", "network n { image 224 }",
                                   "network n { image: 224 }"],
    "missing ',' between names (or '=' after a key)": ["space s { ops = id sep3x3 }",
                                                       "space s { ops = id sep3x3 blocks = 5 }"],
    "a cell ends with `out = concat(...)`": ["cell c { b0 = sep3x3(h0) }", "cell c { }"],
    "the output is `out = concat(...)`": ["cell c { b0 = id(h0) out = unused }",
                                          "cell c { b0 = id(h0) out concat(unused) }"],
    "concat(...) needs at least one state (or `unused`, `blocks`)": [
        "cell c { b0 = id(h0) out = concat() }"],
    "missing '{' (a cell kind goes after ':', e.g. `cell c : normal {`)": [
        "cell c b0 = sep3x3(h0) }", "cell c normal { }"],
    "missing '{'": ["network n image = 224 }", "space s ops = id }"],
    "a cell, network or space needs a name": ["cell { }", "network { }", "space { }", "cell : normal { }"],
    "one value per setting; write `cells = N @ P` with '@'": ["network n { cells = 4 1056 }",
                                                              "network n { image = 224 32 }"],
    "`N @ P` takes two numbers, e.g. `cells = 4 @ 1056`": ["network n { cells = 4 @ x }",
                                                          "network n { cells = 4 @ }"],
    "nothing follows '+'": ["cell c { b0 = sep3x3(h0) + }"],
    "nothing follows ','": ["space s { ops = id, }", "cell c { b0 = concat(id(h0), ) }"],
    "`import` takes a zoo name or a quoted path": ["import", "import 5", "import { }"],
    "expected `cell`, `network`, `space` or `import`": ["foo", "cell c { out = concat(unused) } x",
                                                      "cell c { out = concat(unused) } }"],
    "missing '}'": ["cell c { b0 = sep3x3(h0) out = concat(unused)", "network n { image = 224",
                    "cell c { b0 = id(h0) out = concat(unused) b1 = id(h0) }"],
}

LONE_CR = re.compile(r"\r(?!\n)")

# Unexpected characters that have a common cause.
_CHAR_HINTS = {
    ";": "statements end at the line; no ';' is needed",
    "'": 'paths are quoted with double quotes: import "cells.nas"',
    "-": "names use letters, digits and '_'; numbers are not negative",
    "[": "lists are written without brackets: ops = id, sep3x3",
    "*": "N @ P uses '@', e.g. cells = 4 @ 1056",
}


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(
        grammar_path().read_text(),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
    )


def _pos(file: str, meta_or_token) -> ast.Pos:
    return ast.Pos(file, getattr(meta_or_token, "line", 0) or 0, getattr(meta_or_token, "column", 0) or 0)


@v_args(meta=True)
class _ToAst(Transformer):
    """One method per rule; builds nodes, checks nothing."""

    def __init__(self, file: str):
        super().__init__()
        self.file = file

    def start(self, meta, items):
        return tuple(items)

    def import_path(self, meta, children):
        (s,) = children
        return ast.Import(str(s)[1:-1], True, _pos(self.file, meta))

    def import_name(self, meta, children):
        (n,) = children
        return ast.Import(str(n), False, _pos(self.file, meta))

    def branch(self, meta, children):
        op, inp = children
        return ast.Branch(str(op), str(inp), _pos(self.file, meta))

    def add_block(self, meta, children):
        name, *branches = children
        return ast.Block(str(name), "add", tuple(branches), _pos(self.file, meta))

    def combine_block(self, meta, children):
        name, combiner, *branches = children
        return ast.Block(str(name), str(combiner), tuple(branches), _pos(self.file, meta))

    def output(self, meta, children):
        fn, *states = children
        names = tuple(str(s) for s in states)
        if names in (("unused",), ("blocks",)):
            return ast.Output(names[0], (), str(fn), _pos(self.file, meta))
        return ast.Output("list", names, str(fn), _pos(self.file, meta))

    def cell(self, meta, children):
        name, kind, *rest = children
        *blocks, output = rest
        return ast.Cell(str(name), str(kind) if kind is not None else "any", tuple(blocks), output,
                        _pos(self.file, meta))

    def setting(self, meta, children):
        key, value = children
        return ast.Setting(str(key), value, _pos(self.file, meta))

    def network(self, meta, children):
        name, *settings = children
        return ast.Network(str(name), canonical_settings(settings, NETWORK_KEYS), _pos(self.file, meta))

    def space(self, meta, children):
        name, *settings = children
        return ast.Space(str(name), canonical_settings(settings, SPACE_KEYS), _pos(self.file, meta))

    def word(self, meta, children):
        (w,) = children
        return {"true": True, "false": False}.get(str(w), str(w))

    def number(self, meta, children):
        (n,) = children
        return _number(n)

    def cells_np(self, meta, children):
        n, p = children
        return ast.CellsNP(_number(n), _number(p))  # validation rejects non-integers

    def names(self, meta, children):
        return tuple(str(c) for c in children)


def _number(tok: Token) -> int | float:
    s = str(tok)
    return int(s) if s.isdigit() else float(s)


def canonical_settings(settings, schema: dict) -> tuple[ast.Setting, ...]:
    """Settings in the schema's key order (unknown keys last, in source order; a stable sort keeps
    duplicates in source order). One network has one AST, whatever order its text used."""
    order = {k: i for i, k in enumerate(schema)}
    return tuple(sorted(settings, key=lambda s: order.get(s.key, len(order))))


def parse(text: str, file: str = "<input>") -> ast.Module:
    """Parse .nas text into an AST Module (its `source`: the text with lone CRs read as line ends).
    Raises NasError (with position) on a syntax error."""
    text = line_ends(text)
    comments: list[ast.Comment] = []
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as e:
        raise NasError(_syntax_diag(e, text, file)) from None
    _check_numbers(tree, text, file)
    if "#" in text:  # lex again, keeping comments and braces (the tree drops both)
        tokens = list(_parser().lex(text, dont_ignore=True))
        code_lines = {t.line for t in tokens if t.type not in ("COMMENT", "WS")}
        for tok in tokens:
            if tok.type == "COMMENT":
                comments.append(ast.Comment(str(tok)[1:].rstrip(), tok.line, tok.line in code_lines))
    items = _ToAst(file).transform(tree)
    return ast.Module(items, file, text, tuple(comments))


def line_ends(text: str) -> str:
    r"""`text` with each lone "\r" (an old Mac line end) made "\n", as Python's universal newlines
    read it: lark counts lines by "\n" alone. The length is kept, so every offset stays the same."""
    return LONE_CR.sub("\n", text) if "\r" in text else text


def _check_numbers(tree, text: str, file: str) -> None:
    """Numbers that overflow a float (1e999) cannot be printed back; reject them here."""
    bad = [t for t in tree.scan_values(lambda v: isinstance(v, Token) and v.type == "NUMBER")
           if not math.isfinite(float(t))]
    if bad:
        raise NasError([diag_at(f"number {str(t)!r} is too large", text, file, t.line, t.column)
                        for t in bad])


def _syntax_diag(e: UnexpectedInput, text: str, file: str):
    if isinstance(e, UnexpectedCharacters):
        ch = text[e.pos_in_stream] if 0 <= e.pos_in_stream < len(text) else ""
        return diag_at(f"unexpected character {ch!r}", text, file, e.line, e.column,
                       _CHAR_HINTS.get(ch, ""))
    label = _label(e)
    if isinstance(e, UnexpectedEOF):
        return diag_at(label or "unexpected end of input", text, file, -1, -1)
    if isinstance(e, UnexpectedToken):
        tok = e.token
        if tok.type == "$END":
            return diag_at(label or "unexpected end of input", text, file, -1, -1)
        expected = sorted(_pretty_terminal(t) for t in e.accepts or e.expected)
        reason = f"unexpected {tok.value!r}; expected {', '.join(expected[:6])}"
        return diag_at(label or reason, text, file, tok.line, tok.column, reason if label else "")
    return diag_at("syntax error", text, file, getattr(e, "line", -1), getattr(e, "column", -1))


def _state_of(e: UnexpectedInput):
    state = getattr(e, "state", None)
    return getattr(state, "position", state)


def _token_type(e: UnexpectedInput) -> str:
    tok = getattr(e, "token", None)
    return getattr(tok, "type", "$END")


def _accepts(e: UnexpectedInput) -> frozenset:
    return frozenset(getattr(e, "accepts", None) or getattr(e, "expected", None) or ())


@lru_cache(maxsize=1)
def _label_table() -> list[dict]:
    """Four lookups from `_SYNTAX_EXAMPLES`, tried in order: (LALR state, token type), LALR state,
    (expected tokens, token type), expected tokens. lark's `match_examples` also compares the stack
    depth, so `cell c : normal {` would miss an example written `cell c {`; the expected-token keys
    also cover the same mistake in another alternative of a rule."""
    tables: list[dict] = [{}, {}, {}, {}]
    for label, examples in _SYNTAX_EXAMPLES.items():
        for example in examples:
            try:
                _parser().parse(example)
            except UnexpectedCharacters:
                continue
            except UnexpectedInput as u:
                for table, key in zip(tables, _keys(u)):
                    table.setdefault(key, label)
            else:
                raise AssertionError(f"syntax example parses: {example!r}")
    return tables


def _keys(e: UnexpectedInput) -> tuple:
    state, tok, acc = _state_of(e), _token_type(e), _accepts(e)
    return (state, tok), state, (acc, tok), acc


def _label(e: UnexpectedInput) -> str | None:
    for table, key in zip(_label_table(), _keys(e)):
        if key in table:
            return table[key]
    return None


_TERMINAL_NAMES = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "LPAR": "'('", "RPAR": "')'",
    "LBRACE": "'{'", "RBRACE": "'}'", "EQUAL": "'='", "PLUS": "'+'", "COMMA": "','", "COLON": "':'",
    "AT": "'@'", "OUT": "'out'", "CELL": "'cell'", "NETWORK": "'network'", "SPACE": "'space'",
    "IMPORT": "'import'",
}


def _pretty_terminal(name: str) -> str:
    return _TERMINAL_NAMES.get(name, name.lower())
