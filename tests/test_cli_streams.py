"""A closed reader silences a command's stream, in-process: the write that meets EPIPE and every
later one go to /dev/null, and the command goes on."""
from __future__ import annotations

import os
import sys

from nasdsl.cli.streams import silenced_when_unread


def test_a_closed_pipe_is_silenced_and_the_streams_come_back(tmp_path):
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line
    saved = sys.stdout
    sys.stdout = os.fdopen(write, "w")
    try:
        with silenced_when_unread():
            for i in range(10_000):  # more than a pipe's buffer: EPIPE on the first flush
                print(f"line {i}", flush=i % 100 == 0)
            sys.stdout.flush()
            assert os.path.samefile(f"/proc/self/fd/{write}", os.devnull)
        assert sys.stdout.fileno() == write  # the stream itself again after the command
    finally:
        sys.stdout.close()
        sys.stdout = saved


def test_the_top_level_help_to_a_reader_gone_is_no_traceback():
    """`nasdsl --help | head -0`: the top-level help and version ran outside the silencing."""
    import subprocess

    from proc_helpers import child_env

    for flag in ("--help", "--version"):
        p = subprocess.Popen([sys.executable, "-m", "nasdsl.cli.dispatch", flag], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=child_env(None))
        p.stdout.close()  # the reader is gone before the child writes
        err = p.stderr.read().decode()
        assert p.wait(timeout=60) == 0 and err == "", (flag, err)
