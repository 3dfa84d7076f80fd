"""Proxy data sets: digits (embedded) and CIFAR-10's python batches folder, with clear errors."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from nasdsl.errors import NasError
from nasdsl_search.data import load_dataset


def write_cifar(folder, batches=2, per_batch=40, test=20, seed=0):
    """A tiny folder in CIFAR-10's python format: data_batch_k and test_batch pickles."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{k}" for k in range(1, batches + 1)] + ["test_batch"]
    for name in names:
        n = test if name == "test_batch" else per_batch
        batch = {b"batch_label": name.encode(), b"labels": [int(x) for x in rng.integers(0, 10, n)],
                 b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 b"filenames": [f"img{i}.png".encode() for i in range(n)]}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
    return folder


def test_digits_split_is_fixed_and_standardized():
    d = load_dataset("digits")
    assert d.x_train.shape == (1297, 3, 8, 8) and d.x_val.shape == (500, 3, 8, 8)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64 and d.classes == 10 and d.image == 8
    assert abs(float(d.x_train.mean())) < 1e-3
    again = load_dataset("digits", val_size=500, split_seed=0)
    assert np.array_equal(again.y_val, d.y_val)
    small = load_dataset("digits", val_size=100, train_size=200)
    assert len(small.x_train) == 200 and len(small.x_val) == 100


def test_cifar10_folder(tmp_path):
    folder = write_cifar(tmp_path / "cifar-10-batches-py")
    d = load_dataset(f"cifar10:{folder}", val_size=16)
    assert d.x_train.shape == (64, 3, 32, 32) and d.x_val.shape == (16, 3, 32, 32)
    assert d.x_test is not None and d.x_test.shape == (20, 3, 32, 32)
    # a row of 3072 bytes is 3 planes of 32x32, row-major: each image is there, up to standardization
    with open(folder / "data_batch_1", "rb") as f:
        raw = pickle.load(f, encoding="bytes")[b"data"][0].reshape(3, 32, 32).astype(np.float64)
    all_x = np.concatenate([d.x_train, d.x_val]).astype(np.float64)
    assert max(np.corrcoef(x.ravel(), raw.ravel())[0, 1] for x in all_x) > 0.99


def test_missing_and_malformed_cifar_are_clear_errors(tmp_path):
    with pytest.raises(NasError, match="not a folder"):
        load_dataset(f"cifar10:{tmp_path / 'nowhere'}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NasError, match="no data_batch_"):
        load_dataset(f"cifar10:{tmp_path / 'empty'}")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "data_batch_1").write_bytes(b"this is not a pickle")
    with pytest.raises(NasError, match="not a CIFAR-10 python batch"):
        load_dataset(f"cifar10:{bad}")
    shape = tmp_path / "shape"
    shape.mkdir()
    with open(shape / "data_batch_1", "wb") as f:
        pickle.dump({b"data": np.zeros((4, 100), np.uint8), b"labels": [0, 1, 2, 3]}, f)
    with pytest.raises(NasError, match=r"\[N, 3072\]"):
        load_dataset(f"cifar10:{shape}")
    evil = tmp_path / "evil"
    evil.mkdir()
    with open(evil / "data_batch_1", "wb") as f:
        pickle.dump({b"data": print}, f)  # a pickle naming a callable is refused, not run
    with pytest.raises(NasError, match="refusing to load builtins.print"):
        load_dataset(f"cifar10:{evil}")
    with pytest.raises(NasError, match="needs a folder"):
        load_dataset("cifar10")
    with pytest.raises(NasError, match="unknown data set 'mnist'"):
        load_dataset("mnist")
    with pytest.raises(NasError, match="held-out size"):
        load_dataset("digits", val_size=5000)
