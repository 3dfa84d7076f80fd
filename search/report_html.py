"""The search report: one self-contained HTML file (inline SVG, CSS and a little JS; no network).

`render_report(trials)` turns trial dicts into the page; `write_report(run_dir)` reads the run's
SQLite store and writes `run_dir/report.html`. A trial dict has the keys
    id, strategy, status, reward (float or None), nas (the .nas text), params, madds,
    started, finished (epoch seconds or ISO-8601 text; either may be None)
and may have `error` (why it failed), `seconds` (its work's wall time) and `proposed` (when the
strategy proposed it). Rows of `nasdsl_search.store`'s table (started_at, finished_at, proposed_at) are
read as such. Charts and tables are drawn here, in plain SVG.
"""
from __future__ import annotations

import contextlib
import math
import os
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from nasdsl.errors import NasError
from nasdsl.lang import ast

from .store import STORE_NAME, WAITING_SQL, connect_readonly, load_json

# strategy colours (colour-blind friendly), handed out in sorted strategy-name order
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#f0e442", "#000000")
PENDING = {"pending", "running", "queued", "started", "interrupted", "waiting"}
TOP = 10


# ---------------------------------------------------------------------------------------- data
def _time(v: Any) -> float | None:
    if v is None or v == "":
        return None
    if isinstance(v, int | float):
        return float(v)
    try:
        return datetime.fromisoformat(str(v)).timestamp()
    except ValueError:
        return None


def _reward(t: Mapping[str, Any]) -> float | None:
    r = t.get("reward")
    if r is None:
        return None
    try:
        r = float(r)
    except (TypeError, ValueError):
        return None
    return r if math.isfinite(r) else None


def _state(t: Mapping[str, Any]) -> str:
    """ok (has a reward) | pending | failed."""
    if _reward(t) is not None:
        return "ok"
    return "pending" if str(t.get("status", "")).lower() in PENDING else "failed"


def _human(v: Any) -> str:
    if v is None or v == "":
        return "—"
    v = float(v)
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(v) >= scale:
            return f"{v / scale:.3g}{unit}"
    return f"{v:.3g}"


def _dur(s: float | None) -> str:
    if s is None:
        return "—"
    s = max(0.0, s)
    if s == 0:
        return "0s"
    if s < 0.01:
        return "<0.01s"
    if s < 60:
        return f"{s:.2f}s" if s < 10 else f"{s:.1f}s"
    m, sec = divmod(round(s), 60)
    if m < 60:
        return f"{m}m{sec:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m"


def _t0(trials: Sequence[Mapping[str, Any]]) -> float | None:
    """When the run began: the earliest time any trial carries."""
    times = [_time(t.get(k)) for t in trials for k in ("proposed", "started", "finished")]
    return min((v for v in times if v is not None), default=None)


def _seconds(t: Mapping[str, Any]) -> float | None:
    if t.get("seconds") is not None:
        return float(t["seconds"])
    st, fin = _time(t.get("started")), _time(t.get("finished"))
    return fin - st if st is not None and fin is not None else None


def _colours(trials: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    names = sorted({str(t.get("strategy") or "?") for t in trials})
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}


# ---------------------------------------------------------------------------------------- charts
def _nice_ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [round(k * step, 10) for k in range(first, max(last, first + 1) + 1)]


def _finite_only(s: dict) -> dict:
    ok = math.isfinite
    return {**s, "points": [p for p in s["points"] if ok(p[0]) and ok(p[1])],
            "steps": [p for p in s["steps"] if ok(p[0]) and ok(p[1])],
            "fails": [f for f in s["fails"] if ok(f[0])]}


def _chart(series: list[dict], x_label: str, y_label: str, x_fmt, width: int = 1100, height: int = 340) -> str:
    """An SVG scatter/step chart. Each series: name, colour, points [(x, y, tip)], steps [(x, y)],
    fails [(x, tip)] (drawn as crosses under the axis)."""
    left, right, top, bottom = 64, 180, 16, 52
    pw, ph = width - left - right, height - top - bottom
    series = [_finite_only(s) for s in series]  # a diverged training's NaN loss is no place on a chart
    xs = [p[0] for s in series for p in s["points"]] + [f[0] for s in series for f in s["fails"]]
    ys = [p[1] for s in series for p in s["points"]]
    x_ticks = _nice_ticks(min(xs + [0.0]), max(xs + [1.0]))
    y_lo, y_hi = (min(ys), max(ys)) if ys else (0.0, 1.0)
    pad = (y_hi - y_lo) * 0.08 or 0.05
    y_ticks = _nice_ticks(y_lo - pad, y_hi + pad, 5)
    x0, x1, y0, y1 = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]

    def X(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * pw

    def Y(v: float) -> float:
        return top + ph - (v - y0) / (y1 - y0) * ph

    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" '
           f'font-size="11">'), (f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#ffffff" '
           f'stroke="#bbbbbb"/>')]
    for t in y_ticks:
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{Y(t):.1f}" y2="{Y(t):.1f}" stroke="#eeeeee"/>'
                   f'<text x="{left - 6}" y="{Y(t) + 4:.1f}" text-anchor="end" fill="#444">{t:g}</text>')
    for t in x_ticks:
        out.append(f'<line x1="{X(t):.1f}" x2="{X(t):.1f}" y1="{top + ph}" y2="{top + ph + 4}" stroke="#888"/>'
                   f'<text x="{X(t):.1f}" y="{top + ph + 16}" text-anchor="middle" fill="#444">'
                   f'{escape(x_fmt(t))}</text>')
    out.append(f'<text x="{left + pw / 2:.1f}" y="{height - 8}" text-anchor="middle" fill="#222">'
               f'{escape(x_label)}</text>')
    out.append(f'<text transform="translate(16,{top + ph / 2:.1f}) rotate(-90)" text-anchor="middle" '
               f'fill="#222">{escape(y_label)}</text>')
    for s in series:
        c = s["colour"]
        if s["steps"]:
            pts = []
            for i, (x, y) in enumerate(s["steps"]):
                if i:
                    pts.append(f"{X(x):.1f},{Y(s['steps'][i - 1][1]):.1f}")
                pts.append(f"{X(x):.1f},{Y(y):.1f}")
            out.append(f'<polyline class="best" points="{" ".join(pts)}" fill="none" stroke="{c}" '
                       f'stroke-width="2.2"/>')
        for x, y, tip in s["points"]:
            out.append(f'<circle class="trial" cx="{X(x):.1f}" cy="{Y(y):.1f}" r="3.6" fill="{c}" '
                       f'fill-opacity="0.55" stroke="{c}"><title>{escape(tip)}</title></circle>')
        for x, tip in s["fails"]:
            px, py = X(x), top + ph - 6
            out.append(f'<path class="failed" d="M{px - 3:.1f},{py - 3:.1f} L{px + 3:.1f},{py + 3:.1f} '
                       f'M{px - 3:.1f},{py + 3:.1f} L{px + 3:.1f},{py - 3:.1f}" stroke="{c}" stroke-width="1.6">'
                       f'<title>{escape(tip)}</title></path>')
    ly = top + 6
    for s in series:
        n_ok, n_fail = len(s["points"]), len(s["fails"])
        out.append(f'<line x1="{left + pw + 14}" x2="{left + pw + 34}" y1="{ly + 5}" y2="{ly + 5}" '
                   f'stroke="{s["colour"]}" stroke-width="2.2"/><circle cx="{left + pw + 24}" cy="{ly + 5}" '
                   f'r="3.6" fill="{s["colour"]}" fill-opacity="0.55" stroke="{s["colour"]}"/>'
                   f'<text x="{left + pw + 40}" y="{ly + 9}" fill="#222">{escape(s["name"])}</text>'
                   f'<text x="{left + pw + 40}" y="{ly + 23}" fill="#777" font-size="10">{n_ok} scored'
                   + (f", {n_fail} failed (×)" if n_fail else "") + "</text>")
        ly += 36
    out.append(f'<text x="{left + pw + 14}" y="{ly + 8}" fill="#777" font-size="10">line: best so far</text>')
    out.append("</svg>")
    return "\n".join(out)


def _series(trials: list[dict], colours: dict[str, str], by_time: bool) -> list[dict]:
    """Per strategy: scored points, failures, best-so-far steps; x = seconds since the run began
    (by_time) or the number of that strategy's trials finished so far."""
    t0 = _t0(trials)
    series = []
    for name, colour in colours.items():
        mine = [t for t in trials if str(t.get("strategy") or "?") == name and _state(t) != "pending"]
        mine.sort(key=lambda t: (_time(t.get("finished")) or 0.0, _sort_id(t)))
        points, fails, steps = [], [], []
        best = None
        for i, t in enumerate(mine, 1):
            fin = _time(t.get("finished"))
            x = (fin - t0) if (by_time and fin is not None and t0 is not None) else float(i)
            r = _reward(t)
            when = f"at {_dur(x)}" if by_time else f"trial {i} of {name}"
            if r is None:
                fails.append((x, f"trial {t.get('id')} ({name}) failed {when}: {t.get('error') or t.get('status')}"))
                continue
            points.append((x, r, f"trial {t.get('id')} ({name}): reward {r:.4f} {when}"))
            if best is None or r > best:
                best = r
            steps.append((x, best))
        if points or fails:
            series.append({"name": name, "colour": colour, "points": points, "fails": fails, "steps": steps})
    return series


STOPPED = "#b8b8b8"


def _rung_chart(trials: list[dict], rungs: Sequence[Mapping[str, Any]], colours: dict[str, str],
                width: int = 1100, height: int = 340) -> str:
    """Held-out accuracy against epochs trained, one line per trial through the rungs it reached.
    Trials stopped below the top rung are grey; those that reached it take their strategy's colour."""
    left, right, top, bottom = 64, 180, 16, 52
    pw, ph = width - left - right, height - top - bottom
    lines: dict[Any, list[tuple[float, float]]] = {}
    for r in sorted(rungs, key=lambda r: (_sort_id({"id": r["trial"]}), r["rung"])):
        lines.setdefault(r["trial"], []).append((float(r["epochs"]), float(r["accuracy"])))
    strategy = {t.get("id"): str(t.get("strategy") or "?") for t in trials}
    max_epochs = max(x for pts in lines.values() for x, _ in pts)
    xs = sorted({x for pts in lines.values() for x, _ in pts})
    ys = [y for pts in lines.values() for _, y in pts]
    pad = (max(ys) - min(ys)) * 0.08 or 0.05
    y_ticks = _nice_ticks(min(ys) - pad, max(ys) + pad, 5)
    y0, y1 = y_ticks[0], y_ticks[-1]

    def X(v: float) -> float:  # log scale: rungs are geometric
        lo, hi = math.log(xs[0]), math.log(max_epochs)
        return left + (0.5 if hi == lo else (math.log(v) - lo) / (hi - lo)) * pw

    def Y(v: float) -> float:
        return top + ph - (v - y0) / (y1 - y0) * ph

    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart rungs" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" '
            f'font-size="11">'), f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="#bbb"/>']
    for t in y_ticks:
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{Y(t):.1f}" y2="{Y(t):.1f}" stroke="#eee"/>'
                   f'<text x="{left - 6}" y="{Y(t) + 4:.1f}" text-anchor="end" fill="#444">{t:g}</text>')
    for x in xs:
        out.append(f'<line x1="{X(x):.1f}" x2="{X(x):.1f}" y1="{top}" y2="{top + ph + 4}" stroke="#eee"/>'
                   f'<text x="{X(x):.1f}" y="{top + ph + 16}" text-anchor="middle" fill="#444">{x:g}</text>')
    out.append(f'<text x="{left + pw / 2:.1f}" y="{height - 8}" text-anchor="middle" fill="#222">'
               f'epochs trained (rungs)</text><text transform="translate(16,{top + ph / 2:.1f}) rotate(-90)" '
               f'text-anchor="middle" fill="#222">held-out accuracy</text>')
    # stopped trials first, so that those that reached the top rung are drawn over them
    order = sorted(lines, key=lambda k: (lines[k][-1][0] >= max_epochs, _sort_id({"id": k})))
    n_stopped = 0
    for k in order:
        pts = lines[k]
        stopped = pts[-1][0] < max_epochs
        n_stopped += stopped
        c = STOPPED if stopped else colours.get(strategy.get(k, "?"), PALETTE[0])
        cls = "stopped" if stopped else "finished"
        tip = (f"trial {k}: " + ", ".join(f"{y:.4f} at {x:g} epochs" for x, y in pts)
               + (" (stopped)" if stopped else ""))
        if len(pts) > 1:
            out.append(f'<polyline class="rung-line {cls}" points="'
                       + " ".join(f"{X(x):.1f},{Y(y):.1f}" for x, y in pts)
                       + f'" fill="none" stroke="{c}" stroke-width="{1.2 if stopped else 2}"/>')
        for x, y in pts:
            out.append(f'<circle class="rung {cls}" cx="{X(x):.1f}" cy="{Y(y):.1f}" r="3.2" fill="{c}" '
                       f'fill-opacity="0.6" stroke="{c}"><title>{escape(tip)}</title></circle>')
    ly = top + 6
    out.append(f'<line x1="{left + pw + 14}" x2="{left + pw + 34}" y1="{ly + 5}" y2="{ly + 5}" stroke="{STOPPED}" '
               f'stroke-width="2"/><text x="{left + pw + 40}" y="{ly + 9}" fill="#222">stopped early '
               f'({n_stopped})</text>')
    ly += 22
    for name, c in colours.items():
        out.append(f'<line x1="{left + pw + 14}" x2="{left + pw + 34}" y1="{ly + 5}" y2="{ly + 5}" stroke="{c}" '
                   f'stroke-width="2"/><text x="{left + pw + 40}" y="{ly + 9}" fill="#222">{escape(name)}: '
                   f'to {max_epochs:g} epochs</text>')
        ly += 22
    out.append("</svg>")
    return "\n".join(out)


def _sort_id(t: Mapping[str, Any]) -> tuple:
    v = t.get("id")
    return (0, v, "") if isinstance(v, int | float) else (1, 0, str(v))


# ---------------------------------------------------------------------------------------- diagrams
def trial_cells(nas: str) -> list[ast.Cell]:
    """The cells a trial's .nas text defines (or, failing that, its network's cells)."""
    from nasdsl.lang.load import load_text
    from nasdsl.lang.parse import parse

    try:
        program = load_text(nas, "<trial>")
    except NasError:
        return list(parse(nas, "<trial>").cells.values())  # still draw what parses
    own = [i for i in program.main.items if isinstance(i, ast.Cell)]
    if own:
        return own
    names = [str(net.get(k)) for net in program.networks.values() for k in ("normal", "reduction") if net.get(k)]
    return [program.cells[n] for n in dict.fromkeys(names) if n in program.cells]


def _diagram(t: Mapping[str, Any]) -> str:
    from nasdsl.viz.draw import svg

    nas = str(t.get("nas") or "")
    if not nas.strip():
        return '<p class="muted">no .nas text stored</p>'
    try:
        cells = trial_cells(nas)
        if not cells:
            return '<p class="muted">the text defines no cell</p>'
        return svg(cells, id_prefix=f"t{_slug(t.get('id'))}-")
    except NasError as e:
        return f'<pre class="error">{escape(e.render())}</pre>'


def _slug(v: Any) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in str(v))


# ---------------------------------------------------------------------------------------- page
CSS = """
body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1400px;padding:0 16px;color:#222}
h1{font-size:22px;margin:0 0 4px} h1 small{color:#777;font-weight:normal;font-size:15px}
h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.muted{color:#777} .summary{margin:4px 0 12px}
table{border-collapse:collapse;font-size:13px} th,td{padding:4px 10px;text-align:left;border-bottom:1px solid #eee}
th{background:#f4f4f4;position:sticky;top:0} td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
table.sortable th{cursor:pointer} table.sortable th:hover{background:#e8e8e8}
tr.detail td{padding:6px 10px 18px;border-bottom:2px solid #ccc}
.diagram{overflow-x:auto} .diagram svg{max-width:100%;height:auto;display:block}
details.nas{margin-top:6px} details.nas summary{cursor:pointer;color:#555;font-size:12px}
pre.nas{background:#f7f7f7;border:1px solid #e3e3e3;padding:8px;font-size:12px;margin:4px 0 0;
 white-space:pre-wrap;overflow-wrap:anywhere;columns:2 420px;column-gap:24px} pre.error{color:#b00020;white-space:pre-wrap}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
svg.chart{max-width:100%;height:auto}
.state-failed{color:#b00020} .state-pending{color:#777}
"""

JS = """
(function(){
  function key(td){var v=td.getAttribute('data-sort');if(v===null)v=td.textContent;
    var f=parseFloat(v);return isNaN(f)?v.toLowerCase():f;}
  document.querySelectorAll('table.sortable').forEach(function(table){
    table.querySelectorAll('th').forEach(function(th,col){
      th.addEventListener('click',function(){
        var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
        var dir=th.getAttribute('data-dir')==='asc'?-1:1;th.setAttribute('data-dir',dir>0?'asc':'desc');
        rows.sort(function(a,b){var x=key(a.cells[col]),y=key(b.cells[col]);
          return (x<y?-1:x>y?1:0)*dir;});
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
  });
  document.body.setAttribute('data-report-ready','1');
})();
"""


def render_report(trials: Sequence[Mapping[str, Any]], title: str = "search run", top: int = TOP,
                  rungs: Sequence[Mapping[str, Any]] = (), run: str | None = None, extra: str = "") -> str:
    """The whole report page as one HTML string (self-contained, deterministic). `rungs`: the rung
    results of an early-stopped run (dicts with trial, rung, epochs, accuracy), drawn as a rung chart.
    `run`: one line on how the run was executed (executor, cluster address, nodes), under the title.
    `extra`: more HTML sections (a one-shot run's curves, search/oneshot_report.py)."""
    trials = [dict(t) for t in trials]
    trials.sort(key=_sort_id)
    colours = _colours(trials)
    scored = [t for t in trials if _state(t) == "ok"]
    failed = [t for t in trials if _state(t) == "failed"]
    pending = [t for t in trials if _state(t) == "pending"]
    ranked = sorted(scored, key=lambda t: (-_reward(t), _sort_id(t)))
    parts = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>nasdsl search report: {escape(title)}</title>", f"<style>{CSS}</style></head><body>",
             f"<h1>Search report <small>{escape(title)}</small></h1>"]
    ends = [_time(t.get("finished")) for t in trials if _time(t.get("finished")) is not None]
    span = (max(ends) - _t0(trials)) if ends else None
    line = (f"{len(trials)} trials: {len(scored)} scored, {len(failed)} failed"
            + (f", {len(pending)} pending" if pending else "") + f"; {len(colours)} strateg"
            + ("y" if len(colours) == 1 else "ies") + (f"; wall time {_dur(span)}" if span is not None else ""))
    if ranked:
        b = ranked[0]
        line += f". Best reward {_reward(b):.4f} (trial {escape(str(b.get('id')))}, {escape(str(b.get('strategy')))})."
    parts.append(f'<p class="summary">{line}</p>')
    if run:
        parts.append(f'<p class="run">{escape(run)}</p>')
    if not trials:  # a one-shot run stopped before its first pick still shows its supernet (`extra`)
        parts += ['<p class="muted">No trials yet.</p>', extra, "</body></html>"]
        return "\n".join(parts) + "\n"

    by_time = any(_time(t.get("finished")) is not None for t in trials)
    parts.append("<h2>Reward of every trial over time</h2>")
    parts.append(_chart(_series(trials, colours, by_time), "time since the run began" if by_time else "trial",
                        "reward", _dur if by_time else (lambda v: f"{v:g}")))
    parts.append("<h2>Best so far by trials spent</h2>")
    parts.append(_chart(_series(trials, colours, False), "trials finished (per strategy)", "best reward",
                        lambda v: f"{v:g}", height=300))
    if rungs:
        parts.append("<h2>Early stopping: accuracy at each rung</h2>")
        parts.append(_rung_chart(trials, rungs, colours))
    parts.append(_strategy_table(trials, colours))
    parts.append(_top_table(ranked[:top], colours))
    parts.append(_all_table(trials, colours))
    parts.append(extra)  # e.g. a one-shot run's curves (search/oneshot_report.py)
    parts.append(f"<script>{JS}</script></body></html>")
    return "\n".join(parts) + "\n"


def _strategy_table(trials: list[dict], colours: dict[str, str]) -> str:
    rows = []
    for name, c in colours.items():
        mine = [t for t in trials if str(t.get("strategy") or "?") == name]
        rs = [_reward(t) for t in mine if _reward(t) is not None]
        best = max(rs) if rs else None
        best_id = next((t.get("id") for t in sorted(mine, key=_sort_id) if _reward(t) == best), None) if rs else None
        fails = sum(_state(t) == "failed" for t in mine)
        rows.append(f'<tr><td><span class="swatch" style="background:{c}"></span>{escape(name)}</td>'
                    f'<td class="num">{len(mine)}</td><td class="num">{len(rs)}</td><td class="num">{fails}</td>'
                    f'<td class="num">{f"{best:.4f}" if rs else "—"}</td>'
                    f'<td class="num">{f"{sum(rs) / len(rs):.4f}" if rs else "—"}</td>'
                    f'<td class="num">{escape(str(best_id)) if rs else "—"}</td></tr>')
    return ("<h2>Strategies</h2><table><thead><tr><th>strategy</th><th class=num>trials</th><th class=num>scored"
            "</th><th class=num>failed</th><th class=num>best</th><th class=num>mean</th><th class=num>best trial"
            "</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _top_table(ranked: list[dict], colours: dict[str, str]) -> str:
    if not ranked:
        return '<h2>Top trials</h2><p class="muted">No trial has a reward yet.</p>'
    rows = []
    for rank, t in enumerate(ranked, 1):
        s = str(t.get("strategy") or "?")
        dur = _seconds(t)
        rows.append(f'<tr class="trial-row" id="trial-{_slug(t.get("id"))}"><td class="num">{rank}</td>'
                    f'<td>{escape(str(t.get("id")))}</td>'
                    f'<td><span class="swatch" style="background:{colours[s]}"></span>{escape(s)}</td>'
                    f'<td class="num">{_reward(t):.4f}</td><td class="num">{_human(t.get("params"))}</td>'
                    f'<td class="num">{_human(t.get("madds"))}</td><td class="num">{_dur(dur)}</td></tr>')
        rows.append(f'<tr class="detail"><td colspan="7"><div class="diagram">{_diagram(t)}</div>'
                    f'<details class="nas" open><summary>.nas text</summary>'
                    f'<pre class="nas">{escape(str(t.get("nas") or ""))}</pre></details></td></tr>')
    return (f"<h2>Top {len(ranked)} trials</h2><table class=top><thead><tr><th class=num>rank</th><th>trial</th>"
            "<th>strategy</th><th class=num>reward</th><th class=num>params</th><th class=num>mult-adds</th>"
            "<th class=num>train time</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _all_table(trials: list[dict], colours: dict[str, str]) -> str:
    t0 = _t0(trials)
    rows = []
    for t in trials:
        s, state, r = str(t.get("strategy") or "?"), _state(t), _reward(t)
        fin = _time(t.get("finished"))
        at = (fin - t0) if (fin is not None and t0 is not None) else None
        note = "" if state == "ok" else str(t.get("error") or t.get("status") or state)
        rows.append(f'<tr><td data-sort="{escape(str(_sort_id(t)[1] or t.get("id")))}">{escape(str(t.get("id")))}'
                    f'</td><td><span class="swatch" style="background:{colours[s]}"></span>{escape(s)}</td>'
                    f'<td class="state-{state}">{state}</td>'
                    f'<td class="num" data-sort="{r if r is not None else -1e300}">'
                    f'{f"{r:.4f}" if r is not None else "—"}</td>'
                    f'<td class="num" data-sort="{float(t.get("params") or 0)}">{_human(t.get("params"))}</td>'
                    f'<td class="num" data-sort="{float(t.get("madds") or 0)}">{_human(t.get("madds"))}</td>'
                    f'<td class="num" data-sort="{at if at is not None else -1}">{_dur(at)}</td>'
                    f"<td>{escape(_where(t))}</td><td>{escape(note[:200])}</td></tr>")
    return (f"<h2>All trials</h2><details><summary>{len(trials)} trials (click a column to sort)</summary>"
            "<table class=sortable><thead><tr><th>trial</th><th>strategy</th><th>state</th><th class=num>reward"
            "</th><th class=num>params</th><th class=num>mult-adds</th><th class=num>finished at</th><th>where</th>"
            "<th>note</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></details>")


def _where(t: Mapping[str, Any]) -> str:
    """Where a trial ran: the host (local pool), or IP/Ray node id; with the pid."""
    node, host, ip, pid = t.get("node"), t.get("host"), t.get("ip"), t.get("pid")
    if node is None and host is None:
        return "—"
    place = (host or "?") if node in (None, "local") else f"{ip or host or '?'}/{str(node)[:8]}"
    return place + (f" pid {pid}" if pid is not None else "")


# ---------------------------------------------------------------------------------------- files
def write_report_from_trials(trials: Sequence[Mapping[str, Any]], path: str | Path, title: str = "search run",
                             top: int = TOP, rungs: Sequence[Mapping[str, Any]] = (), run: str | None = None,
                             extra: str = "") -> Path:
    """Render `trials` (and an early-stopped run's `rungs`) into the HTML file `path`."""
    path = Path(path)
    page = render_report(trials, title, top, rungs, run, extra)
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as e:
        raise NasError(f"{path}: cannot write the report ({e.strerror or e})") from None
    return path


def write_report(run_dir: str | Path, top: int = TOP, compare: Sequence[str | Path] = ()) -> Path:
    """Read every trial of the run in `run_dir` from its SQLite store; write `run_dir/report.html`.
    `compare`: other run folders whose trials join the charts and tables (each run's clock starts at
    its own beginning; a strategy that ran in several folders is labelled with the folder's name)."""
    run_dir = Path(run_dir)
    runs = [run_dir, *(Path(c) for c in compare)]
    label = dict(zip(runs, run_labels(runs)))
    loaded = [(r, load_trials(r)) for r in runs]
    title = label[run_dir]
    rungs = load_rungs(run_dir)  # the rung chart shows this run's rungs
    if len(runs) == 1:
        trials = loaded[0][1]
    else:
        title += " compared with " + ", ".join(label[r] for r in runs[1:])
        seen: dict[str, int] = {}
        for _, ts in loaded:
            for name in {str(t.get("strategy") or "?") for t in ts}:
                seen[name] = seen.get(name, 0) + 1
        trials = []
        for r, ts in loaded:
            t0 = _t0(ts) or 0.0
            for t in ts:
                t = dict(t)
                for k in ("proposed", "started", "finished"):
                    if _time(t.get(k)) is not None:
                        t[k] = _time(t.get(k)) - t0
                name = str(t.get("strategy") or "?")
                t["strategy"] = f"{name} ({label[r]})" if seen[name] > 1 else name
                t["id"] = f"{label[r]}/{t.get('id')}"
                trials.append(t)
        rungs = [{**x, "trial": f"{label[run_dir]}/{x['trial']}"} for x in rungs]
    from .oneshot_report import section

    return write_report_from_trials(trials, run_dir / "report.html", title, top, rungs, run_line_of(run_dir),
                                    section(run_dir, _chart))


def run_labels(runs: Sequence[Path]) -> list[str]:
    """A name per run folder: its own name, or as many of its last path parts as tell it from the
    others (a/run, b/run). The same folder twice is a NasError (its trials would count twice)."""
    paths = [Path(os.path.abspath(r)).resolve() for r in runs]
    for i, p in enumerate(paths):
        if p in paths[:i]:
            raise NasError(f"{runs[i]}: the same run folder as {runs[paths.index(p)]}; compare different runs")
    for k in range(1, max(len(p.parts) for p in paths) + 1):
        labels = ["/".join(p.parts[-k:]) for p in paths]
        if len(set(labels)) == len(labels):
            return labels
    return [str(p) for p in paths]


def load_rungs(run_dir: Path) -> list[dict]:
    """The rung results of an early-stopped run (none for other runs, or stores older than them)."""
    path = Path(run_dir) / STORE_NAME
    if not path.is_file():
        return []
    con = connect_readonly(path)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT trial, rung, epochs, accuracy, seconds FROM rungs ORDER BY rowid")]
    except sqlite3.Error:
        return []
    finally:
        con.close()


def run_line(data: dict) -> str:
    """How the run was executed: the executor, the cluster's address and nodes (last session)."""
    ex, cl = data.get("executor") or {}, data.get("cluster") or {}
    name = cl.get("executor") or ex.get("executor")
    if not name:
        return "executor: unknown (run made before executors were recorded)"
    if name == "driver":  # a one-shot run
        return (f"executor: none; the driver trains the supernet and its picks, one at a time, on "
                f"{cl.get('host') or 'this machine'} ({cl.get('device') or 'cpu'})")
    line = f"executor {name}"
    if name == "ray":
        address = cl.get("address") or ex.get("address") or "local"
        line += " on a cluster started by nasdsl" if address == "local" else f" at {address}"
        if cl.get("gcs") and cl.get("gcs") != address:
            line += f" ({cl['gcs']})"
        nodes = cl.get("nodes") or []
        if nodes:
            line += f", {len(nodes)} node{'s' if len(nodes) != 1 else ''} " + \
                ", ".join(f"{n.get('ip')} ({n.get('cpus', 0):g} CPU, {n.get('gpus', 0):g} GPU)" for n in nodes)
    else:
        line += f", {ex.get('workers', '?')} workers on {cl.get('host') or 'this machine'}"
    return line


def run_line_of(run_dir: Path) -> str | None:
    """The run's executor line (see report_cli.run_line) from the store's run table, if recorded."""
    if not (run_dir / STORE_NAME).is_file():
        return None
    path = run_dir / STORE_NAME
    con = connect_readonly(path)
    try:
        rows = dict(con.execute("SELECT key, value FROM run WHERE key IN ('executor', 'cluster')").fetchall())
    except sqlite3.Error:
        return None
    finally:
        con.close()
    return run_line({k: load_json(v, path, f"table run, key {k!r}", "value", dict) for k, v in rows.items()}) \
        if rows else None


def load_trials(run_dir: Path) -> list[dict]:
    """The run's trials as dicts, read straight from the SQLite store in `run_dir` (the `trials` table
    of `nasdsl_search.store`; read with sqlite3 so that a report needs neither torch nor a running search)."""
    dbs = [run_dir / STORE_NAME] if (run_dir / STORE_NAME).is_file() else \
        sorted(p for pat in ("*.sqlite", "*.sqlite3", "*.db") for p in run_dir.glob(pat))
    if not run_dir.is_dir() or not dbs:
        raise NasError(f"{run_dir}: not a search run folder (no {STORE_NAME} in it)")
    try:
        con = connect_readonly(dbs[0])
    except sqlite3.Error as e:
        raise NasError(f"{dbs[0]}: cannot read trials: {e}") from None
    con.row_factory = sqlite3.Row
    waiting: set = set()
    try:
        rows = [dict(r) for r in con.execute("SELECT * FROM trials")]
        with contextlib.suppress(sqlite3.Error):  # none: not an early-stopped run, or another tool's store
            waiting = {r[0] for r in con.execute(WAITING_SQL)}
    except sqlite3.Error as e:
        raise NasError(f"{dbs[0]}: cannot read trials: {e}") from None
    finally:
        con.close()
    from .runlock import driver_alive

    alive = driver_alive(run_dir)
    return [_normalise({**r, "status": running_status(r.get("status"), r.get("id") in waiting, alive)})
            for r in rows]


def running_status(status: Any, waiting: bool, driver_alive: bool) -> Any:
    """What a stored status means now: a running trial is `waiting` at a rung (ASHA will promote or
    stop it; it is not training), or `interrupted` once no driver holds the run (--resume runs it again)."""
    if status != "running":
        return status
    return "waiting" if waiting else "running" if driver_alive else "interrupted"


# column names other spellings map to
_ALIASES = {"nas": ("nas", "nas_text", "text", "source"), "madds": ("madds", "mult_adds", "macs"),
            "started": ("started", "started_at", "start_time"), "finished": ("finished", "finished_at", "end_time"),
            "proposed": ("proposed", "proposed_at"),
            "id": ("id", "trial_id", "trial"), "strategy": ("strategy", "controller")}


def _normalise(row: dict) -> dict:
    out = dict(row)
    for key, names in _ALIASES.items():
        for n in names:
            if n in row and row[n] is not None:
                out[key] = row[n]
                break
    return out
