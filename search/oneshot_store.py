"""The one-shot tables of a run folder's trials.sqlite, added next to the multi-trial ones.

    oneshot_checkpoint  the latest resumable state (supernet, optimizers, strategy, RNGs)
    oneshot_epochs      per supernet epoch: loss, accuracy, controller entropy or architecture weights
    oneshot_archs       every architecture scored with shared weights (phase: controller | rank | derived)

A checkpoint and the epoch rows since the previous one are written in one transaction, so a run
killed at any moment resumes from the last checkpointed epoch and holds no row of an epoch it will
train again. The supernet's state dicts go into the checkpoint packed
(`pack_tensors`): one flat tensor per dtype instead of thousands of small ones, since torch.save
pays per tensor (the enas-space supernet: 0.28 s a checkpoint unpacked, 0.07 s packed).
"""
from __future__ import annotations

import json
import math
import time
from typing import Any

import torch

from .store import Store, load_json

SCHEMA = """
CREATE TABLE IF NOT EXISTS oneshot_checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1), epoch INTEGER NOT NULL, saved_at REAL NOT NULL, state BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS oneshot_epochs (epoch INTEGER PRIMARY KEY, at REAL NOT NULL, info TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS oneshot_archs (
    id INTEGER PRIMARY KEY, phase TEXT NOT NULL, epoch INTEGER NOT NULL, decisions TEXT NOT NULL,
    shared_accuracy REAL, at REAL NOT NULL);
"""


def ensure(store: Store) -> None:
    """Create the one-shot tables (idempotent)."""
    store.db.executescript(SCHEMA)


def has_oneshot(store: Store) -> bool:
    row = store.db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'oneshot_epochs'")
    return row.fetchone() is not None


Scored = list[tuple[str, tuple[int, ...], float | None]]  # (phase, decisions, shared accuracy)


def save_epochs(store: Store, epochs: list[tuple[int, float, dict[str, Any], Scored]], state: bytes) -> None:
    """The checkpoint after the last of `epochs` ((epoch, when it ended, info, the architectures
    scored during it); epoch: the 1-based count of finished epochs), with the epochs' curve rows and
    architectures, in one transaction."""
    with store.transaction() as db:
        db.execute("INSERT OR REPLACE INTO oneshot_checkpoint VALUES (1, ?, ?, ?)", (epochs[-1][0], time.time(), state))
        for epoch, at, info, archs in epochs:
            db.execute("INSERT OR REPLACE INTO oneshot_epochs VALUES (?, ?, ?)", (epoch, at, json.dumps(info)))
            db.executemany("INSERT INTO oneshot_archs (phase, epoch, decisions, shared_accuracy, at) "
                           "VALUES (?, ?, ?, ?, ?)", [(phase, epoch, json.dumps(list(d)), acc, at) for phase, d, acc in archs])


def checkpoint(store: Store) -> tuple[int, bytes] | None:
    row = store.db.execute("SELECT epoch, state FROM oneshot_checkpoint WHERE id = 1").fetchone()
    return (int(row[0]), bytes(row[1])) if row else None


def epochs(store: Store) -> list[dict[str, Any]]:
    return [{"epoch": r[0], "at": r[1], **load_json(r[2], store.path, f"table oneshot_epochs, epoch {r[0]}", "info", dict)}
            for r in store.db.execute("SELECT epoch, at, info FROM oneshot_epochs ORDER BY epoch")]


def add_archs(store: Store, phase: str, epoch: int, archs: list[tuple[int, ...]]) -> None:
    with store.transaction() as db:
        db.executemany("INSERT INTO oneshot_archs (phase, epoch, decisions, shared_accuracy, at) VALUES (?, ?, ?, NULL, ?)",
                       [(phase, epoch, json.dumps(list(d)), time.time()) for d in archs])


def score_arch(store: Store, arch_id: int, accuracy: float) -> None:
    with store.transaction() as db:
        db.execute("UPDATE oneshot_archs SET shared_accuracy = ?, at = ? WHERE id = ?", (accuracy, time.time(), arch_id))


def archs(store: Store, phase: str | None = None) -> list[dict[str, Any]]:
    q = "SELECT id, phase, epoch, decisions, shared_accuracy, at FROM oneshot_archs"
    rows = store.db.execute(q + (" WHERE phase = ?" if phase else "") + " ORDER BY id", (phase,) if phase else ())
    return [{"id": r[0], "phase": r[1], "epoch": r[2],
             "decisions": tuple(load_json(r[3], store.path, f"table oneshot_archs, id {r[0]}", "decisions", list)),
             "shared_accuracy": r[4], "at": r[5]} for r in rows]


def pack_tensors(tensors: dict[str, torch.Tensor]) -> dict[str, dict[str, Any]]:
    """{dtype: {"names", "shapes", "data"}}: the tensors flattened into one tensor per dtype."""
    groups: dict[str, dict[str, list]] = {}
    for name, t in tensors.items():
        g = groups.setdefault(str(t.dtype), {"names": [], "shapes": [], "parts": []})
        g["names"].append(name)
        g["shapes"].append(list(t.shape))
        g["parts"].append(t.detach().reshape(-1))
    return {dtype: {"names": g["names"], "shapes": g["shapes"], "data": torch.cat(g["parts"])}
            for dtype, g in groups.items()}


def unpack_tensors(packed: dict[str, dict[str, Any]]) -> dict[str, torch.Tensor]:
    """The tensors `pack_tensors` packed, by name."""
    out = {}
    for g in packed.values():
        parts = torch.split(g["data"], [math.prod(shape) for shape in g["shapes"]])
        for name, shape, part in zip(g["names"], g["shapes"], parts, strict=True):
            out[name] = part.reshape(shape)
    return out


def pack_optimizer(state: dict[str, Any]) -> dict[str, Any]:
    """An optimizer's state_dict with its per-parameter tensors packed."""
    per_param = [(f"{i}.{k}", v) for i, s in state["state"].items() for k, v in s.items()]
    return {"tensors": pack_tensors({key: v for key, v in per_param if isinstance(v, torch.Tensor)}),
            "other": {key: v for key, v in per_param if not isinstance(v, torch.Tensor)},
            "param_groups": state["param_groups"]}


def unpack_optimizer(packed: dict[str, Any]) -> dict[str, Any]:
    """The state_dict `pack_optimizer` packed."""
    state: dict[int, dict[str, Any]] = {}
    for key, v in (*unpack_tensors(packed["tensors"]).items(), *packed["other"].items()):
        i, name = key.split(".", 1)
        state.setdefault(int(i), {})[name] = v
    return {"state": state, "param_groups": packed["param_groups"]}
