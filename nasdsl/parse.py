"""Text to AST: the lark LALR parser, a thin Transformer, and syntax errors a person can read."""
from __future__ import annotations

from functools import lru_cache

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import ast
from .errors import NasError, diag_at
from .resources import grammar_path

# Known-bad inputs -> a short label (lark's match_examples). Keep each example minimal.
_SYNTAX_EXAMPLES: dict[str, list[str]] = {
    "missing ')'": ["cell c { b0 = sep3x3(h0 }", "cell c { b0 = sep3x3(h0) + id(h1 }"],
    "missing '('": ["cell c { b0 = sep3x3 h0) }"],
    "a branch is op(state), e.g. sep3x3(h0)": [
        "cell c { b0 = h0 + h1 out = concat(unused) }",
        "cell c { b0 = sep3x3(h0) + h1 out = concat(unused) }",
    ],
    "missing '=' after the name": ["cell c { b0 sep3x3(h0) }", "network n { image 224 }"],
    "a cell ends with `out = concat(...)`": ["cell c { b0 = sep3x3(h0) }"],
    "missing '{'": ["cell c b0 = sep3x3(h0) }", "network n image = 224 }"],
    "expected `cell`, `network`, `space` or `import`": ["foo", "cell c { out = concat(unused) } x"],
    "missing '}'": ["cell c { b0 = sep3x3(h0) out = concat(unused)", "network n { image = 224"],
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
        return ast.Network(str(name), tuple(settings), _pos(self.file, meta))

    def space(self, meta, children):
        name, *settings = children
        return ast.Space(str(name), tuple(settings), _pos(self.file, meta))

    def word(self, meta, children):
        (w,) = children
        return {"true": True, "false": False}.get(str(w), str(w))

    def number(self, meta, children):
        (n,) = children
        s = str(n)
        return int(s) if s.isdigit() else float(s)

    def cells_np(self, meta, children):
        n, p = children
        return ast.CellsNP(_as_int(n), _as_int(p))

    def names(self, meta, children):
        return tuple(str(c) for c in children)


def _as_int(tok: Token) -> int:
    s = str(tok)
    return int(s) if s.isdigit() else int(float(s))  # validation reports non-integers


def parse(text: str, file: str = "<input>") -> ast.Module:
    """Parse .nas text into an AST Module. Raises NasError (with position) on a syntax error."""
    comments: list[ast.Comment] = []
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as e:
        raise NasError(_syntax_diag(e, text, file)) from None
    code_lines = _code_lines(tree)
    for tok in _comment_tokens(text):
        comments.append(ast.Comment(str(tok)[1:].rstrip(), tok.line, tok.line in code_lines))
    items = _ToAst(file).transform(tree)
    return ast.Module(items, file, text, tuple(comments))


def _code_lines(tree) -> set[int]:
    lines: set[int] = set()
    for tok in tree.scan_values(lambda v: isinstance(v, Token)):
        lines.add(tok.line)
    return lines


def _comment_tokens(text: str):
    """Comments found by the lexer (so `#` inside strings is not a comment)."""
    lexer = _parser()
    out = []
    for tok in lexer.lex(text, dont_ignore=True):
        if tok.type == "COMMENT":
            out.append(tok)
    return out


def _syntax_diag(e: UnexpectedInput, text: str, file: str):
    label = None
    try:
        label = e.match_examples(_parser().parse, _SYNTAX_EXAMPLES, use_accepts=True)
    except Exception:  # match_examples re-parses; never let it mask the real error
        label = None
    if isinstance(e, UnexpectedEOF):
        return diag_at(label or "unexpected end of input", text, file, -1, -1)
    if isinstance(e, UnexpectedCharacters):
        ch = text[e.pos_in_stream] if 0 <= e.pos_in_stream < len(text) else ""
        reason = f"unexpected character {ch!r}"
        return diag_at(label or reason, text, file, e.line, e.column)
    if isinstance(e, UnexpectedToken):
        tok = e.token
        if tok.type == "$END":
            return diag_at(label or "unexpected end of input", text, file, -1, -1)
        expected = sorted(_pretty_terminal(t) for t in e.accepts or e.expected)
        reason = label or f"unexpected {tok.value!r}; expected {', '.join(expected[:6])}"
        return diag_at(reason, text, file, tok.line, tok.column)
    return diag_at("syntax error", text, file, getattr(e, "line", -1), getattr(e, "column", -1))


_TERMINAL_NAMES = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "LPAR": "'('", "RPAR": "')'",
    "LBRACE": "'{'", "RBRACE": "'}'", "EQUAL": "'='", "PLUS": "'+'", "COMMA": "','", "COLON": "':'",
    "AT": "'@'", "OUT": "'out'", "CELL": "'cell'", "NETWORK": "'network'", "SPACE": "'space'",
    "IMPORT": "'import'",
}


def _pretty_terminal(name: str) -> str:
    return _TERMINAL_NAMES.get(name, name.lower())
