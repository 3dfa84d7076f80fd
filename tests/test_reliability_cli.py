"""The one rule of the `nasdsl` command, through the real CLI (subprocesses): a user mistake is one
located message and exit 2, anything else one line and exit 3, `--debug` adds the traceback; and
every case of issue 14 that used to print a traceback, hang or lose bytes; and no output ever
replaces an input."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time

import pytest
from proc_helpers import ROOT, child_env, run_cli, user_error

import nasdsl
from nasdsl.resources import zoo_dir

NASNET = (zoo_dir() / "nasnet.nas").read_text()


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
    bad = tmp_path / "bad.nas"
    bad.write_text("cell c {\n  b1 = sep3x4(h0) + sep3x3(h1)\n}\n")
    for argv in (["check", str(tmp_path / "missing.nas")], ["check", str(bad)], ["fmt", str(bad)]):
        r = run_cli(*argv)  # the commands that report file by file, without and with --debug
        user_error(r)
        r = run_cli(*argv, "--debug")
        assert r.returncode == 2 and "Traceback (most recent call last)" in r.stderr and "NasError" in r.stderr
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
    user_error(run_cli("check", f), needle, f"{f}:{line}:")


def test_huge_network_is_refused_before_export(tmp_path):
    f = _nas(tmp_path, "cells = 6 @ 768", "cells = 2 @ 768000000")
    user_error(run_cli("export", f, "--network", "nasnet_a_cifar", "-o", str(tmp_path / "x.onnx")), "more than 512")


@pytest.mark.parametrize("argv, needle", [
    (["export", "nasnet_a_cifar", "--image", "0", "-o", "x.onnx"], "--image must be at least 1, got 0"),
    (["search", "--threads", "0"], "--threads must be at least 1, got 0"),
    (["search", "--lr", "nan"], "--lr must be a finite number"),
    (["search", "--trials", "-3"], "--trials must be at least 1"),
    # flags that would be ignored, and names of the wrong kind
    (["compile", "nasnet_a_mobile", "--cells", "3", "-o", "x.py"], "--cells: only for --supernet"),
    (["compile", "nasnet", "--supernet", "--network", "n", "-o", "x.py"], "--network: not for --supernet"),
    (["convert", "--name", "bad name!", "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1)], "
      "normal_concat=[2], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=[2])"],
     "--name 'bad name!' is not a .nas name"),
    (["train", "nasnet", "--epochs", "1", "-o", "w.pt"], "nasdsl train needs a network, and 'nasnet' is a space"),
])
def test_flag_bounds(tmp_path, argv, needle):
    user_error(run_cli(*argv, cwd=tmp_path), needle)


@pytest.mark.parametrize("argv, needle", [
    (["fmt", ""], "nasdsl fmt: error: FILE|NAME: an empty argument"),  # it was ".: error: is a directory"
    (["check", "nasnet", ""], "FILE|NAME: an empty argument"),
    (["compile", "nasnet_a_mobile", "-o", ""], "-o/--output: an empty argument"),
    (["report", ""], "nasdsl report: error: DIR: an empty argument"),
    (["search", "--reward", "synthetic", "--out", ""], "--out: an empty argument"),
])
def test_an_empty_argument_is_refused_by_name(tmp_path, monkeypatch, capsys, argv, needle):
    from nasdsl.cli.dispatch import main

    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1, err
    assert not list(tmp_path.iterdir())


def test_an_empty_pass_list_still_means_no_passes(capsys):
    from nasdsl.cli.dispatch import main

    assert main(["ir", "nasnet_a_normal", "--passes", ""]) == 0
    assert capsys.readouterr().out


def test_outputs_checked_before_work(tmp_path):
    d = tmp_path / "adir"
    d.mkdir()
    user_error(run_cli("export", "nasnet_a_cifar", "-o", str(d)), "is a directory")
    user_error(run_cli("export", "nasnet_a_cifar", "--opset", "99", "-o", str(tmp_path / "x.onnx")),
                "opset 99 is newer")
    user_error(run_cli("convert-weights", "--from", "timm", "--network", "nasnet_a_cifar", "-o",
                        str(tmp_path / "no" / "o.pt"), "x.pth"), "no such folder")


def test_convert_deep_nesting_and_missing_file(tmp_path):
    deep = tmp_path / "deep.txt"
    deep.write_text("[" * 5000 + "]" * 5000)
    err = user_error(run_cli("convert", str(deep)), "nested more than 64 levels")
    assert max(len(line) for line in err.splitlines()) < 200  # the excerpt is cut around the caret
    user_error(run_cli("convert", "missing.txt", cwd=tmp_path), "missing.txt: error: no such file")
    user_error(run_cli("convert", str(tmp_path)), "is a directory")


def test_convert_weights_wrong_source_directory_and_garbage(tmp_path):
    import torch

    ours = tmp_path / "ours.pth"
    torch.save(nasdsl.compile("nasnet_a_cifar").state_dict(), ours)
    out = str(tmp_path / "o.pt")
    user_error(run_cli("convert-weights", "--from", "nni", "--network", "nasnet_a_mobile", "-o", out, str(ours)),
                "check --from")
    user_error(run_cli("convert-weights", "--from", "cadene", "--network", "nasnet_a_mobile", "-o", out,
                        str(tmp_path)), "is a directory")
    garbage = tmp_path / "g.pth"
    truncated = ours.read_bytes()[:5000]  # torch.load raised OSError (exit 3)
    for content in (b"hello\n" * 50, b"not an onnx", bytes(range(256)), truncated):
        garbage.write_bytes(content)
        err = user_error(run_cli("convert-weights", "--from", "cadene", "--network", "nasnet_a_mobile", "-o",
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
    user_error(run_cli("viz", str(f), "-o", str(tmp_path / "w.png"), timeout=120), "too large for a PNG")


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
    user_error(run_cli("check", str(latin)), f"{latin}:2:10: error: not UTF-8 text: byte 0xe9")
    user_error(run_cli("fmt", "--write", str(latin)), "not UTF-8")
    assert latin.read_bytes() == raw  # never rewritten with U+FFFD
    old_mac = tmp_path / "old_mac.nas"  # lines ended by a lone CR: the byte was said to be on line 1
    old_mac.write_bytes(raw.replace(b"\n", b"\r"))
    user_error(run_cli("check", str(old_mac)), f"{old_mac}:2:10: error: not UTF-8 text: byte 0xe9", "    # caf\\xe9\n")

    r = run_cli("check", "-", input=text)
    assert r.returncode == 0 and "ok" in r.stdout
    r = run_cli("fmt", "-", input=text.replace("    b0 =", "  b0  ="))
    assert r.returncode == 0 and r.stdout == text
    user_error(run_cli("check", "-", input="cell c : normal {\n"), "<stdin>:")

    user_error(run_cli("check", str(tmp_path)), "is a directory, not a file")
    user_error(run_cli("fmt", str(tmp_path)), "is a directory, not a file")


def test_errors_without_input_text_name_the_command(tmp_path):
    err = user_error(run_cli("report", str(tmp_path / "nope"), "--no-html"))
    assert err.startswith("nasdsl report: error:") or err.startswith(str(tmp_path)), err


# -- an output never replaces an input ---------------------------------------------------------------
CELL = "cell c : normal {\n    b0 = id(h0) + id(h1)\n    out = concat(b0)\n}\n"
FIT = ["--epochs", "1", "--train-size", "200", "--val-size", "100"]


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(tmp_path, files: dict[str, str | bytes]) -> dict:
    """Write `files` (name -> text or bytes) under tmp_path; their sha256 by path."""
    for name, content in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return {tmp_path / name: _sha(tmp_path / name) for name in files}


def _refused_and_kept(r: subprocess.CompletedProcess, kept: dict, *needles: str) -> None:
    """Exit 2 with one line naming the problem, and every file of `kept` as it was."""
    err = user_error(r, *needles)
    assert len(err.strip().splitlines()) == 1, err
    assert {p: _sha(p) for p in kept} == kept


@pytest.mark.parametrize("files, argv", [
    ({"cell.svg": CELL}, ["viz", "cell.svg", "-o", "cell.svg"]),
    ({"net.png": NASNET}, ["stats", "net.png", "--plot", "net.png"]),
    ({"cells.py": CELL}, ["compile", "cells.py", "-o", "cells.py"]),
    ({"net.onnx": NASNET}, ["export", "net.onnx", "-o", "net.onnx"]),
    ({"good.nas": NASNET, "w3.pt": b"weights"}, ["export", "good.nas", "--weights", "w3.pt", "-o", "w3.pt"]),
    ({"good.nas": NASNET, "labels.txt": "a\nb\n"}, ["export", "good.nas", "--labels", "labels.txt", "-o",
                                                     "labels.txt"]),
    ({"good.nas": NASNET, "d.npz": b"npz"}, ["export", "good.nas", "--quantize", "int8", "--calibrate", "npz:d.npz",
                                             "-o", "d.npz"]),
    ({"g6.nas": NASNET}, ["train", "g6.nas", *FIT, "-o", "g6.nas"]),
    ({"src.pth": b"weights"}, ["convert-weights", "--from", "timm", "src.pth", "--network", "nasnet_a_cifar",
                               "-o", "src.pth"]),
    ({"src.pth": b"w", "net.pt": NASNET}, ["convert-weights", "--from", "timm", "src.pth", "--network", "net.pt",
                                          "-o", "net.pt"]),
    ({"lib.svg": CELL, "main.nas": 'import "lib.svg"\n'}, ["viz", "main.nas", "-o", "lib.svg"]),  # an imported file
    ({"cells.py": CELL, "sub/k": "k"}, ["compile", "cells.py", "-o", "sub/../cells.py"]),
])
def test_an_output_that_names_an_input_is_refused(tmp_path, files, argv):
    kept = _files(tmp_path, files)
    _refused_and_kept(run_cli(*argv, cwd=tmp_path), kept, "names the input file", "choose another output")


def test_an_output_linked_to_an_input_is_refused(tmp_path):
    kept = _files(tmp_path, {"good.nas": NASNET})
    (tmp_path / "soft.onnx").symlink_to("good.nas")
    (tmp_path / "hard.svg").hardlink_to(tmp_path / "good.nas")
    _refused_and_kept(run_cli("export", "good.nas", "-o", "soft.onnx", cwd=tmp_path), kept, "names the input file")
    _refused_and_kept(run_cli("viz", "good.nas", "-o", "hard.svg", cwd=tmp_path), kept, "names the input file")


@pytest.mark.parametrize("files, argv", [
    ({"good.nas": NASNET}, ["train", "good.nas", *FIT, "--out", "to2", "-o", "to2/checkpoint.pt"]),
    ({"good.nas": NASNET}, ["train", "good.nas", *FIT, "--out", "to2", "-o", "to2/./log.jsonl"]),
    ({"good.nas": NASNET}, ["train", "good.nas", *FIT, "--out", "to2", "-o", "to2/driver.lock"]),  # the held lock
    ({"to2/checkpoint.pt": b"a run"}, ["train", "--resume", "--out", "to2", "-o", "to2/checkpoint.pt"]),
    ({"to2/checkpoint.pt": b"a run", "to2/best.pt": b"best"}, ["train", "--resume", "--out", "to2", "-o",
                                                               "to2/best.pt"]),
])
def test_train_refuses_weights_over_a_file_of_its_run_folder(tmp_path, files, argv):
    kept = _files(tmp_path, files)
    _refused_and_kept(run_cli(*argv, cwd=tmp_path), kept, "which --out writes itself", "choose another output")
    assert not (tmp_path / "to2").exists() or "--resume" in argv  # nothing made


def _unprivileged(*args: str, cwd, **kw) -> subprocess.CompletedProcess:
    """The CLI bound by file permissions: as root, with every capability dropped (setpriv), so that
    a chmod binds it as it binds a user."""
    prefix = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: a read-only folder does not stop root")
        prefix = ["setpriv", "--inh-caps=-all", "--bounding-set=-all"]
    r = subprocess.run([*prefix, sys.executable, "-m", "nasdsl.cli.dispatch", *args], cwd=cwd, env=child_env(),
                       capture_output=True, text=True, timeout=120, **kw)
    if r.stderr.startswith("setpriv:"):
        pytest.skip(f"cannot drop capabilities here: {r.stderr.strip()}")
    return r


@pytest.fixture
def read_only(tmp_path):
    """tmp_path/ro (a folder with x.nas to reformat and good.nas) and tmp_path/rw/x.nas, both made
    read-only for the test (the permissions given back after it)."""
    kept = _files(tmp_path, {"ro/x.nas": CELL.replace("    b0 =", "  b0  ="), "ro/good.nas": NASNET,
                             "rw/x.nas": CELL.replace("    b0 =", "  b0  =")})
    (tmp_path / "rw" / "x.nas").chmod(0o444)
    (tmp_path / "ro").chmod(0o555)
    yield kept
    (tmp_path / "ro").chmod(0o755)
    (tmp_path / "rw" / "x.nas").chmod(0o644)


def test_fmt_write_into_a_read_only_folder_or_file_is_refused(tmp_path, read_only):
    for f in ("ro/x.nas", "rw/x.nas"):
        _refused_and_kept(_unprivileged("fmt", "--write", f, cwd=tmp_path), read_only, f"{f}: error: cannot write",
                          "permission denied")


def test_fmt_write_that_fails_leaves_the_file_as_it_was(tmp_path):
    import resource

    kept = _files(tmp_path, {"x.nas": CELL.replace("    b0 =", "  b0  =")})
    r = subprocess.run([sys.executable, "-m", "nasdsl.cli.dispatch", "fmt", "--write", "x.nas"], cwd=tmp_path,
                       env=child_env(), capture_output=True, text=True, timeout=120,
                       preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (16, 16)))  # EFBIG
    _refused_and_kept(r, kept, "x.nas: error: cannot write")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.nas"]  # no temporary file left


WEIGHT_READERS = {  # every command that reads a weights file, with the file last
    "convert-weights": ["convert-weights", "--from", "cadene", "--network", "nasnet_a_cifar", "-o", "o.pt"],
    "export": ["export", "nasnet_a_cifar", "-o", "o.onnx", "--weights"],
}


@pytest.mark.parametrize("command", WEIGHT_READERS)
def test_a_weights_file_that_cannot_be_read_says_why_the_same_way_everywhere(tmp_path, command):
    (tmp_path / "folder").mkdir()
    (tmp_path / "locked.pt").write_bytes(b"weights")
    (tmp_path / "locked.pt").chmod(0)
    (tmp_path / "junk.pt").write_bytes(b"hello\n" * 50)
    argv = WEIGHT_READERS[command]
    for name, needle in (("missing.pt", "missing.pt: error: no such weights file"),
                         ("folder", "folder: error: is a directory, not a weights file"),
                         ("junk.pt", "junk.pt: error: not a PyTorch state_dict file"),
                         ("locked.pt", "locked.pt: error: cannot read it: permission denied")):
        run = _unprivileged if name == "locked.pt" else run_cli
        user_error(run(*argv, name, cwd=tmp_path), needle, one_line=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "junk.pt", "locked.pt"]


@pytest.mark.parametrize("untidy", [CELL.replace("    b0 =", "  b0  ="), CELL.replace("    b0 =", "\n\n        b0   =")],
                         ids=["it grows", "it shrinks"])
def test_fmt_write_of_a_hard_linked_file_reaches_every_link(tmp_path, untidy):
    """A file with other names is rewritten where it lies (its inode, owner and links kept); it was
    replaced by a new file, and the other names kept the old text."""
    (tmp_path / "x.nas").write_text(untidy)
    os.link(tmp_path / "x.nas", tmp_path / "y.nas")
    inode = (tmp_path / "x.nas").stat().st_ino
    assert run_cli("fmt", "--write", "x.nas", cwd=tmp_path).returncode == 0
    assert (tmp_path / "y.nas").read_text() == (tmp_path / "x.nas").read_text() == CELL
    assert (tmp_path / "x.nas").stat().st_ino == inode
    assert run_cli("fmt", "--check", "y.nas", cwd=tmp_path).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.nas", "y.nas"]


def test_fmt_write_of_a_hard_linked_file_that_fails_leaves_it_as_it_was(tmp_path):
    import resource

    compact = "cell c:normal{b0=id(h0)+id(h1)\nout=concat(b0)}\n"  # 47 bytes; formatted, 66
    kept = _files(tmp_path, {"x.nas": compact})
    os.link(tmp_path / "x.nas", tmp_path / "y.nas")
    kept[tmp_path / "y.nas"] = kept[tmp_path / "x.nas"]
    for limit in (len(compact) + 10, 16):  # EFBIG between the old size and the new, or below both
        r = subprocess.run([sys.executable, "-m", "nasdsl.cli.dispatch", "fmt", "--write", "x.nas"], cwd=tmp_path,
                           env=child_env(), capture_output=True, text=True, timeout=120,
                           preexec_fn=lambda n=limit: resource.setrlimit(resource.RLIMIT_FSIZE, (n, n)))
        _refused_and_kept(r, kept, "x.nas: error: cannot write")
        assert (tmp_path / "x.nas").stat().st_nlink == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.nas", "y.nas"]


def test_train_into_a_read_only_folder_is_refused_before_any_work(tmp_path, read_only):
    for out in ("ro/tr2", "ro"):
        start = time.perf_counter()
        r = _unprivileged("train", "ro/good.nas", "--epochs", "1", "--out", out, cwd=tmp_path)
        _refused_and_kept(r, read_only, f"{out}: error: cannot ", " --out", "permission denied")
        assert "training" not in r.stdout and time.perf_counter() - start < 30
    assert not (tmp_path / "ro" / "tr2").exists()


LONG = "a" * 300  # longer than a file name may be (255 bytes): every command met OSError, exit 3


@pytest.mark.parametrize("argv", [
    ["check", LONG], ["fmt", LONG], ["ir", LONG], ["stats", LONG], ["compile", LONG, "-o", "x.py"],
    ["export", LONG, "-o", "x.onnx"], ["viz", LONG, "-o", "x.svg"], ["convert", LONG], ["convert", "--from", "nas", LONG],
    ["train", LONG, "--out", "run"], ["infer", LONG + ".onnx", "x.png"], ["serve", LONG + ".onnx"],
    ["convert-weights", "--from", "cadene", LONG + ".pth", "--network", "nasnet_a_mobile", "-o", "x.pt"],
    ["report", LONG], ["search", "--reward", "synthetic", "--out", LONG],
])
def test_a_file_name_too_long_is_a_user_mistake(tmp_path, monkeypatch, capsys, argv):
    from nasdsl.cli.dispatch import main

    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "internal error" not in err and len(err.strip().splitlines()) == 1, err
    assert not list(tmp_path.iterdir())
