"""Runs random command lines through `nasdsl.cli.dispatch.main` in one process (argv: SEED CASES TMPDIR
SECONDS) and prints one JSON line per case: {"argv", "rc" (or "timeout"), "traceback": bool}.
Each call is bounded by SIGALRM, which raises an exception the CLI does not catch."""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import signal
import sys
from pathlib import Path

from nasdsl.cli import dispatch as cli


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def _actions(name: str) -> list[argparse.Action]:
    import importlib

    module = importlib.import_module(cli.COMMANDS[name][0])
    parser = argparse.ArgumentParser()
    module.configure(parser)
    return [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]


def _value(rng: random.Random, action: argparse.Action, pool: list[str], outs: list[str]) -> str:
    if action.choices:
        return rng.choice([*map(str, action.choices), "bogus"])
    if action.type is int:
        return rng.choice(["0", "1", "2", "3", "-1", "17", "1000000000000", "x", ""])
    if action.type is float:
        return rng.choice(["0", "0.5", "1", "-1", "nan", "inf", "1e309", "x"])
    if any(s in ("-o", "--out", "--output") for s in action.option_strings) or action.dest in ("output", "out"):
        return rng.choice(outs)
    return rng.choice(pool)


def case(rng: random.Random, name: str, pool: list[str], outs: list[str]) -> list[str]:
    argv = [name]
    for a in _actions(name):
        required = a.required or not a.option_strings
        if not required and rng.random() < 0.6:
            continue
        if not a.option_strings:  # positional
            n = 1 if a.nargs in (None, 1) else rng.randint(1, 3)
            argv += [_value(rng, a, pool, outs) for _ in range(n)]
        elif a.nargs == 0:
            argv.append(a.option_strings[0])
        else:
            argv += [rng.choice(a.option_strings), _value(rng, a, pool, outs)]
    if name == "search":  # keep most runs short: no training unless the fuzz asks for it
        argv += ["--trials", str(rng.randint(1, 3))] if "--trials" not in argv else []
    return argv


def _bad_data(tmp: Path) -> None:
    """Files that look like data or models by name only: a bare array saved as .npz, a cut archive,
    random bytes as .onnx."""
    import numpy as np

    with open(tmp / "one.npz", "wb") as f:
        np.save(f, np.zeros((4, 8, 8, 3), np.uint8))
    np.savez(tmp / "cut.npz", x=np.zeros((4, 8, 8, 3), np.uint8), y=np.zeros(4, np.int64))
    (tmp / "cut.npz").write_bytes((tmp / "cut.npz").read_bytes()[:100])
    (tmp / "junk.onnx").write_bytes(bytes(range(256)) * 4)


def main() -> None:
    seed, cases, tmp, seconds = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(seed)
    (tmp / "adir").mkdir(exist_ok=True)
    (tmp / "ok.nas").write_text("cell c : normal {\n    b0 = id(h0) + sep3x3(h1)\n    out = concat(b0)\n}\n")
    (tmp / "latin.nas").write_bytes(b"# caf\xe9\ncell c : normal {\n}\n")
    (tmp / "empty.nas").write_text("")
    (tmp / "junk.pth").write_bytes(bytes(range(256)) * 4)
    _bad_data(tmp)
    pool = ["nasnet_a_cifar", "enas", "darts_v2_normal", "nasnet", "nasnet_a_normal", str(tmp / "ok.nas"),
            str(tmp / "latin.nas"), str(tmp / "empty.nas"), str(tmp / "adir"), str(tmp / "missing.nas"),
            str(tmp / "junk.pth"), "[[(", "", "é", "digits", "x:y", "-",
            # data sets and models that exist but are not what they claim to be
            f"npz:{tmp / 'junk.pth'}", f"npz:{tmp / 'one.npz'}", f"npz:{tmp / 'cut.npz'}", f"imagefolder:{tmp / 'adir'}",
            f"cifar10:{tmp / 'adir'}", f"cifar100:{tmp / 'junk.pth'}", str(tmp / "junk.onnx"), str(tmp / "cut.npz")]
    outs = [str(tmp / "out" / f"o{rng.randint(0, 9)}.onnx"), str(tmp / "adir"), str(tmp / "nodir" / "x" / "y.svg"),
            str(tmp / "f.svg"), str(tmp / "f.png"), str(tmp / "w.pt"), str(tmp / "run")]
    (tmp / "out").mkdir(exist_ok=True)
    signal.signal(signal.SIGALRM, _alarm)
    names = list(cli.COMMANDS)
    for i in range(cases):
        name = names[i % len(names)]
        argv = case(rng, name, pool, outs)
        out, err = io.StringIO(), io.StringIO()
        signal.alarm(seconds)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                rc = cli.main(argv)
        except _Timeout:
            rc = "timeout"
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else 2
        finally:
            signal.alarm(0)
        text = err.getvalue()
        print(json.dumps({"argv": argv, "rc": rc, "traceback": "Traceback" in text,
                          "stderr": text[-600:]}), flush=True)


if __name__ == "__main__":
    main()
