"""Read the IR's printed text (`graph.print_graph`) back into a graph: golden pass tests and dumps.

The text is one node per line, as printed:
    cell NAME [: KIND]
      %h0 = input 0  # channels=44 hw=28x28
      %b0.0 = op sep5x5(%h0)
      %b0 = combine add(%b0.0, %b0.1)
      %out = output concat(%h1, %b0)
Metadata after `#` is `key=value` words; values read back as int, float, bool, `AxB` (a tuple of
ints) or a string. Positions are not printed, so nodes get an empty position.
"""
from __future__ import annotations

import re

import networkx as nx

from ...errors import NasError
from ...lang.ast import NOPOS
from ..graph import lint

_HEAD = re.compile(r"cell\s+(?P<name>\S+)(\s*:\s*(?P<kind>\w+))?\s*$")
_NODE = re.compile(r"%(?P<name>[\w.]+)\s*=\s*(?P<kind>input|op|combine|output)\s+(?P<rest>.*)$")
_CALL = re.compile(r"(?P<fn>\w+)\((?P<args>[^)]*)\)$")


def parse_graph(text: str, file: str = "<ir>") -> nx.DiGraph:
    """The graph that `print_graph` printed as `text` (linted)."""
    lines = [(i + 1, ln) for i, ln in enumerate(text.splitlines())
             if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines or not (head := _HEAD.match(lines[0][1].strip())):
        raise NasError(f"{file}: IR text must start with 'cell NAME [: KIND]'")
    g = nx.DiGraph(name=head["name"], cell_kind=head["kind"] or "any")
    for lineno, raw in lines[1:]:
        code, _, comment = raw.partition("#")
        m = _NODE.match(code.strip())
        if not m:
            raise NasError(f"{file}:{lineno}: cannot read IR line {raw.strip()!r}")
        name, kind, rest = m["name"], m["kind"], m["rest"].strip()
        meta = _meta(comment, file, lineno)
        if kind == "input":
            g.add_node(name, kind="input", index=int(rest), pos=NOPOS, meta=meta)
            continue
        call = _CALL.match(rest)
        if not call:
            raise NasError(f"{file}:{lineno}: expected NAME(%a, ...) after {kind!r}")
        operands = [a.strip().lstrip("%") for a in call["args"].split(",") if a.strip()]
        if kind == "op":
            block, _, slot = name.rpartition(".")
            g.add_node(name, kind="op", op=call["fn"], block=block, slot=int(slot or 0), pos=NOPOS, meta=meta)
        elif kind == "combine":
            g.add_node(name, kind="combine", combiner=call["fn"], pos=NOPOS, meta=meta)
        else:
            g.add_node(name, kind="output", pos=NOPOS, meta=meta)
        for port, u in enumerate(operands):
            if u not in g:
                raise NasError(f"{file}:{lineno}: %{u} is used before it is defined")
            if g.has_edge(u, name):
                old = g.edges[u, name]["port"]
                g.edges[u, name]["port"] = (*(old if isinstance(old, tuple) else (old,)), port)
            else:
                g.add_edge(u, name, port=port)
    lint(g)
    return g


def _meta(comment: str, file: str, lineno: int) -> dict:
    meta = {}
    for word in comment.split():
        key, eq, value = word.partition("=")
        if not eq:
            raise NasError(f"{file}:{lineno}: metadata must be key=value, got {word!r}")
        meta[key] = _value(value)
    return meta


def _value(s: str):
    if s in ("True", "False"):
        return s == "True"
    if re.fullmatch(r"-?\d+", s):
        return int(s)
    if re.fullmatch(r"\d+(x\d+)+", s):
        return tuple(int(x) for x in s.split("x"))
    try:
        return float(s)
    except ValueError:
        return s
