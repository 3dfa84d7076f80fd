"""The one rule of the `nasdsl` command, through the real CLI (subprocesses): a user mistake is one
located message and exit 2, anything else one line and exit 3, `--debug` adds the traceback; and
every case of issue 14 that used to print a traceback, hang or lose bytes."""
from __future__ import annotations

import subprocess
import sys

import pytest
from proc_helpers import ROOT, run_cli

import nasdsl
from nasdsl.resources import zoo_dir

NASNET = (zoo_dir() / "nasnet.nas").read_text()


def _user_error(r: subprocess.CompletedProcess, *needles: str) -> str:
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and not r.stderr.startswith("<input>")
    for n in needles:
        assert n in r.stderr, (n, r.stderr)
    return r.stderr


def _nas(tmp_path, old: str, new: str) -> str:
    assert old in NASNET
    p = tmp_path / "t.nas"
    p.write_text(NASNET.replace(old, new, 1))
    return str(p)


def test_version():
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"nasdsl {nasdsl.__version__}"


def test_internal_error_is_one_line_exit_3_and_debug_shows_the_traceback():
    code = ("import sys, nasdsl.cli.dispatch as c; c.COMMANDS['boom'] = ('no_such_module_xyz', 'x'); "
            "sys.exit(c.main(sys.argv[1:]))")
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-c", code, "boom"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 3
    assert r.stderr.strip().splitlines() == [
        "nasdsl boom: internal error: ModuleNotFoundError: No module named 'no_such_module_xyz' "
        "(rerun with --debug for the traceback)"]
    r = subprocess.run([sys.executable, "-c", code, "boom", "--debug"], capture_output=True, text=True, env=env,
                       timeout=60)
    assert r.returncode == 3 and "Traceback (most recent call last)" in r.stderr


def test_debug_shows_the_traceback_of_a_user_error_too(tmp_path):
    r = run_cli("check", str(tmp_path / "missing.nas"), "--debug")
    assert r.returncode == 2  # check reports per file; a command that raises shows the traceback:
    r = run_cli("convert-weights", "--from", "timm", "--network", "nasnet_a_cifar", "-o", str(tmp_path),
                "x.pth", "--debug")
    assert r.returncode == 2 and "Traceback (most recent call last)" in r.stderr and "NasError" in r.stderr


@pytest.mark.parametrize("old, new, needle", [
    ("cells = 6 @ 768", "cells = 99999 @ 8", "N 99999 is out of range; expected [1, 32]"),
    ("cells = 6 @ 768", "cells = 2 @ 768000000", "more than 512"),
    ("cells = 6 @ 768", "cells = 32 @ 12288", "too large to build"),
    ("image = 32", "image = 100000000000000000000000000", "out of range"),
    ("image = 32", "image = 1e26", "expected a positive integer"),
    ("classes = 10", "classes = 10000000", "classes: value 10000000 is out of range"),
    ("drop_path_keep = 0.6", "drop_path_keep = 5", "drop_path_keep: value 5 is out of range; expected (0, 1]"),
    ("dropout_keep = 0.5", "dropout_keep = 0", "expected (0, 1]"),
    ("blocks = 5", "blocks = 100000", "blocks: value 100000 is out of range"),
    ("inputs = 2", "inputs = 1000", "inputs: value 1000 is out of range"),
])
def test_bounds_are_checked_by_check_with_a_location(tmp_path, old, new, needle):
    f = _nas(tmp_path, old, new)
    line = NASNET[:NASNET.index(old)].count("\n") + 1
    _user_error(run_cli("check", f), needle, f"{f}:{line}:")


def test_huge_network_is_refused_before_export(tmp_path):
    f = _nas(tmp_path, "cells = 6 @ 768", "cells = 2 @ 768000000")
    _user_error(run_cli("export", f, "--network", "nasnet_a_cifar", "-o", str(tmp_path / "x.onnx")), "more than 512")


@pytest.mark.parametrize("argv, needle", [
    (["export", "nasnet_a_cifar", "--image", "0", "-o", "x.onnx"], "--image must be at least 1, got 0"),
    (["search", "--threads", "0"], "--threads must be at least 1, got 0"),
    (["search", "--lr", "nan"], "--lr must be a finite number"),
    (["search", "--trials", "-3"], "--trials must be at least 1"),
])
def test_flag_bounds(tmp_path, argv, needle):
    _user_error(run_cli(*argv, cwd=tmp_path), needle)


def test_outputs_checked_before_work(tmp_path):
    d = tmp_path / "adir"
    d.mkdir()
    _user_error(run_cli("export", "nasnet_a_cifar", "-o", str(d)), "is a directory")
    _user_error(run_cli("export", "nasnet_a_cifar", "--opset", "99", "-o", str(tmp_path / "x.onnx")),
                "opset 99 is newer")
    _user_error(run_cli("convert-weights", "--from", "timm", "--network", "nasnet_a_cifar", "-o",
                        str(tmp_path / "no" / "o.pt"), "x.pth"), "does not exist")


def test_convert_deep_nesting_and_missing_file(tmp_path):
    deep = tmp_path / "deep.txt"
    deep.write_text("[" * 5000 + "]" * 5000)
    err = _user_error(run_cli("convert", str(deep)), "nested more than 64 levels")
    assert max(len(line) for line in err.splitlines()) < 200  # the excerpt is cut around the caret
    _user_error(run_cli("convert", "missing.txt", cwd=tmp_path), "missing.txt: error: no such file")
    _user_error(run_cli("convert", str(tmp_path)), "is a directory")


def test_convert_weights_wrong_source_directory_and_garbage(tmp_path):
    import torch

    ours = tmp_path / "ours.pth"
    torch.save(nasdsl.compile("nasnet_a_cifar").state_dict(), ours)
    out = str(tmp_path / "o.pt")
    _user_error(run_cli("convert-weights", "--from", "nni", "--network", "nasnet_a_mobile", "-o", out, str(ours)),
                "check --from")
    _user_error(run_cli("convert-weights", "--from", "cadene", "--network", "nasnet_a_mobile", "-o", out,
                        str(tmp_path)), "is a directory")
    garbage = tmp_path / "g.pth"
    for content in (b"hello\n" * 50, b"not an onnx", bytes(range(256))):
        garbage.write_bytes(content)
        err = _user_error(run_cli("convert-weights", "--from", "cadene", "--network", "nasnet_a_mobile", "-o",
                                  out, str(garbage)), "not a PyTorch state_dict")
        assert len(err.strip().splitlines()) == 1, err  # not torch.load's page of advice


def test_viz_of_a_500_block_cell(tmp_path):
    lines = ["cell wide : normal {"] + [f"    b{i} = sep3x3(h0) + id(h1)" for i in range(500)]
    f = tmp_path / "wide.nas"
    f.write_text("\n".join(lines + ["    out = concat(unused)", "}"]) + "\n")
    assert run_cli("check", str(f)).returncode == 0
    r = run_cli("viz", str(f), "-o", str(tmp_path / "w.svg"), timeout=120)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "w.svg").stat().st_size > 100_000
    _user_error(run_cli("viz", str(f), "-o", str(tmp_path / "w.png"), timeout=120), "too large for a PNG")


def test_bytes_in_bytes_out(tmp_path):
    bom = tmp_path / "bom.nas"
    text = "cell c : normal {\n    b0 = id(h0) + id(h1)\n    out = concat(b0)\n}\n"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert run_cli("check", str(bom)).returncode == 0
    messy = tmp_path / "messy.nas"
    messy.write_bytes(b"\xef\xbb\xbf" + text.replace("    b0 =", "  b0  =").encode())
    assert run_cli("fmt", "--write", str(messy)).returncode == 0
    assert messy.read_bytes() == b"\xef\xbb\xbf" + text.encode()  # reformatted, the BOM kept

    latin = tmp_path / "latin.nas"
    raw = text.replace("{\n", "{\n    # caf\xe9\n", 1).encode("latin-1")
    latin.write_bytes(raw)
    _user_error(run_cli("check", str(latin)), f"{latin}:2:10: error: not UTF-8 text: byte 0xe9")
    _user_error(run_cli("fmt", "--write", str(latin)), "not UTF-8")
    assert latin.read_bytes() == raw  # never rewritten with U+FFFD

    r = run_cli("check", "-", input=text)
    assert r.returncode == 0 and "ok" in r.stdout
    r = run_cli("fmt", "-", input=text.replace("    b0 =", "  b0  ="))
    assert r.returncode == 0 and r.stdout == text
    _user_error(run_cli("check", "-", input="cell c : normal {\n"), "<stdin>:")

    _user_error(run_cli("check", str(tmp_path)), "is a directory, not a file")
    _user_error(run_cli("fmt", str(tmp_path)), "is a directory, not a file")


def test_errors_without_input_text_name_the_command(tmp_path):
    err = _user_error(run_cli("report", str(tmp_path / "nope"), "--no-html"))
    assert err.startswith("nasdsl report: error:") or err.startswith(str(tmp_path)), err
