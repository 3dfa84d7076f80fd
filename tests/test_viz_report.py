"""The search report: one self-contained HTML file, checked as text and in headless chromium."""
from __future__ import annotations

import json
import random
import re
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET

import pytest
from PIL import Image
from references import missing

from nasdsl.errors import NasError
from nasdsl.ir.cost import cost
from nasdsl.lang import ast
from nasdsl.lang.load import load, load_text
from nasdsl_search.report_html import render_report, write_report, write_report_from_trials

OPS = ("id", "sep3x3", "sep5x5", "sep7x7", "avg3x3", "max3x3", "conv1x1", "conv3x3", "conv1x7_7x1", "dil3x3")
T0 = 1_764_400_000.0  # run start, epoch seconds


# ------------------------------------------------------------------ real trials: zoo cells, mutated
def cell_text(cell: ast.Cell, name: str, kind: str) -> str:
    lines = [f"cell {name} : {kind} {{"]
    for b in cell.blocks:
        branches = [f"{br.op}({br.input})" for br in b.branches]
        rhs = " + ".join(branches) if b.combine == "add" else f"{b.combine}({', '.join(branches)})"
        lines.append(f"    {b.name} = {rhs}")
    states = {"unused": "unused", "blocks": "blocks"}.get(cell.output.mode) or ", ".join(cell.output.states)
    return "\n".join([*lines, f"    out = concat({states})", "}"])


def mutate(cell: ast.Cell, rng: random.Random, n: int) -> ast.Cell:
    blocks = list(cell.blocks)
    for _ in range(n):
        i = rng.randrange(len(blocks))
        br = list(blocks[i].branches)
        j = rng.randrange(len(br))
        br[j] = ast.Branch(rng.choice(OPS), br[j].input)
        blocks[i] = ast.Block(blocks[i].name, blocks[i].combine, tuple(br))
    return ast.Cell(cell.name, cell.kind, tuple(blocks), cell.output)


def trial_text(normal: ast.Cell, reduce: ast.Cell) -> str:
    return (cell_text(normal, "normal_cell", "normal") + "\n\n" + cell_text(reduce, "reduce_cell", "reduction")
            + "\n\nnetwork proxy {\n    normal = normal_cell\n    reduction = reduce_cell\n    stem = cifar\n"
            "    cells = 1\n    filters = 8\n    image = 8\n    classes = 10\n    stem_multiplier = 1\n}\n")


def make_trials(n: int = 36, seed: int = 0) -> list[dict]:
    """`n` trials of three strategies (rewards improving noisily), a few failures and one still running."""
    rng = random.Random(seed)
    prog = load("nasnet_a_mobile")
    normal, reduce = prog.cells["nasnet_a_normal"], prog.cells["nasnet_a_reduce"]
    pnas = load("pnasnet5").cells["pnasnet5"]
    trials, clock = [], T0
    for i in range(n):
        s = ("ppo", "random", "evolution")[i % 3]
        base_n, base_r = (pnas, pnas) if i % 5 == 4 else (normal, reduce)
        nc, rc = mutate(base_n, rng, rng.randrange(0, 4)), mutate(base_r, rng, rng.randrange(0, 4))
        started = clock + rng.uniform(0, 5)
        clock += 25
        reward = round(0.55 + 0.3 * (i / n) * (1.2 if s == "ppo" else 0.9) + rng.uniform(-0.08, 0.08), 4)
        nas = trial_text(nc, rc)
        c = cost(load_text(nas, "<trial>"), network="proxy")  # real static cost of the proxy child
        t = {"id": i + 1, "strategy": s, "status": "ok", "reward": reward, "nas": nas, "params": int(c.params),
             "madds": int(c.madds), "started": started, "finished": started + rng.uniform(20, 90)}
        if i % 11 == 7:
            t.update(status="failed", reward=None, error="RuntimeError: out of memory")
        trials.append(t)
    trials.append({"id": n + 1, "strategy": "ppo", "status": "running", "reward": None,
                   "nas": trial_text(normal, reduce), "params": None, "madds": None, "started": clock,
                   "finished": None})
    return trials


def svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg .*?</svg>", html, flags=re.DOTALL)]


SVG = "{http://www.w3.org/2000/svg}"


# ------------------------------------------------------------------ the page as text
def test_report_has_charts_tables_and_diagrams():
    trials = make_trials()
    html = render_report(trials, "demo", top=10)
    assert html == render_report(list(reversed(trials)), "demo", top=10)  # deterministic, order-free
    figures = svgs(html)  # every inline SVG is well-formed XML
    charts, diagrams = figures[:2], figures[2:]
    scored = [t for t in trials if t["reward"] is not None]
    failed = [t for t in trials if t["status"] == "failed"]
    for chart in charts:  # one dot per scored trial, one cross per failure, a best-so-far line per strategy
        assert len([c for c in chart.iter(f"{SVG}circle") if c.get("class") == "trial"]) == len(scored)
        assert len([p for p in chart.iter(f"{SVG}path") if p.get("class") == "failed"]) == len(failed)
        assert len([p for p in chart.iter(f"{SVG}polyline") if p.get("class") == "best"]) == 3
    assert len(diagrams) == 10
    for d in diagrams:
        assert [g.get("data-cell") for g in d.iter(f"{SVG}g") if g.get("class") == "cell"] == \
            ["normal_cell", "reduce_cell"]
    best = sorted(scored, key=lambda t: (-t["reward"], t["id"]))[:10]
    rows = re.findall(r'<tr class="trial-row" id="trial-(\d+)">', html)
    assert [int(r) for r in rows] == [t["id"] for t in best]
    top = best[0]
    assert f"{top['reward']:.4f}" in html and "out = concat(b1, b2, b3, b4)" in html
    ids = re.findall(r'id="(t\d+-arrow)"', html)
    assert len(ids) == len(set(ids)) == 10  # inlined SVGs never share an id
    assert html.count('class="state-pending"') == 1 and html.count('class="state-failed"') == len(failed)
    # self-contained: no external resource of any kind
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {"http://www.w3.org/2000/svg"}


def test_report_of_no_trials_and_of_a_broken_trial():
    assert "No trials yet" in render_report([], "empty")
    bad = {"id": 1, "strategy": "random", "status": "ok", "reward": 0.5, "nas": "cell c { b0 = sep3x3(h0 }",
           "params": 1, "madds": 2, "started": T0, "finished": T0 + 3}
    html = render_report([bad], "broken")
    assert '<pre class="error">' in html and "missing &#x27;)&#x27;" in html


def make_store(run_dir, trials):
    """A run folder's trials.sqlite with nasdsl_search.store's `trials` columns, in WAL mode like the store."""
    con = sqlite3.connect(run_dir / "trials.sqlite")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE trials (id INTEGER PRIMARY KEY, strategy TEXT NOT NULL, status TEXT NOT NULL, "
                "nas TEXT NOT NULL, decisions TEXT NOT NULL, meta TEXT NOT NULL DEFAULT '{}', seed INTEGER NOT NULL, "
                "reward REAL, params INTEGER, madds INTEGER, error TEXT, proposed_at REAL NOT NULL, "
                "started_at REAL, finished_at REAL, seconds REAL, attempts INTEGER NOT NULL DEFAULT 0, "
                "observed INTEGER)")
    for t in trials:
        con.execute("INSERT INTO trials VALUES (?, ?, ?, ?, '[]', '{}', 0, ?, ?, ?, ?, ?, ?, ?, ?, 1, NULL)",
                    (t["id"], t["strategy"], {"ok": "done"}.get(t["status"], t["status"]), t["nas"], t["reward"],
                     t["params"], t["madds"], t.get("error"), t["started"] - 1.0, t["started"], t["finished"],
                     None if t["finished"] is None else t["finished"] - t["started"]))
    con.commit()
    return con  # left open, as a running search would


def test_write_report_reads_the_run_store(tmp_path):
    trials = make_trials(12)
    con = make_store(tmp_path, trials)
    out = write_report(tmp_path)
    con.close()
    assert out == tmp_path / "report.html"
    html = out.read_text()
    rows = re.findall(r'<tr class="trial-row" id="trial-(\d+)">', html)
    best = sorted((t for t in trials if t["reward"] is not None), key=lambda t: (-t["reward"], t["id"]))
    assert [int(r) for r in rows] == [t["id"] for t in best[:10]]
    assert html.count('class="state-pending"') == 1 and html.count('class="state-failed"') == 1
    assert len(svgs(html)) == 2 + 10
    with pytest.raises(NasError, match="not a search run folder"):
        write_report(tmp_path / "nowhere")


def test_write_report_compares_runs(tmp_path):
    a, b = tmp_path / "run_a", tmp_path / "run_b"
    a.mkdir()
    b.mkdir()
    ta = [t for t in make_trials(9, seed=1) if t["strategy"] == "ppo"]
    tb = [dict(t, finished=t["finished"] and t["finished"] + 5000, started=t["started"] + 5000)
          for t in make_trials(9, seed=2) if t["strategy"] in ("ppo", "random")]
    make_store(a, ta).close()
    make_store(b, tb).close()
    html = write_report(a, compare=[b]).read_text()
    assert "run_a compared with run_b" in html
    assert "ppo (run_a)" in html and "ppo (run_b)" in html and "random" in html  # ppo ran in both
    assert "run_b/" in html  # trial ids name their run
    chart = svgs(html)[0]
    ticks = [t.text for t in chart.iter(f"{SVG}text") if t.get("fill") == "#444" and t.text]
    assert "0s" in ticks and not any("h" in t for t in ticks)  # each run's clock starts at 0: no 5000 s gap


# ------------------------------------------------------------------ the page in a real browser
PROBE = """<script>
(function(){var errs=[];function note(m){errs.push(String(m));
  document.documentElement.setAttribute('data-errors',JSON.stringify(errs));}
  document.documentElement.setAttribute('data-errors','[]');
  window.addEventListener('error',function(e){note(e.message||('failed to load '+(e.target&&(e.target.src||e.target.href))));},true);
  window.addEventListener('unhandledrejection',function(e){note('unhandled rejection: '+e.reason);});
  var ce=console.error,cw=console.warn;
  console.error=function(){note([].join.call(arguments,' '));ce.apply(console,arguments);};
  console.warn=function(){note('warning: '+[].join.call(arguments,' '));cw.apply(console,arguments);};
  window.addEventListener('load',function(){var r=performance.getEntriesByType('resource').map(function(x){return x.name;});
    document.documentElement.setAttribute('data-resources',JSON.stringify(r));
    var th=document.querySelector('table.sortable th:nth-child(4)');
    if(th){th.click();th.click();var first=document.querySelector('table.sortable tbody tr td');
      document.documentElement.setAttribute('data-sorted-first',first?first.textContent:'');}});
})();
</script>"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def run_chromium(exe: str, url: str, profile, *extra: str) -> subprocess.CompletedProcess:
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
           "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0", *extra, url]
    return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120)


def browser_findings(exe: str, page, tmp_path) -> tuple[list[str], list[str], list[str], str]:
    """Console lines of the page as written; errors and resource requests its probed copy records."""
    run = run_chromium(exe, page.as_uri(), tmp_path / "plain", "--dump-dom")
    assert run.returncode == 0 and "</html>" in run.stdout, run.stderr[-2000:]  # else no console to read
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    probed = page.with_name("probed.html")
    probed.write_text(page.read_text().replace("<head>", "<head>" + PROBE, 1))
    run = run_chromium(exe, probed.as_uri(), tmp_path / "probed", "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout

    def attr(name: str) -> list[str]:
        return json.loads(re.search(name + r'="([^"]*)"', dom).group(1).replace("&quot;", '"'))
    return console, attr("data-errors"), attr("data-resources"), dom


@pytest.mark.slow
def test_browser_probe_catches_errors(tmp_path):
    """The harness itself: a page with a script error and a remote image must be caught."""
    exe = chromium()
    if exe is None:
        missing("chromium is not installed (Debian package: chromium)")
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
                    '<img src="https://example.invalid/x.png"><script>notDefined();</script></body></html>')
    console, errors, resources, _ = browser_findings(exe, page, tmp_path)
    assert any("notDefined" in line for line in console)
    assert any("notDefined" in e for e in errors) and any("example.invalid" in e for e in errors)
    assert resources == ["https://example.invalid/x.png"]


@pytest.mark.slow
def test_report_in_headless_chromium(tmp_path):
    exe = chromium()
    if exe is None:
        missing("chromium is not installed (Debian package: chromium)")
    report = write_report_from_trials(make_trials(), tmp_path / "report.html", "browser-test")
    console, errors, resources, dom = browser_findings(exe, report, tmp_path)
    assert console == [], console  # chromium logs every console message as a CONSOLE line
    assert errors == []
    assert resources == []  # nothing fetched: the file is self-contained
    assert 'data-report-ready="1"' in dom  # the page's own script ran to the end
    best = max((t for t in make_trials() if t["reward"] is not None), key=lambda t: t["reward"])
    assert f'data-sorted-first="{best["id"]}"' in dom  # clicking "reward" twice sorts best first
    assert dom.count('class="cell"') == 20  # 10 top trials x (normal + reduction) diagrams in the DOM
    # the screenshot shows the charts and the cell diagrams (their colours are on screen)
    shot = tmp_path / "shot.png"
    run = run_chromium(exe, report.as_uri(), tmp_path / "shot", "--window-size=1400,1800", f"--screenshot={shot}")
    assert run.returncode == 0, run.stderr[-2000:]
    img = Image.open(shot).convert("RGB")
    assert img.size == (1400, 1800)
    colours = {c for _, c in img.getcolors(maxcolors=1 << 22)}
    for rgb in ((0xB6, 0xD7, 0xA8), (0xFF, 0xE5, 0x99), (0xCF, 0xE2, 0xF3), (0xFD, 0xF2, 0xF0)):
        assert rgb in colours, rgb  # add boxes, concat, input states, reduction-cell background


def test_compared_runs_are_told_apart_and_never_counted_twice(tmp_path):
    """Two folders both named `run`: labelled a/run and b/run (both were `run`, trial ids alike);
    a run compared with itself is refused (its trials counted twice)."""
    a, b = tmp_path / "a" / "run", tmp_path / "b" / "run"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    make_store(a, make_trials(6, seed=1)).close()
    make_store(b, make_trials(6, seed=2)).close()
    html = write_report(a, compare=[b]).read_text()
    assert "a/run compared with b/run" in html and "b/run/" in html
    with pytest.raises(NasError, match="the same run folder as"):
        write_report(a, compare=[tmp_path / "a" / ".." / "a" / "run"])


def test_report_cli_checks_what_it_compares_before_any_output(tmp_path):
    from proc_helpers import run_cli

    run = tmp_path / "run"
    assert run_cli("search", "--reward", "synthetic", "--trials", "3", "--quiet", "--out", str(run)).returncode == 0
    r = run_cli("report", str(run), "--compare", str(tmp_path / "nosuch"))
    assert r.returncode == 2 and r.stdout == "" and "nosuch: no such run folder" in r.stderr, (r.stdout, r.stderr)
    r = run_cli("report", str(run), "--compare", str(run))
    assert r.returncode == 2 and r.stdout == "" and "the same run folder as" in r.stderr
    r = run_cli("report", str(run), "--no-html", "--compare", str(tmp_path / "nosuch"))
    assert r.returncode == 2 and "--compare draws the runs together on report.html; drop --no-html" in r.stderr

    with sqlite3.connect(run / "trials.sqlite") as db:  # a damaged row: exit 3 (TypeError) in the table
        db.execute("UPDATE trials SET reward = NULL WHERE id = 2")
    r = run_cli("report", str(run), "--no-html")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "table trials, id 2: a finished trial's reward is None, not a number; the store is damaged" in r.stderr


def test_the_rung_median_of_an_even_count_is_the_mean_of_the_middle_two():
    from nasdsl_search.report_cli import rung_lines

    cfg = {"min_epochs": 1, "reduction": 2, "train": {"epochs": 2}, "scheduler": "asha"}
    rungs = [{"rung": 0, "trial": i, "accuracy": a, "epochs": 1} for i, a in enumerate((0.1, 0.2, 0.3, 0.4))]
    line = next(x for x in rung_lines({"config": cfg, "rungs": rungs}) if x.split()[:1] == ["0"])
    assert line.split()[3:5] == ["0.4000", "0.2500"], line  # best, median (it said 0.2000)


def test_stats_plot_name_is_checked_before_the_table(tmp_path):
    from proc_helpers import run_cli

    r = run_cli("stats", "nasnet_a_mobile", "--plot", str(tmp_path / "out.txt"))
    assert r.returncode == 2 and r.stdout == "" and "the name must end in .png, .svg or .pdf" in r.stderr
