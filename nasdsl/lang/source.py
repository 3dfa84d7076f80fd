"""Reading user files: bytes in, text out, nothing replaced. UTF-8 with an optional BOM; a file
that is not UTF-8 is an error naming the line and column of the first bad byte (never a silent
U+FFFD); a directory or a missing file is said as such. `-` reads standard input the same way."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import Diagnostic, NasError

BOM = b"\xef\xbb\xbf"


def decode(data: bytes, file: str) -> str:
    """`data` as text (a leading UTF-8 BOM dropped); NasError at the first byte that is not UTF-8."""
    if data.startswith(BOM):
        data = data[len(BOM):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        start = data.rfind(b"\n", 0, e.start) + 1
        end = data.find(b"\n", e.start)
        raw = data[start:end if end >= 0 else len(data)]
        col = len(data[start:e.start].decode("utf-8", errors="replace")) + 1
        shown = raw.decode("utf-8", errors="backslashreplace")
        raise NasError(Diagnostic(f"not UTF-8 text: byte 0x{data[e.start]:02x} cannot be decoded "
                                  "(save the file as UTF-8)", file, line, col, shown)) from None


def read_text(path: str | Path) -> str:
    """A user's file (or `-`: standard input) as text; NasError for a directory, a missing or
    unreadable file, and bytes that are not UTF-8."""
    name = str(path)
    if name == "-":
        return decode(sys.stdin.buffer.read(), "<stdin>")
    p = Path(path)
    if p.is_dir():
        raise NasError(Diagnostic("is a directory, not a file", name))
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise NasError(Diagnostic("no such file", name)) from None
    except OSError as e:
        raise NasError(Diagnostic(f"cannot read: {e.strerror or e}", name)) from None
    return decode(data, name)


def looks_like_path(text: str) -> bool:
    """Whether a command-line argument was meant as a file name rather than inline text."""
    return "\n" not in text and len(text) < 4096 and (os.sep in text or Path(text).suffix != "" or Path(text).exists())


def check_output(path: str | Path, flag: str = "-o") -> Path:
    """Refuse an output file that cannot be written, before any expensive work: a directory, a
    missing or read-only folder. Returns the path."""
    p = Path(path)
    if p.is_dir():
        raise NasError(Diagnostic(f"is a directory; {flag} names the file to write", str(p)))
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise NasError(Diagnostic(f"cannot write here: the folder {str(parent)!r} does not exist", str(p)))
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise NasError(Diagnostic("cannot write here: permission denied", str(p)))
    return p
