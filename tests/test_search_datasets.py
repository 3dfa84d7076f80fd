"""The data-set registry (`nasdsl_search.data.open_dataset`): every kind on small real files, the seeded
split, augmentation on train only, streaming = in-memory = `nasdsl infer` preprocessing."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from data_fixtures import write_cifar100, write_folder, write_image, write_npz, write_tree

from nasdsl.deploy.infer import load_image, preprocess
from nasdsl.deploy.modelcard import CIFAR10_MEAN, INCEPTION_MEAN, Preprocess
from nasdsl.errors import NasError
from nasdsl_search.data import (
    DATASETS,
    DataBundle,
    DataError,
    ImageFiles,
    InMemoryDataset,
    load_dataset,
    open_dataset,
    spread,
)


def test_registry_lists_every_kind():
    assert set(DATASETS) == {"digits", "npz", "cifar10", "cifar100", "imagefolder"}
    with pytest.raises(NasError, match="unknown data set 'mnist'; known: digits, npz:PATH, cifar10:PATH"):
        open_dataset("mnist")
    with pytest.raises(NasError, match="unknown augmentation 'jitter'"):
        open_dataset("digits", augment="jitter")


def test_digits_bundle_matches_the_numpy_interface():
    b = open_dataset("digits")
    assert isinstance(b, DataBundle) and isinstance(b.train, InMemoryDataset)
    assert (b.classes, b.image, b.labels[:3], b.augment) == (10, 8, ["0", "1", "2"], "none")
    old = load_dataset("digits")
    assert np.array_equal(b.train.x.numpy(), old.x_train) and np.array_equal(b.val.y.numpy(), old.y_val)
    x, y = b.val[0]
    assert x.shape == (3, 8, 8) and x.dtype == torch.float32 and isinstance(y, int)
    big = open_dataset("digits", image=16)
    assert big.train.x.shape == (1297, 3, 16, 16) and big.card()["image"] == 16


def test_imagefolder_train_val_layout(tmp_path):
    root = write_folder(tmp_path / "pets", train=4, val=2, size=(10, 12))
    b = open_dataset(f"imagefolder:{root}")
    assert b.labels == ["cat", "dog", "eel"] and b.classes == 3
    assert b.image == 10  # the first training image's shorter side
    assert isinstance(b.train, InMemoryDataset) and b.train.x.shape == (12, 3, 10, 10)
    assert b.val.x.shape == (6, 3, 10, 10) and b.val.y.tolist() == [0, 0, 1, 1, 2, 2]
    assert sorted(b.train.y.tolist()) == [0] * 4 + [1] * 4 + [2] * 4
    assert b.test is None and b.augment == "cifar"
    card = b.card()
    assert card == {"dataset": f"imagefolder:{root}", "image": 10, "mean": list(CIFAR10_MEAN),
                    "std": pytest.approx(list(b.std)), "labels": ["cat", "dog", "eel"], "resize": 10,
                    "crop_pct": 1.0, "interpolation": "bilinear"}
    big = open_dataset(f"imagefolder:{root}", image=64)  # ImageNet conventions from 64 pixels on
    assert big.mean == INCEPTION_MEAN and big.card()["resize"] == 73 and big.card()["crop_pct"] == 0.875
    assert big.augment == "imagenet" and big.train.x.shape == (12, 3, 64, 64)


def test_imagefolder_single_tree_split_is_seeded(tmp_path):
    root = write_tree(tmp_path / "tree", {"a": 10, "b": 10}, size=(8, 8))
    one = open_dataset(f"imagefolder:{root}")
    again = open_dataset(f"imagefolder:{root}", augment="none")  # another cache entry, same split
    other = open_dataset(f"imagefolder:{root}", split_seed=1)
    assert len(one.val) == 2 and len(one.train) == 18  # 10% held out
    assert torch.equal(one.val.x, again.val.x) and torch.equal(one.train.x, again.train.x)
    assert not torch.equal(one.val.x, other.val.x)
    sized = open_dataset(f"imagefolder:{root}", val_size=5, train_size=7)
    assert (len(sized.val), len(sized.train)) == (5, 7)
    # no image is in both splits
    rows = {tuple(x.flatten().tolist()) for x in one.train.x}
    assert not any(tuple(x.flatten().tolist()) in rows for x in one.val.x)


def test_npz_layouts_agree(tmp_path):
    nhwc = open_dataset(f"npz:{write_npz(tmp_path / 'a.npz')}")
    nchw = open_dataset(f"npz:{write_npz(tmp_path / 'b.npz', layout='NCHW')}")
    flt = open_dataset(f"npz:{write_npz(tmp_path / 'c.npz', dtype='float32')}")
    assert nhwc.classes == 4 and nhwc.image == 8 and len(nhwc.val) == 4 and len(nhwc.train) == 36
    assert torch.equal(nhwc.train.x, nchw.train.x)
    assert torch.allclose(nhwc.train.x, flt.train.x, atol=1e-5)
    raw = np.load(tmp_path / "a.npz")
    order = np.random.default_rng(0).permutation(40)
    assert nhwc.train.y.tolist() == raw["y"][order[4:]].tolist()
    named = open_dataset(f"npz:{write_npz(tmp_path / 'd.npz', labels=np.array(['w', 'x', 'y', 'z', 'q']))}")
    assert named.labels == ["w", "x", "y", "z", "q"] and named.classes == 5
    rng = np.random.default_rng(1)
    given = open_dataset(f"npz:{write_npz(tmp_path / 'e.npz', x_val=rng.integers(0, 256, (6, 8, 8, 3), np.uint8), y_val=np.arange(6) % 4)}")
    assert len(given.val) == 6 and len(given.train) == 40 and given.val.y.tolist() == [0, 1, 2, 3, 0, 1]


@pytest.mark.parametrize("protocol", [2, 5])  # the download's protocol, and numpy's own pickles of today
def test_cifar100_batches(tmp_path, protocol):
    folder = write_cifar100(tmp_path / "cifar-100-python", protocol=protocol)
    b = open_dataset(f"cifar100:{folder}", val_size=10)
    assert b.classes == 100 and b.labels[:2] == ["class0", "class1"] and b.image == 32
    assert b.train.x.shape == (50, 3, 32, 32) and len(b.val) == 10 and len(b.test) == 20
    with open(folder / "train", "rb") as f:
        raw = pickle.load(f, encoding="bytes")
    labels = np.asarray(raw[b"fine_labels"])
    order = np.random.default_rng(0).permutation(60)
    assert b.val.y.tolist() == labels[order[:10]].tolist()
    # each image is the 3072 bytes as 3 planes of 32x32, normalized by CIFAR-100's statistics
    first = raw[b"data"][order[0]].reshape(3, 32, 32) / 255.0
    expect = (first - np.array(b.mean)[:, None, None]) / np.array(b.std)[:, None, None]
    assert np.allclose(b.val.x[0].numpy(), expect, atol=1e-5)


@pytest.mark.parametrize("name", ["cifar", "cifar+cutout", "imagenet"])
def test_augmentation_changes_train_batches_only(tmp_path, name):
    root = write_folder(tmp_path / "f", train=3, val=2, size=(16, 16))
    b = open_dataset(f"imagefolder:{root}", augment=name)
    assert b.augment == name
    xb = b.train.x[:6]
    a1 = b.train.augment_batch(xb, torch.Generator().manual_seed(0))
    a2 = b.train.augment_batch(xb, torch.Generator().manual_seed(0))
    a3 = b.train.augment_batch(xb, torch.Generator().manual_seed(1))
    assert a1.shape == xb.shape and torch.equal(a1, a2) and not torch.equal(a1, a3)
    assert not torch.equal(a1, xb) and torch.equal(b.train.x[:6], xb)  # input left alone
    if name == "cifar+cutout":
        assert (a1 == 0).all(dim=1).flatten(1).sum(1).min() > 0  # every image has a zeroed hole
    assert b.val.augment is None and torch.equal(b.val.augment_batch(b.val.x), b.val.x)
    none = open_dataset(f"imagefolder:{root}", augment="none")
    assert torch.equal(none.train.augment_batch(xb, torch.Generator()), xb)
    # streaming: a training item is drawn anew each time, a held-out item never changes
    s = open_dataset(f"imagefolder:{root}", augment=name, in_memory=False)
    assert isinstance(s.train, ImageFiles)
    torch.manual_seed(0)
    draws = [s.train[0][0] for _ in range(4)]
    assert any(not torch.equal(draws[0], d) for d in draws[1:])
    assert all(torch.equal(s.val[1][0], b.val.x[1]) for _ in range(3))


@pytest.mark.parametrize("image", [12, 64])
def test_eval_tensors_equal_infer_preprocessing(tmp_path, image):
    root = tmp_path / "f"
    write_tree(root / "train", {"a": 2, "b": 2}, size=(40, 30), seed=3)
    write_tree(root / "val", {"a": 2, "b": 1}, size=(23, 50), seed=4)
    mem = open_dataset(f"imagefolder:{root}", image=image)
    stream = open_dataset(f"imagefolder:{root}", image=image, in_memory=False)
    assert isinstance(mem.val, InMemoryDataset) and isinstance(stream.val, ImageFiles)
    card = mem.card()
    assert card == stream.card()
    pre = Preprocess(image=card["image"], resize=card["resize"], mean=tuple(card["mean"]), std=tuple(card["std"]),
                     interpolation=card["interpolation"])
    files = sorted((root / "val").rglob("*.*"))
    for i, f in enumerate(files):  # val/ is read in class order, files sorted
        expect = preprocess(load_image(f), pre)
        assert np.allclose(mem.val.x[i].numpy(), expect, atol=1e-6)
        assert np.allclose(stream.val[i][0].numpy(), expect, atol=1e-6)
        assert stream.val[i][1] == mem.val.y[i]


def test_a_truncated_file_in_a_loader_worker_is_one_line(tmp_path):
    root = write_folder(tmp_path / "f", train=2, val=1, size=(8, 8))
    bad = root / "train" / "dog" / "0.png"
    write_image(bad, (64, 64), seed=9)
    bad.write_bytes(bad.read_bytes()[:-200])  # the header is intact, the pixel data is cut short
    b = open_dataset(f"imagefolder:{root}", in_memory=False)  # headers are checked, pixels later
    loader = torch.utils.data.DataLoader(b.train, batch_size=2, num_workers=1)
    with pytest.raises(DataError) as e:
        list(loader)
    assert str(e.value).startswith(f"{bad}: error: ") and "\n" not in str(e.value)
    again = pickle.loads(pickle.dumps(e.value))
    assert str(again) == str(e.value)
    with pytest.raises(NasError, match=f"^{bad}: error: .*truncated"):
        open_dataset(f"imagefolder:{root}", in_memory=True)


def test_load_dataset_reads_the_new_kinds(tmp_path):
    d = load_dataset(f"npz:{write_npz(tmp_path / 'a.npz')}")
    assert d.x_train.shape == (36, 3, 8, 8) and d.classes == 4 and d.image == 8


@pytest.mark.parametrize("in_memory", [True, False])
def test_a_child_trains_on_an_image_folder_in_memory_or_streaming(tmp_path, in_memory):
    from nasdsl_search.space import ProxyNet, load_space, to_nas
    from nasdsl_search.trial import run_trial

    root = write_folder(tmp_path / "f", train=6, val=2, size=(8, 8), classes=("a", "b"))
    nas = to_nas(load_space("nasnet"), [1, 0, 10, 11, 0] * 10, ProxyNet(cells=1, filters=4, image=8, classes=2))
    r = run_trial({"trial": 1, "nas": nas, "seed": 0, "dataset": f"imagefolder:{root}", "in_memory": in_memory,
                   "train": {"epochs": 1, "batch_size": 4}, "threads": 1, "device": "cpu"})
    assert r["status"] == "done", r["error"]
    assert r["reward"] in (0.0, 0.25, 0.5, 0.75, 1.0)  # 4 held-out images


def test_imagefolder_test_split_and_its_classes(tmp_path):
    root = write_folder(tmp_path / "f", train=2, val=1, size=(8, 8), classes=("a", "b"))
    write_tree(root / "test", {"a": 1, "b": 2}, size=(8, 8), seed=7)
    b = open_dataset(f"imagefolder:{root}")
    assert len(b.test) == 3 and b.test.y.tolist() == [0, 1, 1] and b.test.augment is None
    write_tree(root / "test", {"c": 1}, size=(8, 8), seed=8)
    with pytest.raises(NasError, match="test: error: class folders differ .*only in test/: c"):
        open_dataset(f"imagefolder:{root}", val_size=1)


def test_arrays_resized_in_memory_or_per_item(tmp_path):
    from nasdsl_search.data import ResizedArrays

    spec = f"npz:{write_npz(tmp_path / 'a.npz')}"
    mem = open_dataset(spec, image=16)
    lazy = open_dataset(spec, image=16, in_memory=False)
    assert isinstance(lazy.val, ResizedArrays) and mem.val.x.shape == (4, 3, 16, 16)
    assert all(torch.allclose(lazy.val[i][0], mem.val.x[i], atol=1e-6) for i in range(4))
    torch.manual_seed(0)
    assert lazy.train[0][0].shape == (3, 16, 16) and lazy.augment == "cifar"


def test_cifar10_bundle_names_and_statistics(tmp_path):
    from test_search_data import write_cifar

    b = open_dataset(f"cifar10:{write_cifar(tmp_path / 'c')}", val_size=8)
    assert b.labels == ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    assert b.mean == CIFAR10_MEAN and b.augment == "cifar" and len(b.test) == 20 and len(b.val) == 8


def test_the_size_sample_is_up_to_101_images_spread_over_the_folder():
    """It read every file up to 201 (a step of len // 101), and an even count's median could fall between."""
    for n in (1, 100, 101, 102, 150, 201, 202, 10_000):
        sample = spread(list(range(n)), 101)
        assert len(sample) == min(n, 101) and sample == sorted(set(sample)) and sample[0] == 0
        assert n <= 101 or sample[-1] >= n - n // 101 - 1  # reaches the last classes' files


def test_a_folders_own_image_size_is_its_typical_image_not_the_first_file(tmp_path):
    """One 1x1 file sorted first made every child train at 1x1: the size is the median shorter side."""
    root = write_tree(tmp_path / "d", {"a": 6, "b": 6}, size=(20, 24))
    write_image(root / "a" / "!tiny.png", size=(1, 1))
    assert open_dataset(f"imagefolder:{root}").image == 20
