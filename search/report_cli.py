"""`nasdsl report DIR`: the top trials of a search run as a table, or every trial as JSON; and
DIR/report.html, one self-contained page with the reward curves and the top cells drawn."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

from nasdsl.errors import NasError

from .oneshot_report import planned_picks, progress
from .report_html import run_line, running_status
from .runlock import driver_alive
from .scheduler import rung_epochs
from .store import STATUSES, Store

JSON_FIELDS = ("id", "status", "reward", "nas", "strategy", "decisions", "seed", "params", "madds", "error",
               "seconds", "proposed_at", "started_at", "finished_at", "node", "host", "ip", "pid")


DIED = ("ray task failed", "worker process died")  # the executors' words for a worker that died under a trial


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", help="a run folder written by `nasdsl search --out DIR`")
    parser.add_argument("--format", choices=("table", "json"), default="table",
                        help="table: the top trials (default); json: {\"trials\": [...]} with every trial")
    parser.add_argument("--top", type=int, default=10, help="rows in the table (default 10)")
    parser.add_argument("--compare", nargs="+", default=(), metavar="DIR",
                        help="other run folders to put on the same report.html (e.g. other strategies)")
    parser.add_argument("--no-html", action="store_true", help="do not write DIR/report.html")


def report_data(folder: str | Path) -> dict:
    """Every trial (id order), the counts, the configuration and the strategy's update log."""
    if not Path(folder).is_dir():
        raise NasError(f"{folder}: no such run folder")
    store = Store(folder, create=False, readonly=True)
    try:
        trials = [{**{k: t.get(k) for k in JSON_FIELDS}, "redrawn": (t.get("meta") or {}).get("redrawn", 0)}
                  for t in store.trials()]  # redrawn: proposals over budget drawn again before this one
        waiting, alive = set(store.waiting()), driver_alive(folder)
        counts = {s: 0 for s in STATUSES}  # and waiting, interrupted where there are any
        for t in trials:
            t["status"] = running_status(t["status"], t["id"] in waiting, alive)
            counts[t["status"]] = counts.get(t["status"], 0) + 1
        return {"trials": trials, "counts": counts, "config": store.config(), "oneshot": store.config("oneshot"),
                "oneshot_progress": progress(folder),
                "executor": store.config("executor"), "cluster": store.config("cluster"),
                "updates": store.update_log(), "rungs": store.rungs()}
    finally:
        store.close()


def check_writable(path: Path) -> None:
    """NasError if report.html cannot be written at `path` (a directory there, or a folder the user
    may not write)."""
    if path.is_dir():
        raise NasError(f"{path}: is a directory, so the report cannot be written there; "
                       "move it away, or pass --no-html")
    if not os.access(path if path.exists() else path.parent, os.W_OK):
        raise NasError(f"{path}: cannot write the report there (permission denied); "
                       "pass --no-html to print the table only")


def where(t: dict) -> str:
    """Where a trial ran, short: the host in the local pool; IP and Ray node id (8 chars) on Ray."""
    node, host, ip = t.get("node"), t.get("host"), t.get("ip")
    if node is None:
        return host or "-"
    return (host or "-") if node == "local" else f"{ip or host or '?'}/{node[:8]}"


def _fmt(v, spec: str = "") -> str:
    return "-" if v is None else format(v, spec)


def _planned(cfg: dict, oneshot: dict | None) -> str:
    """What the run set out to finish: its trials, or a one-shot run's stand-alone picks."""
    if oneshot is None:
        return f"{cfg.get('trials', '?')} trials"
    k = planned_picks(cfg.get("strategy", ""), oneshot.get("top_k", "?"))
    return f"{k} stand-alone pick{'s' if k != 1 else ''}"


def table(data: dict, top: int) -> str:
    done = sorted((t for t in data["trials"] if t["status"] == "done"), key=lambda t: (-t["reward"], t["id"]))
    c = data["counts"]
    cfg = data["config"] or {}
    states = [f"{c['done']} done", f"{c['failed']} failed"]
    if c["running"] or not (c.get("waiting") or c.get("interrupted")):
        states.append(f"{c['running']} running")
    if c.get("waiting"):
        states.append(f"{c['waiting']} waiting at a rung (ASHA promotes or stops them)")
    if c.get("interrupted"):
        states.append(f"{c['interrupted']} interrupted (the driver is gone; --resume runs them again)")
    lines = [(f"strategy {cfg.get('strategy', '?')}, reward {cfg.get('reward', '?')} on {cfg.get('dataset', '?')}: "
              + ", ".join(states) + f" of {_planned(cfg, data.get('oneshot'))}"), run_line(data)]
    if data.get("oneshot_progress"):
        lines.append(data["oneshot_progress"])
    head = f"{'rank':>4}  {'trial':>5}  {'reward':>7}  {'params':>9}  {'madds':>11}  {'seconds':>7}  where"
    lines += ["", head, "-" * len(head)]
    for rank, t in enumerate(done[:top], 1):
        lines.append(f"{rank:>4}  {t['id']:>5}  {t['reward']:>7.4f}  {_fmt(t['params'], ','):>9}  "
                     f"{_fmt(t['madds'], ','):>11}  {_fmt(t['seconds'], '.1f'):>7}  {where(t)}")
    if not done:
        lines.append("(no finished trial yet)")
    if done:
        k = min(5, len(done))
        lines += ["", f"top-{k} mean reward: {sum(t['reward'] for t in done[:k]) / k:.4f}"]
    lines += rung_lines(data)
    places: dict[str, list[int]] = {}
    for t in data["trials"]:
        if t["status"] in ("done", "failed") and (t.get("node") or t.get("host")):
            places.setdefault(where(t), [0, 0])[t["status"] != "done"] += 1
        elif t["status"] == "failed" and any(w in (t.get("error") or "") for w in DIED):
            places.setdefault("unknown (its worker died before saying)", [0, 0])[1] += 1
    if places:
        lines += ["", "where trials ran:"] + [f"  {w}: {d} done, {f} failed" for w, (d, f) in sorted(places.items())]
    redrawn = sum(t.get("redrawn") or 0 for t in data["trials"])
    if redrawn:
        lines += ["", f"proposals over budget, drawn again (not trained, not stored): {redrawn}"]
    failed = [t for t in data["trials"] if t["status"] == "failed"]
    if failed:
        reasons: dict[str, int] = {}
        for t in failed:
            first = (t["error"] or "?").splitlines()[0]
            reasons[first[:90]] = reasons.get(first[:90], 0) + 1
        lines += ["", "failures:"] + [f"  {n:>4} x {r}" for r, n in sorted(reasons.items(), key=lambda x: -x[1])]
    return "\n".join(lines)


def rung_lines(data: dict) -> list[str]:
    """An early-stopped run's rungs: how many trials reached each, the best there, the child-epochs spent."""
    rungs = data.get("rungs") or []
    if not rungs:
        return []
    cfg = data["config"] or {}
    try:
        epochs = list(rung_epochs(cfg["min_epochs"], cfg["train"]["epochs"], cfg["reduction"]))
    except (KeyError, TypeError, NasError):
        epochs = sorted({r["epochs"] for r in rungs})
    lines = ["", f"early stopping: {cfg.get('scheduler', 'asha')}, reduction {cfg.get('reduction', '?')}",
             f"{'rung':>4}  {'epochs':>6}  {'trials':>6}  {'best':>7}  {'median':>7}"]
    spent = 0
    for k, e in enumerate(epochs):
        accs = sorted((r["accuracy"] for r in rungs if r["rung"] == k), reverse=True)
        spent += len(accs) * (e - (epochs[k - 1] if k else 0))
        if accs:
            lines.append(f"{k:>4}  {e:>6}  {len(accs):>6}  {accs[0]:>7.4f}  {statistics.median(accs):>7.4f}")
        else:
            lines.append(f"{k:>4}  {e:>6}  {0:>6}  {'-':>7}  {'-':>7}")
    started = len({r["trial"] for r in rungs})
    lines.append(f"child-epochs spent: {spent} (all {started} trials to {epochs[-1]} epochs: {started * epochs[-1]})")
    return lines


def run(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise NasError(f"--top must be at least 1, got {args.top}")
    data = report_data(args.dir)
    if args.compare and args.no_html:
        raise NasError("--compare draws the runs together on report.html; drop --no-html")
    for other in args.compare:  # every folder read (and the same one twice refused) before any output
        report_data(other)
    if args.compare:
        from .report_html import run_labels

        run_labels([Path(args.dir), *map(Path, args.compare)])
    if not args.no_html:
        check_writable(Path(args.dir) / "report.html")  # before any output
    if args.format == "json":
        json.dump(data, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(table(data, args.top))
    if not args.no_html:
        from .report_html import write_report

        path = write_report(args.dir, top=args.top, compare=args.compare)
        print(f"wrote {path}", file=sys.stderr)
    return 0
