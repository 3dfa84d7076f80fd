"""The AST: frozen dataclasses built by the parser. Positions never take part in equality."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Pos:
    file: str = "<input>"
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


NOPOS = Pos()


def _pos() -> Pos:
    return field(default=NOPOS, compare=False, repr=False)


@dataclass(frozen=True)
class Branch:
    """`op(input)`: one op applied to an earlier state."""

    op: str
    input: str
    pos: Pos = _pos()


@dataclass(frozen=True)
class Block:
    """`name = a(x) + b(y)` or `name = combiner(a(x), b(y), ...)`."""

    name: str
    combine: str  # "add", "concat", or another registered combiner
    branches: tuple[Branch, ...]
    pos: Pos = _pos()


@dataclass(frozen=True)
class Output:
    """`out = concat(...)`: `unused` (NASNet rule), `blocks` (every block) or an explicit list."""

    mode: str  # "unused" | "blocks" | "list"
    states: tuple[str, ...] = ()
    combine: str = "concat"  # the only output combiner today; validation rejects others
    pos: Pos = _pos()


@dataclass(frozen=True)
class Cell:
    name: str
    kind: str  # "normal" | "reduction" | "any"
    blocks: tuple[Block, ...]
    output: Output
    pos: Pos = _pos()


@dataclass(frozen=True)
class CellsNP:
    """`N @ P`: N cells per stage, P filters in the penultimate layer."""

    n: int
    p: int


Value = str | int | float | bool | CellsNP | tuple[str, ...]


@dataclass(frozen=True)
class Setting:
    key: str
    value: Value
    pos: Pos = _pos()


@dataclass(frozen=True)
class SettingsBlock:
    """A named block of `key = value` settings (a network or a space)."""

    name: str
    settings: tuple[Setting, ...]
    pos: Pos = _pos()

    def get(self, key: str, default: Value | None = None) -> Value | None:
        for s in self.settings:
            if s.key == key:
                return s.value
        return default


@dataclass(frozen=True)
class Network(SettingsBlock):
    pass


@dataclass(frozen=True)
class Space(SettingsBlock):
    pass


@dataclass(frozen=True)
class Import:
    target: str  # a file path (is_path) or a zoo name
    is_path: bool
    pos: Pos = _pos()


@dataclass(frozen=True)
class Comment:
    """A `#` comment, kept so the formatter can print it back."""

    text: str  # without the leading '#', right-stripped
    line: int
    trailing: bool  # on the same line as code


Item = Import | Cell | Network | Space


@dataclass(frozen=True)
class Module:
    """One parsed .nas file: its items in source order."""

    items: tuple[Item, ...]
    file: str = field(default="<input>", compare=False)
    source: str = field(default="", compare=False, repr=False)
    comments: tuple[Comment, ...] = field(default=(), compare=False, repr=False)

    @property
    def cells(self) -> dict[str, Cell]:
        return {i.name: i for i in self.items if isinstance(i, Cell)}

    @property
    def networks(self) -> dict[str, Network]:
        return {i.name: i for i in self.items if isinstance(i, Network)}

    @property
    def spaces(self) -> dict[str, Space]:
        return {i.name: i for i in self.items if isinstance(i, Space)}

    @property
    def imports(self) -> tuple[Import, ...]:
        return tuple(i for i in self.items if isinstance(i, Import))
