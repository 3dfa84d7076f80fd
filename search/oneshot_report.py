"""The one-shot part of report.html: per-epoch curves (DARTS architecture weights per op, ENAS
controller entropy and reward, supernet loss) and the picks' shared-weight vs stand-alone scores.
Reads the store with sqlite3 only (no torch), like the rest of the report."""
from __future__ import annotations

from html import escape
from pathlib import Path

from .store import STORE_NAME, connect_readonly, load_json

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#393b79", "#637939", "#8c6d31")


def planned_picks(strategy: str, top_k: int) -> int:
    """The picks a one-shot run trains stand-alone: its top-k, but darts's one derived cell."""
    return 1 if strategy == "darts" else top_k


def _line(name: str, colour: str, pts: list[tuple[float, float]], what: str) -> dict:
    return {"name": name, "colour": colour, "fails": [], "steps": pts,
            "points": [(x, y, f"{name}: {what} {y:.4f} after epoch {x:g}") for x, y in pts]}


def progress(run_dir: str | Path) -> str | None:
    """One line on a one-shot run's supernet and ranking (None for a multi-trial run): what a run
    stopped before its first pick has to show."""
    path = Path(run_dir) / STORE_NAME
    if not path.is_file():
        return None
    con = connect_readonly(path)
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'oneshot_epochs'").fetchone():
            return None
        row = con.execute("SELECT value FROM run WHERE key = 'oneshot'").fetchone()
        oneshot = load_json(row[0], path, "table run, key 'oneshot'", "value", dict) if row else {}
        epochs = con.execute("SELECT COALESCE(MAX(epoch), 0) FROM oneshot_epochs").fetchone()[0]
        drawn, scored = con.execute("SELECT COUNT(*), COUNT(shared_accuracy) FROM oneshot_archs "
                                    "WHERE phase IN ('rank', 'derived')").fetchone()
    finally:
        con.close()
    ranking = f"{scored} of {drawn} architectures scored" if drawn else "not started"
    return f"supernet: {epochs} of {oneshot.get('epochs', '?')} epochs trained; ranking: {ranking}"


def section(run_dir: str | Path, _chart) -> str:
    """HTML for a one-shot run folder ('' for a multi-trial one); `_chart` draws a chart the way the
    rest of the report does (report_html._chart, passed in: report_html imports this module)."""
    path = Path(run_dir) / STORE_NAME
    if not path.is_file():
        return ""
    con = connect_readonly(path)
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'oneshot_epochs'").fetchone():
            return ""
        config = load_json((con.execute("SELECT value FROM run WHERE key = 'config'").fetchone() or ["{}"])[0],
                           path, "table run, key 'config'", "value", dict)
        rows = [(e, load_json(info, path, f"table oneshot_epochs, epoch {e}", "info", dict))
                for e, info in con.execute("SELECT epoch, info FROM oneshot_epochs ORDER BY epoch")]
        trials = con.execute("SELECT id, reward, meta FROM trials WHERE status = 'done' ORDER BY id").fetchall()
        kept = con.execute("SELECT value FROM run WHERE key = 'space'").fetchone()  # the run's own space
        space = load_json(kept[0], path, "table run, key 'space'", "value", dict) if kept else None
    finally:
        con.close()
    ops = config.get("space")
    parts = [f"<h2>One-shot search ({escape(str(config.get('strategy')))}, space {escape(str(ops))})</h2>",
             f'<p class="summary">{escape(progress(run_dir) or "")}</p>']
    if not rows:
        return "\n".join(parts)
    fmt = lambda v: f"{v:g}"  # noqa: E731
    parts.append(_chart([_line("supernet loss", PALETTE[0], [(e, i["loss"]) for e, i in rows], "loss")],
                        "supernet epoch", "training loss", fmt, height=260))
    if "entropy" in rows[0][1]:
        parts.append("<h3>Controller entropy over time</h3>")
        parts.append(_chart([_line("entropy", PALETTE[1], [(e, i["entropy"]) for e, i in rows], "entropy")],
                            "supernet epoch", "summed entropy of the decisions", fmt, height=260))
        parts.append(_chart([_line("mean reward", PALETTE[2], [(e, i["mean_reward"]) for e, i in rows], "reward")],
                            "supernet epoch", "controller reward (shared weights)", fmt, height=260))
    if "alphas" in rows[0][1]:
        if space is None:  # a run folder made before runs kept their space
            from .space import load_space

            space = {"ops": load_space(config.get("space", "darts")).ops}
        names = space["ops"]
        for kind in ("normal", "reduction"):
            series = []
            for o, name in enumerate(names):
                pts = []
                for e, info in rows:
                    w = [edge[o] for block in info["alphas"][kind] for edge in block]
                    pts.append((e, sum(w) / len(w)))
                series.append(_line(name, PALETTE[o % len(PALETTE)], pts, "mean weight"))
            parts.append(f"<h3>Architecture weights, {kind} cell (softmax, mean over edges)</h3>")
            parts.append(_chart(series, "supernet epoch", "mean op weight", fmt, height=300))
    picks = [(tid, reward, load_json(meta, path, f"table trials, id {tid}", "meta", dict)) for tid, reward, meta in trials]
    picks = [(tid, r, m) for tid, r, m in picks if "shared_accuracy" in m]
    if picks:
        body = "".join(f"<tr><td>{tid}</td><td>{m.get('oneshot_rank')}</td><td>{m['shared_accuracy']:.4f}</td>"
                       f"<td>{r:.4f}</td></tr>" for tid, r, m in picks)
        parts.append("<h3>Picks trained stand-alone</h3><table><tr><th>trial</th><th>one-shot rank</th>"
                     f"<th>shared-weight accuracy</th><th>stand-alone reward</th></tr>{body}</table>")
    return "\n".join(parts)
