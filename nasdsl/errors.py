"""The one user-facing error type: file:line:col, the source line with a caret, a short reason."""
from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass

NO_FILE = "<input>"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a source text."""

    message: str
    file: str = "<input>"  # NO_FILE: a message about no input text
    line: int = 0  # 1-based; 0 = no position
    col: int = 0  # 1-based
    source_line: str = ""
    hint: str = ""

    def render(self, prog: str | None = None) -> str:
        """The message; one with neither input text nor position is headed by `prog` (the command)
        or plain `error:`, never by a made-up file name."""
        if self.line <= 0:
            where = self.file if self.file != NO_FILE else prog
            head = f"{where}: error: {self.message}" if where else f"error: {self.message}"
            return head + (f"\n  {self.hint}" if self.hint else "")
        head = f"{self.file}:{self.line}:{self.col}: error: {self.message}"
        text, col = _window(_printable(self.source_line), max(self.col, 1))
        caret = " " * (col - 1) + "^"
        out = f"{head}\n    {text}\n    {caret}"
        return out + (f"\n  {self.hint}" if self.hint else "")


class NasError(Exception):
    """Bad user input. Carries one or more diagnostics; `str()` renders them all."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic | str):
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(diagnostics)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        super().__init__(self.render())

    def render(self, prog: str | None = None) -> str:
        return "\n".join(d.render(prog) for d in self.diagnostics)


def fail(where: object, message: str) -> NasError:
    """A one-line user error about `where` (a file, or "nasdsl"), rendered `where: error: message`."""
    return NasError(Diagnostic(message, file=str(where)))


def print_error(e: NasError, debug: bool = False, prog: str | None = None) -> None:
    """A user mistake on stderr: its located message, after its traceback where `--debug` asks."""
    if debug:
        traceback.print_exception(e)
    print(e.render(prog), file=sys.stderr)


def diag_at(message: str, text: str, file: str, line: int, col: int, hint: str = "") -> Diagnostic:
    """A diagnostic pointing into `text` (line and col are 1-based)."""
    lines = source_lines(text)
    if line < 1 or line > len(lines):  # end of input: point just past the last non-blank line
        line = max((i + 1 for i, s in enumerate(lines) if s.strip()), default=1)
        col = len(lines[line - 1].rstrip()) + 1
    return Diagnostic(message, file, line, col, lines[line - 1], hint)


def source_lines(text: str) -> list[str]:
    r"""`text`'s lines as the parser counts them: ended by "\n" alone (a CRLF line's "\r" dropped);
    not `str.splitlines`, which also breaks at \f, \v, \x1c-\x1e, \x85 and U+2028/2029."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def _printable(line: str) -> str:
    """Tabs to spaces (keeps the caret aligned), control characters escaped."""
    out = []
    for ch in line.replace("\t", " "):
        out.append(ch if ch.isprintable() else repr(ch)[1:-1])
    return "".join(out)


WIDTH = 120  # longest source excerpt shown under a message


def _window(text: str, col: int) -> tuple[str, int]:
    """A long source line cut to WIDTH characters around `col` (marked with ...); the new col."""
    if len(text) <= WIDTH:
        return text, col
    start = max(0, min(col - 1 - WIDTH // 2, len(text) - WIDTH))
    cut = text[start:start + WIDTH]
    if start > 0:
        cut, col = "..." + cut[3:], col - start
    if start + WIDTH < len(text):
        cut = cut[:-3] + "..."
    return cut, col
