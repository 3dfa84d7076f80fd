"""Reading user files: bytes in, text out, nothing replaced. UTF-8 with an optional BOM; a file
that is not UTF-8 is an error naming the line and column of the first bad byte (never a silent
U+FFFD); a directory or a missing file is said as such. `-` reads standard input the same way.
Writing them: outputs are checked before any work (never an input, never a read-only place), and a
file rewritten is left as it was when the write fails."""
from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterable
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
        data = re.sub(rb"\r(?!\n)", b"\n", data)  # a lone CR ends a line, as the parser counts them
        line = data.count(b"\n", 0, e.start) + 1
        start = data.rfind(b"\n", 0, e.start) + 1
        end = data.find(b"\n", e.start)
        raw = data[start:end if end >= 0 else len(data)]
        col = len(data[start:e.start].decode("utf-8", errors="replace")) + 1
        shown = raw.decode("utf-8", errors="backslashreplace")
        raise NasError(Diagnostic(f"not UTF-8 text: byte 0x{data[e.start]:02x} cannot be decoded "
                                  "(save the file as UTF-8)", file, line, col, shown)) from None


@functools.cache
def _stdin() -> bytes:
    """Standard input, read once: a command that reads `-` twice (to load it, to find the files it
    imports) gets the same text both times."""
    return sys.stdin.buffer.read()


def read_text(path: str | Path) -> str:
    """A user's file (or `-`: standard input) as text; NasError for a directory, a missing or
    unreadable file, and bytes that are not UTF-8."""
    name = str(path)
    if name == "-":
        return decode(_stdin(), "<stdin>")
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


def is_user_file(target: str | Path) -> bool:
    """Whether `target` names text to read: `-` (standard input), a regular file, or a pipe
    (`/dev/stdin`, a shell's `<(...)`); False, not an exception, for names the OS rejects."""
    if str(target) == "-":
        return True
    try:
        mode = os.stat(target).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(mode) or stat.S_ISFIFO(mode)


def looks_like_path(text: str) -> bool:
    """Whether a command-line argument was meant as a file name rather than inline text."""
    return "\n" not in text and len(text) < 4096 and (os.sep in text or Path(text).suffix != "" or Path(text).exists())


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file: the same path once resolved, or one file reached by a link."""
    try:
        return Path(a).resolve() == Path(b).resolve() or os.path.samefile(a, b)
    except (OSError, ValueError, RuntimeError):  # a missing file, an odd name, a symlink loop
        return False


def within(path: str | Path, folder: str | Path) -> bool:
    """Whether `path` (existing or not) lies inside the existing folder `folder`, links resolved."""
    try:
        return Path(folder).is_dir() and Path(os.path.abspath(path)).resolve().is_relative_to(Path(folder).resolve())
    except (OSError, ValueError, RuntimeError):
        return False


def check_output(path: str | Path, flag: str = "-o", inputs: Iterable[str | Path | None] = (),
                 folders: Iterable[str | Path | None] = ()) -> Path:
    """Refuse an output file that cannot be written, before any expensive work: a directory, a
    missing or read-only folder, a read-only file, one of `inputs` (the files the command reads), or
    a file inside one of `folders` (the folders it reads, such as a data set's). Returns the path."""
    p = Path(path)
    if p.is_dir():
        raise NasError(Diagnostic(f"is a directory; {flag} names the file to write", str(p)))
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise NasError(Diagnostic(f"cannot write here: no such folder {str(parent)!r}", str(p)))
    for given in filter(None, inputs):
        if same_file(p, given):
            named = "" if str(given) == str(path) else f" {str(given)!r}"
            raise NasError(Diagnostic(f"{flag} names the input file{named}; choose another output", str(p)))
    for given in filter(None, folders):
        if within(p, given):
            raise NasError(Diagnostic(f"{flag} lies inside the input folder {str(given)!r}; choose another output",
                                      str(p)))
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise NasError(Diagnostic("cannot write here: permission denied", str(p)))
    return p


def check_folder(path: str | Path, flag: str = "--out") -> Path:
    """Refuse an output folder that cannot be made or written into, before any expensive work: a
    missing or read-only parent, a read-only folder. Returns the path."""
    p = Path(path)
    if not p.is_dir():
        parent = p.parent if str(p.parent) else Path(".")
        if not parent.is_dir():
            raise NasError(Diagnostic(f"cannot make {flag} here: no such folder {str(parent)!r}", str(p)))
        if not os.access(parent, os.W_OK | os.X_OK):
            raise NasError(Diagnostic(f"cannot make {flag} here: permission denied", str(p)))
    elif not os.access(p, os.W_OK | os.X_OK):
        raise NasError(Diagnostic(f"cannot write into {flag}: permission denied", str(p)))
    return p


def refuse_files_of_others(folder: str | Path, names: Iterable[str], flag: str = "--out") -> None:
    """A new run's folder: refuse it when a file the run would write there exists already (a user's
    own best.nas in the folder named: the run would write over it)."""
    there = [n for n in names if (Path(folder) / n).exists()]
    if there:
        raise NasError(f"{flag} {folder} already holds {', '.join(there)}, which a new run writes; "
                       "choose another folder")


def replace_file(path: str | Path, data: bytes) -> None:
    """Write `data` over the file `path` (through a link: over the file it names); a write that fails
    (disk full, a size limit) leaves the file as it was. A file of one name is replaced by a new one
    with its permission bits (atomic); one with other names (hard links) is written where it lies, so
    that every name reads the new text (`_write_in_place`)."""
    target = Path(os.path.realpath(path))
    try:
        if target.stat().st_nlink > 1:
            _write_in_place(target, data)
            return
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as e:
        raise NasError(Diagnostic(f"cannot write: {e.strerror or e}", str(path))) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
        os.replace(tmp, target)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise NasError(Diagnostic(f"cannot write: {e.strerror or e}", str(path))) from None


def _write_in_place(target: Path, data: bytes) -> None:
    """Overwrite `target`'s own bytes with `data`, with Ctrl-C, SIGTERM and SIGHUP held off until it is
    done. The room is taken first where the file system can (fallocate), so a full disk or a size
    limit usually stops it before a byte changes; a write that fails later puts the old bytes back
    (as far as the failure lets it). A kill -9 in the middle of it can still leave the file half written."""
    fd = os.open(target, os.O_RDWR)
    try:
        old = _read_all(fd)
        with _signals_held():
            try:
                if len(data) > len(old):
                    _reserve(fd, len(data))
                _write_all(fd, data)
                os.ftruncate(fd, len(data))
                os.fsync(fd)
            except OSError:
                with contextlib.suppress(OSError):
                    _write_all(fd, old)
                    os.ftruncate(fd, len(old))
                    os.fsync(fd)
                raise
    finally:
        os.close(fd)


def _read_all(fd: int) -> bytes:
    chunks, at = [], 0
    while chunk := os.pread(fd, 1 << 20, at):
        chunks.append(chunk)
        at += len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.pwrite(fd, view, len(data) - len(view)):]


def _reserve(fd: int, size: int) -> None:
    """Take the room for `size` bytes, where the file system can; a file system without fallocate
    (EOPNOTSUPP, EINVAL, ENOSYS; no posix_fallocate on macOS) leaves it to the write."""
    if not hasattr(os, "posix_fallocate"):
        return
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as e:
        if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise


@contextlib.contextmanager
def _signals_held():
    """Ctrl-C, SIGTERM and SIGHUP wait until the block ends (main thread, POSIX; elsewhere nothing)."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
