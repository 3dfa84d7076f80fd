"""The run folder's SQLite store: every trial, the run's configuration, and the strategy's state.

Each change (a proposal, a finished trial) is one transaction that also saves the strategy's
state, so a run killed at any moment leaves a store that is consistent with the strategy.
"""
from __future__ import annotations

import contextlib
import functools
import io
import json
import math
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from nasdsl.errors import NasError
from nasdsl.lang.source import refuse_files_of_others

from .data import refuse_inside
from .lifetime import held

STORE_NAME = "trials.sqlite"
RUN_FILES = ("best.nas", "report.html")  # what a run writes into its folder beside the store
STATUSES = ("running", "done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS run (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY,
    strategy TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    nas TEXT NOT NULL,
    decisions TEXT NOT NULL,          -- JSON list of ints
    meta TEXT NOT NULL DEFAULT '{}',  -- JSON: what the strategy attached to the proposal
    seed INTEGER NOT NULL,
    reward REAL,
    params INTEGER,                   -- static cost of the trained network
    madds INTEGER,
    error TEXT,
    proposed_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    seconds REAL,                     -- wall time of the trial's work
    attempts INTEGER NOT NULL DEFAULT 0,
    observed INTEGER                  -- order in which the strategy learned from it
);
CREATE TABLE IF NOT EXISTS strategy_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    observed INTEGER NOT NULL,
    updates INTEGER NOT NULL,
    saved_at REAL NOT NULL,
    state BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS updates (
    n INTEGER PRIMARY KEY,            -- the strategy's update count after this update
    at REAL NOT NULL,
    observed INTEGER NOT NULL,
    info TEXT NOT NULL,               -- JSON (loss, baseline, population ...)
    state BLOB NOT NULL               -- the strategy's state right after the update
);
"""

# Early stopping (ASHA); created on every open, so run folders written before it gain them too.
_RUNG_SCHEMA = """
CREATE TABLE IF NOT EXISTS rungs (    -- a trial's held-out accuracy each time it reached a rung
    trial INTEGER NOT NULL,
    rung INTEGER NOT NULL,            -- 0 = the bottom rung
    epochs INTEGER NOT NULL,          -- epochs trained in all when it was measured
    accuracy REAL NOT NULL,
    seconds REAL,                     -- wall time of this rung's work
    at REAL NOT NULL,
    PRIMARY KEY (trial, rung)
);
CREATE TABLE IF NOT EXISTS promotions (  -- a trial sent on from rung - 1 to rung
    trial INTEGER NOT NULL,
    rung INTEGER NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (trial, rung)
);
"""

# The trials of an early-stopped run that wait for ASHA to promote or stop them: still running, with a
# result at the rung of their last job (rung 0, or the rung they were last promoted to). The others
# still running are training (or were, when their driver was killed).
WAITING_SQL = """
SELECT t.id FROM trials t JOIN rungs r ON r.trial = t.id
WHERE t.status = 'running'
  AND r.rung = (SELECT COALESCE(MAX(p.rung), 0) FROM promotions p WHERE p.trial = t.id)
ORDER BY t.id"""


# Columns added after the first release: created when a store is opened, old run folders included.
# Where a trial ran: the Ray node id ("local" in the process pool), the machine's hostname and IP,
# and the pid of the process that ran it.
ADDED_COLUMNS = {"node": "TEXT", "host": "TEXT", "ip": "TEXT", "pid": "INTEGER"}


def _place(db: sqlite3.Connection, trial: int, result: dict[str, Any]) -> None:
    """Where `trial` ran, from a result; a result that does not say (an early-stopped trial's
    settlement) keeps what its rung jobs recorded."""
    db.execute("UPDATE trials SET node = COALESCE(?, node), host = COALESCE(?, host), ip = COALESCE(?, ip),"
               " pid = COALESCE(?, pid) WHERE id = ?",
               (result.get("node"), result.get("host"), result.get("ip"), result.get("pid"), trial))


def dump_state(state: dict[str, Any]) -> bytes:
    import torch  # here, so that reading a store (`nasdsl report`) does not load torch

    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


def load_state(blob: bytes, where: str = "a saved state") -> dict[str, Any]:
    """A state `dump_state` wrote; NasError naming `where` (the store and table) if it is damaged."""
    import torch

    try:
        state = torch.load(io.BytesIO(blob), weights_only=True)
    except Exception as e:  # noqa: BLE001 - torch raises many kinds for bytes that are not its own
        raise NasError(f"{where}: cannot be read ({type(e).__name__}); the store is damaged") from None
    if not isinstance(state, dict):
        raise NasError(f"{where}: not a saved state; the store is damaged")
    return state


def require_run(folder: Path) -> None:
    """`--resume`: refuse a folder that holds no run."""
    if not (Path(folder) / STORE_NAME).is_file():
        raise NasError(f"{folder}: no search run here (no {STORE_NAME})")


def refuse_run(folder: Path, dataset: str) -> None:
    """A new run: refuse a folder that holds one already, or is the data set or inside it, before
    anything is built (Store.create checks again, for a driver that made one meanwhile)."""
    refuse_inside(folder, dataset, "--out")
    if (Path(folder) / STORE_NAME).exists():
        raise NasError(f"{folder} already holds a search run; continue it with --resume or choose another --out")
    if (Path(folder) / "checkpoint.pt").exists():
        raise NasError(f"{folder} holds a `nasdsl train` run (its checkpoint.pt); choose another --out")
    refuse_files_of_others(folder, RUN_FILES)


def connect_readonly(path: Path) -> sqlite3.Connection:
    """A connection that only reads the store at `path`, and writes nothing beside it either: read-only
    where a writer's WAL is there (its commits are read through it); a plain connection, used for
    reading only, where the folder may be written (SQLite removes the WAL files it makes when it
    closes; sqlite's mode=ro would leave them); immutable where the user may not write and no WAL is
    there (mode=ro cannot open a WAL store then), since nobody is writing the store."""
    path = Path(path)
    if Path(f"{path}-wal").exists():
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    if os.access(path, os.W_OK) and os.access(path.parent, os.W_OK):
        return sqlite3.connect(path, isolation_level=None, timeout=30)
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, timeout=30)


@functools.cache
def _expected() -> dict[str, set[str]]:
    """The tables of the first release's schema and their columns."""
    db = sqlite3.connect(":memory:")
    db.executescript(_SCHEMA)
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    expected = {t: {r[1] for r in db.execute(f"PRAGMA table_info({t})")} for t in tables}
    db.close()
    return expected


def _lacking(db: sqlite3.Connection) -> str:
    """What the database lacks of a nasdsl store ('' if nothing): reads only."""
    have = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    if not have:
        return "it holds no table"
    missing = sorted(set(_expected()) - set(have))
    if missing:
        return f"no table {', '.join(missing)}"
    for table, columns in _expected().items():
        gone = sorted(columns - {r[1] for r in db.execute(f"PRAGMA table_info({table})")})
        if gone:
            return f"table {table} has no column {', '.join(gone)}"
    return ""


def load_json(text: Any, path: Path, row: str, column: str, kind: type | None = None) -> Any:
    """A JSON value of the store at `path` (`row`: "table trials, id 1"); NasError naming the row and
    the column if it is not JSON, or not a `kind` (dict: an object, list: a list)."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError) as e:
        raise NasError(f"{path}: {row}: {column} is not valid JSON ({e}); the store is damaged") from None
    if kind is not None and not isinstance(value, kind):
        what = {dict: "a JSON object", list: "a JSON list"}.get(kind, kind.__name__)
        raise NasError(f"{path}: {row}: {column} is not {what}; the store is damaged")
    return value


class Store:
    """One run folder's trials.sqlite. `readonly` (`nasdsl report`): open it for reading only; nothing
    is written to it, not even in a folder the user may write."""

    def __init__(self, folder: str | Path, create: bool = True, readonly: bool = False):
        self.folder = Path(folder)
        self.path = self.folder / STORE_NAME
        if not create and not self.path.exists():
            raise NasError(f"{self.folder}: no search run here (no {STORE_NAME})")
        if create:
            self.folder.mkdir(parents=True, exist_ok=True)
        try:
            self.db = connect_readonly(self.path) if readonly else \
                sqlite3.connect(self.path, isolation_level=None, timeout=30)
        except sqlite3.DatabaseError as e:
            raise NasError(f"{self.path}: cannot open the trial store ({e})") from None
        self.db.row_factory = sqlite3.Row
        try:
            self._prepare(create, readonly)
        except BaseException:
            self.db.close()
            raise

    def _prepare(self, create: bool, readonly: bool) -> None:
        """Make a new store's tables; check that an existing one is a nasdsl store before anything is
        written to it (journal mode, the tables and columns added since the first release)."""
        try:
            if create:
                self._set_journal()
                self.db.executescript(_SCHEMA)
            lacking = _lacking(self.db)
            if lacking:
                raise NasError(f"{self.path}: not a nasdsl trial store ({lacking})")
            if readonly:
                return
            self._set_journal()
            with contextlib.suppress(sqlite3.OperationalError):  # a read-only folder: reading still works
                self.db.executescript(_RUNG_SCHEMA)
            self._add_columns()
        except sqlite3.DatabaseError as e:
            raise NasError(f"{self.path}: not a nasdsl trial store ({e})") from None

    def _set_journal(self) -> None:
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a killed process

    @classmethod
    def create(cls, folder: str | Path, values: dict[str, dict[str, Any]]) -> Store:
        """A new run's store, made whole or not at all: the tables and the run-table `values`
        ('config', 'executor', ...) are written under a temporary name that is then renamed into
        place, so a driver killed meanwhile leaves no store without them (a `--resume` after that
        kill would have had to guess them: the defaults, not what the run was started with)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / STORE_NAME
        tmp = folder / (STORE_NAME + ".new")
        for p in (tmp, folder / (tmp.name + "-journal")):  # left by a driver killed while making it
            p.unlink(missing_ok=True)
        db = sqlite3.connect(tmp, isolation_level=None)
        try:
            db.executescript(_SCHEMA + _RUNG_SCHEMA)
            db.execute("BEGIN")
            for key, value in values.items():
                db.execute("INSERT INTO run VALUES (?, ?)", (key, json.dumps(value, sort_keys=True)))
            db.execute("COMMIT")
        finally:
            db.close()
        if path.exists():
            tmp.unlink()
            raise NasError(f"{folder} already holds a search run; continue it with --resume")
        tmp.replace(path)
        return cls(folder, create=False)

    def close(self) -> None:
        self.db.close()

    def _add_columns(self) -> None:
        have = {r[1] for r in self.db.execute("PRAGMA table_info(trials)")}
        for name, kind in ADDED_COLUMNS.items():
            if name not in have:
                with contextlib.suppress(sqlite3.OperationalError):  # read-only folder: read without them
                    self.db.execute(f"ALTER TABLE trials ADD COLUMN {name} {kind}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; a stop signal that comes meanwhile waits for its COMMIT or ROLLBACK
        (lifetime.held): a transaction left open would lose its writes and refuse the next one."""
        with held():
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    # -- run configuration
    def set_config(self, config: dict[str, Any], key: str = "config") -> None:
        """Store a JSON value in the run table: 'config' (what defines the run), 'executor' (how it ran)."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO run VALUES (?, ?)", (key, json.dumps(config, sort_keys=True)))

    def config(self, key: str = "config") -> dict[str, Any] | None:
        row = self.db.execute("SELECT value FROM run WHERE key = ?", (key,)).fetchone()
        return load_json(row[0], self.path, f"table run, key {key!r}", "value", dict) if row else None

    def stored(self, parse: Callable[[dict[str, Any]], Any], key: str = "config") -> Any:
        """The run-table value `key` made into a configuration by `parse` (e.g. SearchConfig.from_dict,
        then checked): None if there is none; NasError if the value is not one (a damaged store)."""
        value = self.config(key)
        if value is None:
            return None
        try:
            return parse(value)
        except (TypeError, ValueError, AttributeError, KeyError) as e:
            raise NasError(f"{self.path}: table run, key {key!r}: value is not a valid stored configuration "
                           f"({type(e).__name__}: {e}); the store is damaged") from None
        except NasError as e:  # a value out of its bounds (stored before they were checked): it cannot go on
            raise NasError(f"{self.path}: table run, key {key!r}: a stored setting is refused: "
                           f"{e.diagnostics[0].message}") from None

    # -- trials
    def add_trial(self, strategy: str, nas: str, decisions: tuple[int, ...], meta: dict, seed_of: Callable[[int], int],
                  params: int | None, madds: int | None, state: bytes, observed: int, updates: int,
                  finished: dict[str, Any] | None = None, update_info: dict | None = None) -> tuple[int, int]:
        """Insert a trial and the strategy's state after proposing it, in one transaction; returns
        (id, seed). `finished` records it as already over (a rejected proposal) in the same step."""
        with self.transaction() as db:
            tid = int(db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM trials").fetchone()[0])
            seed = seed_of(tid)
            db.execute(
                "INSERT INTO trials (id, strategy, status, nas, decisions, meta, seed, params, madds, proposed_at)"
                " VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)",
                (tid, strategy, nas, json.dumps(list(decisions)), json.dumps(meta), seed, params, madds, time.time()))
            if finished is not None:
                self._finish(db, tid, finished, observed)
                if update_info is not None:
                    self._log_update(db, updates, observed, update_info, state)
            self._save_state(db, state, observed, updates)
            return tid, seed

    def finish_trial(self, trial: int, result: dict[str, Any], state: bytes, observed: int, updates: int,
                     update_info: dict | None = None) -> None:
        """Record a finished trial together with the strategy's state after learning from it."""
        with self.transaction() as db:
            self._finish(db, trial, result, observed)
            self._save_state(db, state, observed, updates)
            if update_info is not None:
                self._log_update(db, updates, observed, update_info, state)

    def mark_interrupted(self, why: str) -> int:
        """Say on every trial still training why it did not finish (`--resume` runs it again); trials
        waiting at a rung were not interrupted."""
        waiting = f" AND id NOT IN ({WAITING_SQL})" if self._has("rungs") and self._has("promotions") else ""
        with self.transaction() as db:
            return db.execute(f"UPDATE trials SET error = ? WHERE status = 'running'{waiting}", (why,)).rowcount

    def _finish(self, db: sqlite3.Connection, trial: int, result: dict[str, Any], observed: int) -> None:
        cur = db.execute(
            "UPDATE trials SET status = ?, reward = ?, error = ?, started_at = ?, finished_at = ?,"
            " seconds = ?, params = COALESCE(params, ?), observed = ? WHERE id = ? AND status = 'running'",
            (result["status"], result.get("reward"), result.get("error"), result.get("started"),
             result.get("finished", time.time()), result.get("seconds"), result.get("params"),
             observed, trial))
        if cur.rowcount != 1:
            raise RuntimeError(f"trial {trial} is not running; refusing to record it twice")
        _place(db, trial, result)

    def _log_update(self, db: sqlite3.Connection, updates: int, observed: int, info: dict, state: bytes) -> None:
        db.execute("INSERT OR REPLACE INTO updates VALUES (?, ?, ?, ?, ?)",
                   (updates, time.time(), observed, json.dumps(info), state))

    def _save_state(self, db: sqlite3.Connection, state: bytes, observed: int, updates: int) -> None:
        db.execute("INSERT OR REPLACE INTO strategy_state VALUES (1, ?, ?, ?, ?)",
                   (observed, updates, time.time(), state))

    def saved_state(self) -> bytes | None:
        row = self.db.execute("SELECT state FROM strategy_state WHERE id = 1").fetchone()
        return bytes(row[0]) if row else None

    def trials(self, status: str | None = None) -> list[dict[str, Any]]:
        """Every trial (or those with `status`) in id order, as dicts with decoded JSON fields."""
        q = "SELECT * FROM trials" + (" WHERE status = ?" if status else "") + " ORDER BY id"
        rows = self.db.execute(q, (status,) if status else ()).fetchall()
        out = []
        for r in rows:
            d = dict(r)
            row = f"table trials, id {d['id']}"
            d["decisions"] = load_json(d["decisions"], self.path, row, "decisions", list)
            d["meta"] = load_json(d["meta"], self.path, row, "meta", dict)
            reward = d.get("reward")
            if d.get("status") == "done" and (isinstance(reward, bool) or not isinstance(reward, (int, float))
                                              or not math.isfinite(reward)):
                raise NasError(f"{self.path}: {row}: a finished trial's reward is {reward!r}, not a number; "
                               "the store is damaged")
            out.append(d)
        return out

    def counts(self) -> dict[str, int]:
        c = {s: 0 for s in STATUSES}
        for status, n in self.db.execute("SELECT status, COUNT(*) FROM trials GROUP BY status"):
            c[status] = n
        return c

    def best(self, k: int = 1) -> list[dict[str, Any]]:
        """The k best finished trials: the highest rung reached first (early-stopped runs), then reward."""
        order = "reward DESC, id"
        if self._has("rungs"):
            order = "COALESCE((SELECT MAX(rung) FROM rungs WHERE trial = trials.id), -1) DESC, " + order
        rows = self.db.execute(f"SELECT id FROM trials WHERE status = 'done' ORDER BY {order} LIMIT ?",
                               (k,)).fetchall()
        ids = {r[0] for r in rows}
        found = {t["id"]: t for t in self.trials("done") if t["id"] in ids}
        return [found[r[0]] for r in rows]

    def update_log(self) -> list[dict[str, Any]]:
        return [{"n": r["n"], "at": r["at"], "observed": r["observed"],
                 **load_json(r["info"], self.path, f"table updates, n {r['n']}", "info", dict)}
                for r in self.db.execute("SELECT n, at, observed, info FROM updates ORDER BY n")]

    # -- early stopping: rung results and promotions
    def _has(self, table: str) -> bool:
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (table,)).fetchone() is not None

    def add_rung(self, trial: int, rung: int, epochs: int, accuracy: float, seconds: float | None,
                 place: dict[str, Any] | None = None) -> None:
        """Record that `trial` reached `rung`, and where that job ran (`place`: a result's node, host,
        ip, pid; the trial shows its last rung's); a second record of the same rung is refused."""
        with self.transaction() as db:
            try:
                db.execute("INSERT INTO rungs VALUES (?, ?, ?, ?, ?, ?)",
                           (trial, rung, epochs, accuracy, seconds, time.time()))
            except sqlite3.IntegrityError:
                raise RuntimeError(f"trial {trial} already reached rung {rung}; refusing to record it twice") from None
            if place:
                _place(db, trial, place)

    def add_promotion(self, trial: int, rung: int) -> None:
        """Record that `trial` goes on to `rung` (before its job is submitted)."""
        with self.transaction() as db:
            db.execute("INSERT INTO promotions VALUES (?, ?, ?)", (trial, rung, time.time()))

    def rungs(self) -> list[dict[str, Any]]:
        """Every rung result, in the order they were recorded."""
        if not self._has("rungs"):
            return []
        return [dict(r) for r in self.db.execute("SELECT * FROM rungs ORDER BY rowid")]

    def rung_time(self, trial: int) -> tuple[float | None, float | None]:
        """When `trial`'s first rung job started, and the wall time of all its rung jobs."""
        row = self.db.execute("SELECT MIN(at - COALESCE(seconds, 0)), SUM(seconds) FROM rungs WHERE trial = ?",
                              (trial,)).fetchone()
        return row[0], row[1]

    def waiting(self) -> list[int]:
        """The trials waiting at a rung for ASHA to promote or stop them (WAITING_SQL), in id order."""
        if not (self._has("rungs") and self._has("promotions")):
            return []
        return [r[0] for r in self.db.execute(WAITING_SQL)]

    def promotions(self) -> list[dict[str, Any]]:
        if not self._has("promotions"):
            return []
        return [dict(r) for r in self.db.execute("SELECT * FROM promotions ORDER BY rowid")]
