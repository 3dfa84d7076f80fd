"""Does a short search pay? The cells nasdsl finds against the published cells of the zoo, on the
same proxy, the same training seeds and a fixed wall-time budget per search.

1. Each published cell pair (NASNet-A, AmoebaNet-A, ENAS, DARTS V1/V2, PNASNet-5 as both cells) is
   put into the default proxy network and trained with `--train-seeds` seeds.
2. Each strategy in `--strategies` (a `+asha` suffix adds early stopping, `@N` the budget
   `--max-params N` on the proxy child, as the params column counts them) searches for `--minutes`
   of wall time (`nasdsl search --minutes`), once per search seed; a one-shot strategy (random-ws,
   enas) trains its supernet and ranks at the search's defaults, then trains its ranked picks
   stand-alone (on `--workers` threads) until the same budget is spent (`--top-k` =
   `--rank-samples`, 400: more than the budget can train). The best cell of each search is trained
   again with the same training seeds.
3. The same for a bigger proxy network (`--bigger-cells` cells per stage, `--bigger-filters` F): is
   the ranking kept when the cell is stacked more times and wider (the paper's transfer claim, small)?

Printed: one table (cell, where it came from, what it cost to find, params and mult-adds of the
proxy child, reward mean ± sd over training seeds on both networks) and, per strategy, a one-sided
Mann-Whitney U p-value of "the searched cells score higher" against each published cell, over
every (search seed, training seed) reward of the strategy's cells against the published cell's
rewards; and each strategy against `--baseline` (random search), both ways ("scores higher", "scores
lower"), over the pooled rewards and over the search seeds' means (the honest unit: a strategy's 25
rewards are 5 cells trained 5 times each). Children run through nasdsl_search.trial.run_trial, the code the search runs. Everything is kept
in --out (run folders and a JSON cache), so a stopped benchmark continues where it stopped. Exits 1
when a child failed to train (a result would be missing), else 0: there is no target to miss, the
table is the result, whichever way it comes out.

    python studies/search_vs_published.py [--minutes 10] [--search-seeds 0,1,2,3,4]
        [--train-seeds 5] [--strategies random,ppo,evolution,evolution+asha,random-ws,enas] [--baseline random]
        [--workers 2] [--out runs/vs_published]

`--strategies ""` trains the published cells only.

At the defaults this is about six hours on a 2-core machine (six strategies x five seeds x 10
minutes, then about 360 trainings); every search and training is cached in --out, so it can run in
sittings, a strategy at a time (a search or training is reused only with the settings it ran
with, the proxy's training settings included, and a search only while its strategy is as it was:
CHANGED). studies/results/search_vs_published/ holds the searches and trainings measured so far:
copy it to --out and they are reused (every strategy's searches were run again after its change
in CHANGED: enas on 2026-12-06, evolution, evolution+asha and evolution@80000 on 2026-12-07).
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nasdsl.ir.cost import cost  # noqa: E402
from nasdsl.lang.load import load_text  # noqa: E402
from nasdsl.testing import int_list  # noqa: E402
from nasdsl_search.driver import Search, SearchConfig, proxy_network  # noqa: E402
from nasdsl_search.lifetime import die_with_parent, worker_context  # noqa: E402
from nasdsl_search.oneshot import OneShot, OneShotConfig, enas_defaults, is_oneshot  # noqa: E402
from nasdsl_search.rewards import kendall_tau, mann_whitney_greater  # noqa: E402
from nasdsl_search.space import PROXY_NETWORK, load_space, to_nas, zoo_cells_nas  # noqa: E402
from nasdsl_search.store import Store  # noqa: E402
from nasdsl_search.trial import run_trial, training_digest, training_key, trial_payload  # noqa: E402

# label, normal cell, reduction cell, what it cost to find (as published)
PUBLISHED = [
    ("NASNet-A", "nasnet_a_normal", "nasnet_a_reduce", "2,000 GPU-days (Zoph et al. 2018)"),
    ("AmoebaNet-A", "amoebanet_a_normal", "amoebanet_a_reduce", "3,150 GPU-days (Real et al. 2019)"),
    ("ENAS", "enas_normal", "enas_reduce", "0.45 GPU-days (Pham et al. 2018)"),
    ("DARTS V1", "darts_v1_normal", "darts_v1_reduce", "1.5 GPU-days (Liu et al. 2019)"),
    ("DARTS V2", "darts_v2_normal", "darts_v2_reduce", "4 GPU-days (Liu et al. 2019)"),
    ("PNASNet-5", "pnasnet5", "pnasnet5", "225 GPU-days (Liu et al. 2018)"),
]

# What changed in a strategy's search after searches were cached: part of a search's cached settings,
# so a search cached before the change runs again (add a line whenever a change alters what a strategy
# finds; its settings, proxy and budget are already in the key)
CHANGED = {
    "enas": "ENAS's tanh bound on the controller's logits (2026-12-06)",
    "evolution": "tournaments drawn with replacement (2026-12-06)",
}


def payload(cfg: SearchConfig, nas: str, seed: int) -> dict:
    """A training of `nas` exactly as the search trains its children (repeats included)."""
    return trial_payload(cfg, {"id": seed, "nas": nas, "decisions": [], "seed": seed}, threads=1)


def proxy_settings_of(cfg: SearchConfig) -> dict:
    """How the proxy trains a child (data, split, epochs, repeats, scoring): a cached search or
    training counts only for the settings it ran with, so a changed default proxy reruns them."""
    return {k: v for k, v in training_key(payload(cfg, "", 0)).items() if k not in ("nas", "seed", "decisions")}


def cached_search(folder: Path, search, settings: dict) -> dict:
    """The result of one search, from `folder`'s benchmark.json when it was run with `settings`, or
    by running `search(folder)`, which returns (the store's best trial or None, seconds, the store's
    counts: trials done and failed; under a budget ppo's failed ones include proposals over it, and
    before random and evolution drew such proposals again, theirs did too). An
    interrupted earlier attempt is started again: its wall time is the search's cost, so a search is
    one sitting."""
    done = folder / "benchmark.json"
    if done.exists():
        kept = json.loads(done.read_text())
        if kept.get("settings") == settings:
            return kept
    if folder.exists():
        import shutil

        shutil.rmtree(folder)
    best, seconds, counts = search(folder)
    if best is None:
        raise SystemExit(f"search_vs_published: {folder.name} trained no cell to the end; give --minutes more")
    out = {"decisions": best["decisions"], "reward": best["reward"], "trial": best["id"],
           "seconds": seconds, "trials": counts["done"] + counts["failed"], "done": counts["done"],
           "failed": counts["failed"], "settings": settings}
    done.write_text(json.dumps(out))
    return out


def with_picks(folder: Path, r: dict) -> dict:
    """A one-shot search's result with its picks, `[rank, shared-weight accuracy, stand-alone reward]`
    in rank order, read from its store once and kept in benchmark.json (the store is not committed)."""
    if "picks" not in r and (folder / "trials.sqlite").exists():
        store = Store(folder, create=False)
        try:
            r["picks"] = sorted([t["meta"]["oneshot_rank"], t["meta"]["shared_accuracy"], t["reward"]]
                                for t in store.trials("done"))
        finally:
            store.close()
        (folder / "benchmark.json").write_text(json.dumps(r))
    return r


def ranking_evidence(spec: str, seed: int, picks: list) -> str:
    """Did the shared weights rank the picks? Kendall tau of shared-weight accuracy against
    stand-alone reward over the picks trained, the first 20 picks' mean reward against the rest's,
    and where in the ranking the best one was."""
    ranks, shared, rewards = zip(*picks)
    tau, p = kendall_tau(shared, rewards)
    best = max(range(len(picks)), key=lambda i: rewards[i])
    first = (f"mean reward of the first 20 {statistics.fmean(rewards[:20]):.4f}, of the rest "
             f"{statistics.fmean(rewards[20:]):.4f}" if len(picks) > 20 else "no picks past the first 20")
    return (f"  {spec} seed {seed}: {len(picks)} picks, tau(shared accuracy, reward) {tau:+.3f} (p {p:.3f}); "
            f"{first}; best at rank {ranks[best]} ({rewards[best]:.4f})")


def multi_trial(cfg: SearchConfig, minutes: float, workers: int):
    """A multi-trial search of `minutes` wall time (`nasdsl search --minutes`)."""
    def search(folder: Path):
        s = Search(folder, cfg)
        try:
            summary = s.run("local", workers=workers, progress=False, minutes=minutes)
            top, counts = s.store.best(1), s.store.counts()
        finally:
            s.close()
        return (top[0] if top else None), summary.seconds, counts
    return search


def one_shot(cfg: SearchConfig, oneshot: OneShotConfig, minutes: float):
    """A one-shot search of `minutes` wall time (`nasdsl search --minutes`): supernet, ranking, then
    the picks trained stand-alone in rank order until the budget is spent."""
    if cfg.strategy == "enas":
        cfg = enas_defaults(cfg, set())  # as `nasdsl search --strategy enas` sets them

    def search(folder: Path):
        run = OneShot(folder, cfg, oneshot)
        try:
            summary = run.run(progress=False, minutes=minutes)
            top = run.store.best(1)
        finally:
            run.close()
        return (top[0] if top else None), summary.seconds, summary.counts
    return search


def parse_spec(spec: str) -> tuple[str, str, int | None]:
    """`strategy[+scheduler][@max_params]` -> (strategy, scheduler or "", max params or None)."""
    head, _, budget = spec.partition("@")
    strategy, _, sched = head.partition("+")
    return strategy, sched, int(budget) if budget else None


def mann_whitney_less(x: list[float], y: list[float]) -> float:
    return mann_whitney_greater(y, x)


def mean_sd(xs: list[float]) -> str:
    if not xs:
        return "—"
    return f"{statistics.fmean(xs):.4f} ± {statistics.stdev(xs) if len(xs) > 1 else 0.0:.4f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="wall time of one search")
    ap.add_argument("--search-seeds", type=int_list, default="0,1,2,3,4")
    ap.add_argument("--train-seeds", type=int, default=5)
    ap.add_argument("--strategies", default="random,ppo,evolution,evolution+asha,random-ws,enas",
                    help="the baseline, the default search, the comparison's best with and without ASHA, "
                         "weight sharing")
    ap.add_argument("--baseline", default="random", help="the strategy every other one is compared with")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rank-samples", type=int, default=400,
                    help="architectures a one-shot search ranks, all of them picks: more than --minutes can train "
                         "(about 240 children in 10 minutes here), so it spends its budget as the others do")
    ap.add_argument("--bigger-cells", type=int, default=2)
    ap.add_argument("--bigger-filters", type=int, default=16)
    ap.add_argument("--out", default="runs/vs_published")
    args = ap.parse_args()
    specs = [s for s in args.strategies.split(",") if s]  # "" trains the published cells only
    for spec in specs:
        strategy, sched, max_params = parse_spec(spec)
        if is_oneshot(strategy) and (sched or max_params):
            ap.error(f"{spec}: a one-shot strategy runs without a scheduler or a parameter budget")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache_path = out / "trainings.json"
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    base = SearchConfig()
    proxy = proxy_network(base)  # the data set's image size and classes, as a search sees them
    bigger = replace(proxy, cells=args.bigger_cells, filters=args.bigger_filters)
    space = load_space(base.space)
    seeds = args.search_seeds
    train_seeds = [10_000 + i for i in range(args.train_seeds)]
    t0 = time.time()

    # 1. the searches (one at a time: each has the machine to itself for its budget)
    rows = [(label, "published", found, {"proxy": zoo_cells_nas(normal, reduction, proxy),  # (label, source,
                                         "bigger": zoo_cells_nas(normal, reduction, bigger)})  # cost, texts)
            for label, normal, reduction, found in PUBLISHED]
    proxy_key = proxy_settings_of(base)
    evidence = []  # one line per one-shot search: how well its shared weights ranked its picks
    for spec in specs:
        strategy, sched, max_params = parse_spec(spec)
        for seed in seeds:
            if is_oneshot(strategy):
                oneshot = OneShotConfig.for_strategy(strategy, threads=args.workers, rank_samples=args.rank_samples,
                                                     top_k=args.rank_samples)
                search = one_shot(replace(base, strategy=strategy, seed=seed), oneshot, args.minutes)
                settings = {"minutes": args.minutes, "top_k": oneshot.top_k, "proxy": proxy_key}
            else:
                search = multi_trial(replace(base, strategy=strategy, seed=seed, trials=10**6, max_params=max_params,
                                             scheduler=sched or "none"), args.minutes, args.workers)
                settings = {"minutes": args.minutes, "proxy": proxy_key, **({"max_params": max_params} if max_params else {})}
            if strategy in CHANGED:
                settings["changed"] = CHANGED[strategy]
            r = cached_search(out / f"{spec}-s{seed}", search, settings)
            if is_oneshot(strategy):
                r = with_picks(out / f"{spec}-s{seed}", r)
                if r.get("picks"):
                    evidence.append(ranking_evidence(spec, seed, r["picks"]))
            trained = f" ({r['done']} trained)" if "done" in r else ""  # searches cached before it was kept
            print(f"  search {spec} seed {seed}: {r['trials']} trials{trained} in {r['seconds']:.0f} s, best "
                  f"{r['reward']:.4f} (trial {r['trial']})", file=sys.stderr, flush=True)
            rows.append((f"{spec} s{seed}", spec, f"{r['seconds'] / 60:.1f} min on this machine",
                         {"proxy": to_nas(space, r["decisions"], proxy), "bigger": to_nas(space, r["decisions"], bigger)}))

    # 2. every cell on both networks with the same training seeds (a cached training counts only for
    # the text and settings it trained with: a search run again finds another cell under the same label)
    jobs, cell_of, wanted = {}, {}, []  # key -> the training's payload, and its digest; every key
    for label, _, _, texts in rows:
        for net, text in texts.items():
            for s in train_seeds:
                key, job = f"{label}/{net}/{s}", payload(base, text, s)
                wanted.append(key)
                if cache.get(key, {}).get("cell") != (cell := training_digest(job)):
                    jobs[key], cell_of[key] = job, cell
    with cf.ProcessPoolExecutor(args.workers, mp_context=worker_context(), initializer=die_with_parent,
                                initargs=(os.getpid(),)) as pool:  # workers go with the script, even on kill -9
        futures = {pool.submit(run_trial, p): k for k, p in jobs.items()}
        for fut in cf.as_completed(futures):
            r = fut.result()
            cache[futures[fut]] = {"reward": r["reward"], "error": r["error"], "cell": cell_of[futures[fut]]}
            cache_path.write_text(json.dumps(cache, indent=0, sort_keys=True))
            print(f"  {futures[fut]}: {r['reward']} ({r['seconds']:.1f} s)", file=sys.stderr, flush=True)

    def rewards(label: str, net: str) -> list[float]:
        return [cache[f"{label}/{net}/{s}"]["reward"] for s in train_seeds
                if cache.get(f"{label}/{net}/{s}", {}).get("reward") is not None]

    def pooled(spec: str, net: str) -> list[float]:
        """Every (search seed, training seed) reward of the strategy's cells."""
        return [x for label, source, _, _ in rows if source == spec for x in rewards(label, net)]

    def seed_means(spec: str, net: str) -> list[float]:
        """One mean per search seed: its cell's rewards over the training seeds."""
        return [statistics.fmean(r) for label, source, _, _ in rows if source == spec if (r := rewards(label, net))]

    failed = [k for k in wanted if cache[k]["reward"] is None]
    print(f"\nproxy: digits as `nasdsl search` trains it by default ({base.train.epochs} epochs, "
          f"val {base.val_size}, F {proxy.filters}, {proxy.cells} cell(s) per stage); bigger: {bigger.cells} cells per "
          f"stage, F {bigger.filters}; {len(train_seeds)} training seeds per cell; searches of {args.minutes:g} min "
          f"(one-shot ones: supernet at its defaults, {args.rank_samples} architectures ranked, picks trained in rank order to the budget), "
          f"{args.workers} workers, seeds {','.join(map(str, seeds))}; took {(time.time() - t0) / 60:.0f} min\n")
    print("| cell | from | cost to find | params | mult-adds | reward (proxy) | reward (bigger) |")
    print("|---|---|---|---|---|---|---|")
    for label, source, found, texts in rows:
        c = cost(load_text(texts["proxy"]), PROXY_NETWORK)
        print(f"| {label} | {source} | {found} | {c.params:,} | {c.madds:,} | {mean_sd(rewards(label, 'proxy'))} | "
              f"{mean_sd(rewards(label, 'bigger'))} |")
    print("\none-sided Mann-Whitney U, searched cells (every search seed x training seed) > published cell:")
    for spec in specs:
        for net in ("proxy", "bigger"):
            ours = pooled(spec, net)
            ps = []
            for label, source, _, _ in rows:
                theirs = rewards(label, net)
                if source == "published" and ours and theirs:
                    ps.append(f"{label} p = {mann_whitney_greater(ours, theirs):.3f}")
            print(f"  {spec} on the {net} network (mean {statistics.fmean(ours) if ours else float('nan'):.4f}): "
                  + "; ".join(ps))
    if args.baseline in specs:
        print(f"\neach strategy against {args.baseline}, one-sided Mann-Whitney U over every search seed x training "
              f"seed (per search seed: over the {len(seeds)} means of its cell's trainings):")
        for spec in specs:
            if spec == args.baseline:
                continue
            parts = []
            for net in ("proxy", "bigger"):
                both = pooled(spec, net), pooled(args.baseline, net)
                means = seed_means(spec, net), seed_means(args.baseline, net)
                if all(both) and all(means):
                    parts.append(f"{net} {statistics.fmean(both[0]):.4f} vs {statistics.fmean(both[1]):.4f}: "
                                 f"greater p = {mann_whitney_greater(*both):.3f} (per seed {mann_whitney_greater(*means):.3f}), "
                                 f"less p = {mann_whitney_less(*both):.3f} (per seed {mann_whitney_less(*means):.3f})")
            print(f"  {spec}: " + "; ".join(parts))
    if evidence:
        print("\none-shot picks (trained stand-alone in rank order until the budget was spent):")
        print("\n".join(evidence))
    if failed:
        print(f"\n{len(failed)} trainings failed: {', '.join(sorted(failed)[:5])}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
