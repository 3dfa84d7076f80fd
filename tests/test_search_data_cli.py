"""Bad data through the real `nasdsl search` CLI: exit 2, one line naming the file, no traceback;
and a real search on an image folder."""
from __future__ import annotations

import pickle
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import write_cifar100, write_folder, write_image, write_npz, write_tree
from proc_helpers import run_cli

from nasdsl.cli.dispatch import main


def _empty_class(tmp: Path) -> tuple[str, Path]:
    root = write_folder(tmp / "f", train=2, val=1, size=(8, 8))
    for f in (root / "train" / "eel").iterdir():
        f.unlink()
    return f"imagefolder:{root}", root / "train" / "eel"


def _not_an_image(tmp: Path) -> tuple[str, Path]:
    root = write_folder(tmp / "f", train=2, val=1, size=(8, 8))
    bad = root / "val" / "cat" / "0.png"
    bad.write_text("not a picture")
    return f"imagefolder:{root}", bad


def _truncated(tmp: Path) -> tuple[str, Path]:
    root = write_folder(tmp / "f", train=2, val=1, size=(8, 8))
    bad = write_image(root / "train" / "dog" / "1.jpg", (64, 64), seed=5)
    bad.write_bytes(bad.read_bytes()[:300])
    return f"imagefolder:{root}", bad


def _mismatched(tmp: Path) -> tuple[str, Path]:
    root = tmp / "f"
    write_tree(root / "train", {"cat": 2, "dog": 2}, size=(8, 8))
    write_tree(root / "val", {"cat": 1, "fox": 1}, size=(8, 8))
    return f"imagefolder:{root}", root / "val"


def _npz_labels(tmp: Path) -> tuple[str, Path]:
    path = tmp / "a.npz"
    np.savez(path, x=np.zeros((6, 8, 8, 3), np.uint8), y=np.array([0, 1, 2, 0, 1, -1]),
             labels=np.array(["a", "b", "c"]))
    return f"npz:{path}", path


def _npz_no_y(tmp: Path) -> tuple[str, Path]:
    path = tmp / "a.npz"
    np.savez(path, images=np.zeros((6, 8, 8, 3), np.uint8), y=np.zeros(6))
    return f"npz:{path}", path


def _npz_shape(tmp: Path) -> tuple[str, Path]:
    path = write_npz(tmp / "a.npz")
    np.savez(path, x=np.zeros((6, 8, 5, 2), np.uint8), y=np.zeros(6, np.int64))
    return f"npz:{path}", path


def _npz_is_npy(tmp: Path) -> tuple[str, Path]:
    path = tmp / "a.npz"
    with open(path, "wb") as f:  # one bare array (np.save), not an archive of arrays
        np.save(f, np.zeros((6, 8, 8, 3), np.uint8))
    return f"npz:{path}", path


def _npz_truncated(tmp: Path) -> tuple[str, Path]:
    path = write_npz(tmp / "a.npz")
    path.write_bytes(path.read_bytes()[:60])
    return f"npz:{path}", path


def _npz_is_text(tmp: Path) -> tuple[str, Path]:
    path = tmp / "a.npz"
    path.write_text("x,y\n1,2\n")
    return f"npz:{path}", path


def _cifar_labels(tmp: Path) -> tuple[str, Path]:
    folder = write_cifar100(tmp / "c", train=10, test=4)
    with open(folder / "train", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 3072), np.uint8), b"fine_labels": [3, 100]}, f)
    return f"cifar100:{folder}", folder / "train"


def _npz_member_not_npy(tmp: Path) -> tuple[str, Path]:
    import zipfile

    path = tmp / "a.npz"
    with zipfile.ZipFile(path, "w") as z:  # numpy hands back a member that is not .npy as bytes
        z.writestr("x.npy", b"not an array")
        z.writestr("y.npy", b"nor this")
    return f"npz:{path}", path


def _npz_huge_labels(tmp: Path) -> tuple[str, Path]:
    path = tmp / "a.npz"  # it built a 1,000,001-class model
    np.savez(path, x=np.zeros((6, 8, 8, 3), np.uint8), y=np.array([0, 1, 0, 1, 0, 1_000_000]))
    return f"npz:{path}", path


def _npz_val_class_not_in_train(tmp: Path) -> tuple[str, Path]:
    path = tmp / "a.npz"  # it built a silent 4-class model
    np.savez(path, x=np.zeros((6, 8, 8, 3), np.uint8), y=np.arange(6) % 2,
             x_val=np.zeros((2, 8, 8, 3), np.uint8), y_val=np.array([2, 3]))
    return f"npz:{path}", path


def _cifar_strings(tmp: Path) -> tuple[str, Path]:
    folder = write_cifar100(tmp / "c", train=10, test=4)
    with open(folder / "train", "wb") as f:  # it was exit 3: could not convert string to float
        pickle.dump({b"data": np.full((2, 3072), "a"), b"fine_labels": [3, 1]}, f)
    return f"cifar100:{folder}", folder / "train"


def _cifar_floats(tmp: Path) -> tuple[str, Path]:
    folder = write_cifar100(tmp / "c", train=10, test=4)
    with open(folder / "train", "wb") as f:  # floats in 0..1 were divided by 255 once more: black images
        pickle.dump({b"data": np.full((2, 3072), 0.5, np.float32), b"fine_labels": [3, 1]}, f)
    return f"cifar100:{folder}", folder / "train"


def _cifar10_batch_as_cifar100(tmp: Path) -> tuple[str, Path]:
    folder = write_cifar100(tmp / "c", train=10, test=4)
    with open(folder / "train", "wb") as f:  # it was "not a CIFAR-100 python batch (int() argument must be ...)"
        pickle.dump({b"data": np.zeros((2, 3072), np.uint8), b"labels": [3, 1]}, f)
    return f"cifar100:{folder}", folder / "train"


def _dangling_link(tmp: Path) -> tuple[str, Path]:
    root = write_tree(tmp / "d", {"a": 3, "b": 3})
    (root / "a" / "gone.png").symlink_to(tmp / "nowhere.png")  # it was dropped without a word
    return f"imagefolder:{root}", root / "a" / "gone.png"


def _valid_not_val(tmp: Path) -> tuple[str, Path]:
    root = tmp / "d"
    write_tree(root / "train", {"a": 3, "b": 3})
    write_tree(root / "valid", {"a": 2, "b": 2})  # it was ignored: 10% of train held out instead
    return f"imagefolder:{root}", root / "valid"


def _training_not_train(tmp: Path) -> tuple[str, Path]:
    root = tmp / "d"
    write_tree(root / "training", {"a": 3, "b": 3})  # it trained 2 classes named 'training' and 'val'
    write_tree(root / "val", {"a": 2, "b": 2})
    return f"imagefolder:{root}", root


def _classes_beside_train(tmp: Path) -> tuple[str, Path]:
    root = tmp / "d"
    write_tree(root / "train", {"a": 3, "b": 3})
    write_tree(root, {"c": 2})  # it was ignored
    return f"imagefolder:{root}", root


def _missing(tmp: Path) -> tuple[str, Path]:
    return f"imagefolder:{tmp / 'nowhere'}", tmp / "nowhere"


BAD = {"empty class folder": (_empty_class, "empty class folder"),
       "not an image": (_not_an_image, "not an image Pillow can read"),
       "truncated image": (_truncated, "(?i)cannot read image.*truncated"),
       "class folders differ": (_mismatched, "class folders differ .*only in train/: dog; only in val/: fox"),
       "npz labels out of range": (_npz_labels, r"labels in y out of range: -1\.\.2, expected 0\.\.2"),
       "npz without y": (_npz_no_y, "no array 'x' in the .npz"),
       "npz wrong shape": (_npz_shape, r"has shape \(6, 8, 5, 2\)"),
       "npz holding one array": (_npz_is_npy, r"one array \(np\.save\), not an archive of arrays x and y"),
       "npz truncated": (_npz_truncated, r"not a readable \.npz file \(.*zip"),
       "npz that is text": (_npz_is_text, r"not a readable \.npz file \(not a zip archive of arrays\)$"),
       "cifar100 labels out of range": (_cifar_labels, r"labels out of range: 3\.\.100, expected 0\.\.99"),
       "npz member not .npy": (_npz_member_not_npy, r"member 'x' of the \.npz is not an array"),
       "npz labels over the class bound": (_npz_huge_labels, r"labels go up to 1000000: over 100,000 classes"),
       "npz val class not in train": (_npz_val_class_not_in_train, r"y_val holds class 3, which y .* never has"),
       "cifar100 data of strings": (_cifar_strings, r"'data' holds <U1, not pixel values"),
       "cifar100 data of floats": (_cifar_floats, r"'data' must hold integer pixels 0\.\.255, as the "
                                                  r"CIFAR-100 format does \(got float32\); float images in 0\.\.1 go in an npz"),
       "cifar10 batch given as cifar100": (_cifar10_batch_as_cifar100, r"not a CIFAR-100 python batch: no "
                                           r"'fine_labels' in it \(it holds 'data', 'labels'\)$"),
       "dangling symlink": (_dangling_link, "a broken symbolic link"),
       "valid/ instead of val/": (_valid_not_val, "held-out images go in val/ beside train/"),
       "training/ instead of train/": (_training_not_train, r"class folders named like splits \(training, val\)"),
       "class folder beside train/": (_classes_beside_train, "folders beside train/ that are neither val/ nor test/: c"),
       "missing path": (_missing, "no such folder")}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_data_is_one_line_naming_the_file(tmp_path, capsys, case):
    make, pattern = BAD[case]
    spec, file = make(tmp_path)
    rc = main(["search", "--dataset", spec, "--trials", "1", "--quiet", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert "\n" not in err and err.startswith(f"{file}: error: "), err
    assert re.search(pattern, err), err


def _not_a_folder(tmp: Path) -> tuple[str, Path]:
    path = tmp / "a.png"
    write_image(path, (8, 8))
    return f"imagefolder:{path}", path


def _npz_is_a_folder(tmp: Path) -> tuple[str, Path]:
    (tmp / "d.npz").mkdir()
    return f"npz:{tmp / 'd.npz'}", tmp / "d.npz"


# every command that reads a data set, with {spec} and {tmp} to fill in
DATA_COMMANDS = {"search": ["search", "--dataset", "{spec}", "--trials", "1", "--quiet", "--out", "{tmp}/run"],
                 "train": ["train", "nasnet_a_cifar", "--dataset", "{spec}", "--epochs", "1", "-o", "{tmp}/w.pt"],
                 "export --calibrate": ["export", "nasnet_a_cifar", "--quantize", "int8", "--calibrate", "{spec}",
                                        "-o", "{tmp}/q.onnx"]}
MISNAMED = {"npz holding one array": (_npz_is_npy, "holds one array"),
            "npz truncated": (_npz_truncated, "not a readable .npz file"),
            "npz that is a folder": (_npz_is_a_folder, "a folder (expected an .npz"),
            "imagefolder that is a file": (_not_a_folder, "imagefolder: not a folder")}


@pytest.mark.parametrize("command", list(DATA_COMMANDS))
@pytest.mark.parametrize("case", list(MISNAMED))
def test_every_data_command_gives_the_same_one_line_error(tmp_path, capsys, command, case):
    make, needle = MISNAMED[case]
    spec, file = make(tmp_path)
    argv = [a.format(spec=spec, tmp=tmp_path) for a in DATA_COMMANDS[command]]
    rc = main(argv)
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert "\n" not in err and err.startswith(f"{file}: error: ") and needle in err, err
    assert not list(tmp_path.glob("*.pt")) and not list(tmp_path.glob("*.onnx"))  # nothing written


def test_bad_data_in_a_real_process_has_no_traceback(tmp_path):
    spec, file = _truncated(tmp_path)
    p = run_cli("search", "--dataset", spec, "--trials", "1", "--quiet", "--out", str(tmp_path / "run"), timeout=300)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines() == [p.stderr.strip()] and p.stderr.startswith(f"{file}: error: ")


@pytest.mark.slow
def test_a_two_trial_search_on_an_image_folder(tmp_path):
    root = write_folder(tmp_path / "pets", train=12, val=4, size=(8, 8), classes=("cat", "dog"))
    out = tmp_path / "run"
    p = run_cli("search", "--dataset", f"imagefolder:{root}", "--trials", "2", "--workers", "1", "--threads", "1",
                "--epochs", "1", "--strategy", "random", "--quiet", "--out", str(out), timeout=600)
    assert p.returncode == 0, p.stderr
    with sqlite3.connect(out / "trials.sqlite") as db:
        rows = db.execute("SELECT status, reward FROM trials").fetchall()
    assert len(rows) == 2 and all(s == "done" and 0.0 <= r <= 1.0 for s, r in rows), rows
    assert "classes = 2" in (out / "best.nas").read_text() or "classes=2" in (out / "best.nas").read_text()


def test_bad_data_leaves_no_run_folder_so_the_same_out_can_be_used_again(tmp_path, capsys):
    spec, _ = _not_an_image(tmp_path)
    out = tmp_path / "run"
    assert main(["search", "--dataset", spec, "--trials", "1", "--quiet", "--out", str(out)]) == 2
    assert not (out / "trials.sqlite").exists()
    assert main(["search", "--reward", "synthetic", "--trials", "1",
                 "--quiet", "--out", str(out)]) == 0  # not "already holds a search run"
    capsys.readouterr()


def test_search_image_and_augment_define_the_children(tmp_path):
    from nasdsl_search.driver import Search, SearchConfig

    s = Search(tmp_path / "run", SearchConfig(trials=1, image=12, augment="none"))
    try:
        payload = s._payload({"id": 1, "nas": "", "seed": 0, "decisions": []}, threads=1)
        assert s.proxy.image == 12 and payload["image"] == 12 and payload["augment"] == "none"
    finally:
        s.close()
    with pytest.raises(SystemExit) as e:
        main(["search", "--augment", "sideways", "--out", str(tmp_path / "r2")])
    assert e.value.code == 2


@pytest.mark.parametrize("strategy", ["random", "random-ws"])
def test_a_run_keeps_the_image_size_it_began_with(tmp_path, strategy):
    """A folder's own size (the median shorter side of its images) is taken once, when the run is
    made, and kept in the run: larger images added to the folder later do not change the size the
    children of the resumed run train at (each child took the size from the folder itself)."""
    from nasdsl_search import data
    from nasdsl_search.driver import Search, SearchConfig
    from nasdsl_search.oneshot import OneShot

    root = write_folder(tmp_path / "pets", train=3, val=2, size=(12, 12), classes=("cat", "dog"))
    run = tmp_path / "run"
    config = SearchConfig(strategy=strategy, trials=1, dataset=f"imagefolder:{root}", val_size=4)
    opened = OneShot(run, config) if strategy == "random-ws" else Search(run, config)
    try:
        assert opened.config.image == 12 and opened.proxy.image == 12
    finally:
        opened.close()
    write_tree(root / "train", {"cat": 10, "dog": 10}, size=(20, 20), seed=7)  # names 0-9: 3 replaced, 7 more
    data._CACHE.clear()  # a new process: the driver of the --resume
    assert data.open_dataset(f"imagefolder:{root}").image == 20  # what the folder's own size is now
    data._CACHE.clear()
    opened = OneShot(run, resume=True) if strategy == "random-ws" else Search(run, resume=True)
    try:
        assert opened.config.image == 12 and opened.proxy.image == 12
        assert opened.store.stored(SearchConfig.from_dict).image == 12
        if strategy == "random":
            payload = opened._payload({"id": 1, "nas": "", "seed": 0, "decisions": []}, threads=1)
            assert payload["image"] == 12
        else:
            assert opened.data.image == 12 and tuple(opened.data.train[0][0].shape) == (3, 12, 12)
    finally:
        opened.close()


@pytest.mark.parametrize("strategy", ["random", "random-ws"])
def test_a_folder_of_images_larger_than_a_network_takes_asks_for_image(tmp_path, capsys, strategy):
    """Photos of 1100 px without --image: one line naming the data set and the flag, and no run folder
    (every child failed to compile; a run folder kept a size no --resume could take)."""
    root = write_folder(tmp_path / "photos", train=1, val=1, size=(1100, 1100), classes=("cat", "dog"))
    out = tmp_path / "run"
    assert main(["search", "--dataset", f"imagefolder:{root}", "--strategy", strategy, "--val-size", "2",
                 "--quiet", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"nasdsl search: error: imagefolder:{root}: its images' own size is 1100 pixels, more than the "
                   "1024 a network takes; give --image N (at most 1024) to resize them"), err
    assert not out.exists()


@pytest.mark.parametrize("strategy", ["random", "enas"])
def test_search_out_inside_the_data_set_is_refused(tmp_path, capsys, strategy):
    """--out inside an image folder would add a run folder to the data (a class of its own at the
    next run); it is one line, exit 2, like train's --out, for multi-trial and one-shot runs."""
    root = write_folder(tmp_path / "pets", train=2, val=1, size=(8, 8), classes=("cat", "dog"))
    before = sorted(p.name for p in root.rglob("*"))
    out = root / "train" / "run"
    assert main(["search", "--dataset", f"imagefolder:{root}", "--strategy", strategy, "--quiet",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out}: error: --out is the data set" in err and len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in root.rglob("*")) == before


def test_a_relative_data_set_path_resumes_from_another_folder(tmp_path, capsys, monkeypatch):
    """The run keeps the data set's path absolute: --resume from another folder opened no file
    (or another file of the same name)."""
    (tmp_path / "work").mkdir()
    (tmp_path / "elsewhere").mkdir()
    write_npz(tmp_path / "work" / "d.npz")
    out = tmp_path / "run"
    monkeypatch.chdir(tmp_path / "work")
    tiny = ["--cells", "1", "--filters", "4", "--epochs", "1", "--workers", "1"]
    assert main(["search", "--dataset", "npz:d.npz", *tiny, "--trials", "1", "--quiet", "--out", str(out)]) == 0
    with sqlite3.connect(out / "trials.sqlite") as db:
        stored = db.execute("SELECT value FROM run WHERE key = 'config'").fetchone()[0]
    assert f'"dataset": "npz:{tmp_path / "work" / "d.npz"}"' in stored, stored
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["search", "--resume", "--out", str(out), "--trials", "2", "--quiet"]) == 0, capsys.readouterr().err
    with sqlite3.connect(out / "trials.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM trials WHERE status = 'done'").fetchone()[0] == 2
