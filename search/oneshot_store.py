"""The one-shot tables of a run folder's trials.sqlite, added next to the multi-trial ones.

    oneshot_checkpoint  the latest resumable state (supernet, optimizers, strategy, RNGs), per epoch
    oneshot_epochs      per supernet epoch: loss, accuracy, controller entropy or architecture weights
    oneshot_archs       every architecture scored with shared weights (phase: controller | rank | derived)

A checkpoint and its epoch row are written in one transaction, so a run killed at any moment
resumes from the last finished epoch.
"""
from __future__ import annotations

import json
import time
from typing import Any

from .store import Store

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


def save_epoch(store: Store, epoch: int, info: dict[str, Any], state: bytes,
               archs: list[tuple[str, tuple[int, ...], float | None]] = ()) -> None:
    """The checkpoint after `epoch` (1-based count of finished epochs), its curve row and the
    architectures scored during it, in one transaction."""
    now = time.time()
    with store.transaction() as db:
        db.execute("INSERT OR REPLACE INTO oneshot_checkpoint VALUES (1, ?, ?, ?)", (epoch, now, state))
        db.execute("INSERT OR REPLACE INTO oneshot_epochs VALUES (?, ?, ?)", (epoch, now, json.dumps(info)))
        db.executemany("INSERT INTO oneshot_archs (phase, epoch, decisions, shared_accuracy, at) VALUES (?, ?, ?, ?, ?)",
                       [(phase, epoch, json.dumps(list(d)), acc, now) for phase, d, acc in archs])


def checkpoint(store: Store) -> tuple[int, bytes] | None:
    row = store.db.execute("SELECT epoch, state FROM oneshot_checkpoint WHERE id = 1").fetchone()
    return (int(row[0]), bytes(row[1])) if row else None


def epochs(store: Store) -> list[dict[str, Any]]:
    return [{"epoch": r[0], "at": r[1], **json.loads(r[2])}
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
    return [{"id": r[0], "phase": r[1], "epoch": r[2], "decisions": tuple(json.loads(r[3])),
             "shared_accuracy": r[4], "at": r[5]} for r in rows]
