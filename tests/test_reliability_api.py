"""The Python API: names keep meaning the functions on every call and after their submodules are
imported; `nasdsl.search(...)` works from a script (with or without a `__main__` guard) and from a
notebook-like session (code from stdin, no file): the pool's workers never re-import `__main__`."""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest
from proc_helpers import ROOT


def _python(code: str, tmp_path, as_file: bool = True, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    code = textwrap.dedent(code)
    if as_file:
        script = tmp_path / "script.py"
        script.write_text(code)
        return subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=timeout)
    return subprocess.run([sys.executable, "-"], input=code, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_api_names_stay_functions(tmp_path):
    r = _python("""
        import sys
        import nasdsl
        text = "cell c : normal {\\n    b0 = id(h0) + id(h1)\\n    out = concat(b0)\\n}\\n"
        first = nasdsl.parse(text)
        p = nasdsl.load("nasnet_a_cifar")
        a = nasdsl.cost(p, network="nasnet_a_cifar")
        b = nasdsl.cost(p, network="nasnet_a_cifar")           # the second call
        assert a.params == b.params > 0
        import nasdsl.ir.cost, nasdsl.lang.load, nasdsl.lang.parse, nasdsl.codegen.generate   # the modules, explicitly
        assert callable(nasdsl.cost) and callable(nasdsl.load) and callable(nasdsl.parse)
        assert nasdsl.parse(text) == first and nasdsl.load("nasnet_a_cifar") is not None
        from nasdsl import cost, load, parse, compile
        assert cost(p, network="nasnet_a_cifar").params == a.params
        assert [f.__name__ for f in (cost, load, parse, compile)] == ["cost", "load", "parse", "compile"]
        from nasdsl.ir.cost import cost as c2
        assert c2 is cost
        assert "nasdsl_search" not in sys.modules    # the compiler does not import the search package
        print("ok")
    """, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


SEARCH_CALL = 'nasdsl.search(out="run", strategy="random", trials=4, reward="synthetic", workers=2)'


def test_search_api_from_a_guarded_script(tmp_path):
    r = _python(f"""
        import nasdsl
        if __name__ == "__main__":
            s = {SEARCH_CALL}
            print(s.counts["done"], s.best_trial is not None, (s.folder / "best.nas").is_file())
            s = nasdsl.search(out="run", resume=True, trials=6)
            print(s.counts["done"])
    """, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["4", "True", "True", "6"]


def test_search_api_from_a_notebook_like_session(tmp_path):
    r = _python(f"""
        import nasdsl
        s = {SEARCH_CALL}
        print(s.counts["done"])
    """, tmp_path, as_file=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["4"]


def test_search_api_from_a_script_without_main_guard(tmp_path):
    # the pool's workers do not import the driver's script again, so no guard is needed
    r = _python(f"""
        import nasdsl
        s = {SEARCH_CALL}
        print(s.counts["done"], s.counts["failed"])
    """, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["4", "0"]


def test_search_api_rejects_unknown_settings(tmp_path):
    r = _python("""
        import nasdsl
        try:
            nasdsl.search(out="run", strategy="random", trails=4)
        except nasdsl.NasError as e:
            print(e)
    """, tmp_path)
    assert "unknown setting(s) trails" in r.stdout, r.stderr
    assert not (tmp_path / "run").exists()


def test_search_api_checks_settings_as_the_command_line_does(tmp_path):
    """nan, out-of-range and wrongly typed settings: a NasError naming them, no run folder (they
    were stored, then crashed the run or its --resume with exit 3, or were taken: minutes=0, seed=-5)."""
    import nasdsl

    cases = [(dict(strategy="ppo", failed_reward=float("nan")), "--failed-reward must be a finite number, got nan"),
             (dict(strategy="ppo", controller_lr=float("nan")), "--controller-lr must be a finite number"),
             (dict(minutes=0.0), "--minutes must be greater than 0"),
             (dict(seed=-5), "--seed must be at least 0, got -5"),
             (dict(repeats=1000), "--repeats must be at most 100"),
             (dict(seed="3"), "nasdsl.search: seed must be an integer, got '3'"),
             (dict(trials=2.5), "nasdsl.search: trials must be an integer, got 2.5"),
             (dict(strategy="nope"), "nasdsl.search: strategy must be one of ppo, reinforce, random"),
             # AttributeErrors deep in the search, or taken as true: resume="no" resumed
             (dict(space=5), "nasdsl.search: space must be a string, got 5"),
             (dict(dataset=5), "nasdsl.search: dataset must be a string, got 5"),
             (dict(executor="ray", address=5), "nasdsl.search: address must be a string, got 5"),
             (dict(amp="yes"), "nasdsl.search: amp must be True or False, got 'yes'"),
             (dict(resume="no"), "nasdsl.search: resume must be True or False, got 'no'"),
             (dict(progress="no"), "nasdsl.search: progress must be True or False, got 'no'"),
             (dict(scheduler="asha", max_epochs=10**9), "--max-epochs must be at most 100000"),
             (dict(scheduler="asha", min_epochs=0), "--min-epochs must be at least 1")]
    for i, (kw, message) in enumerate(cases):
        with pytest.raises(nasdsl.NasError, match=re.escape(message)):
            nasdsl.search(tmp_path / f"run{i}", reward="synthetic", **{"trials": 4, **kw})
        assert not (tmp_path / f"run{i}").exists()
    for out in (None, 5, ["a"]):  # the run folder would have been named "None"
        with pytest.raises(nasdsl.NasError, match="nasdsl.search: out must be a path"):
            nasdsl.search(out, reward="synthetic", trials=4)


@pytest.mark.parametrize("section, key, flag", [("options", "lr", "--controller-lr"),
                                               ("options", "failed_reward", "--failed-reward"),
                                               ("proxy", "filters", "--filters"), (None, "seed", "--seed")])
def test_a_stored_setting_out_of_bounds_is_one_line_on_resume(tmp_path, capsys, section, key, flag):
    """A run stored before its settings were checked (nasdsl.search took nan): --resume crashed with
    exit 3 ("Invalid learning rate") at every try; it is one line naming the store and the flag."""
    import json
    import sqlite3

    from nasdsl.cli.dispatch import main

    out = tmp_path / "run"
    assert main(["search", "--reward", "synthetic", "--strategy", "ppo", "--trials", "2", "--workers", "1",
                 "--quiet", "--out", str(out)]) == 0
    with sqlite3.connect(out / "trials.sqlite") as db:
        config = json.loads(db.execute("SELECT value FROM run WHERE key = 'config'").fetchone()[0])
        (config if section is None else config[section])[key] = float("nan") if key != "seed" else -5
        db.execute("UPDATE run SET value = ? WHERE key = 'config'", (json.dumps(config),))
    capsys.readouterr()
    assert main(["search", "--resume", "--out", str(out), "--trials", "3", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"table run, key 'config': a stored setting is refused: {flag} must be" in err, err
    assert len(err.strip().splitlines()) == 1, err


def test_resume_with_fewer_trials_than_finished_is_refused(tmp_path):
    """It stored a budget the run had already spent and said '30 done' (of 10)."""
    import nasdsl

    nasdsl.search(tmp_path / "run", reward="synthetic", strategy="random", trials=6)
    with pytest.raises(nasdsl.NasError, match="--trials 4: .* has 6 trials finished already; give at least that many"):
        nasdsl.search(tmp_path / "run", resume=True, trials=4)
    assert nasdsl.search(tmp_path / "run", resume=True, trials=8).counts["done"] == 8


def test_budget_on_without_a_budget_is_refused(tmp_path):
    import nasdsl

    with pytest.raises(nasdsl.NasError, match="--budget-on mobile only applies with --max-params or --max-madds"):
        nasdsl.search(tmp_path / "run", reward="synthetic", budget_on="mobile", trials=2)


ONESHOT_TINY = dict(space="enas", supernet_epochs=1, rank_samples=3, top_k=2, eval_images=64, train_size=256,
                    val_size=128, filters=4, batch_size=32, epochs=1)
MULTI = "the multi-trial strategies (ppo, reinforce, random, evolution) only; this run's strategy is"


def test_search_api_runs_a_one_shot_strategy_and_resumes_it(tmp_path):
    # the one-shot loop, not the multi-trial one: supernet epochs and scored architectures in the store,
    # the picks trained stand-alone as the run's trials; resuming it checks settings as --resume does
    r = _python(f"""
        import sqlite3
        import nasdsl
        s = nasdsl.search(out="run", strategy="random-ws", **{ONESHOT_TINY!r})
        print(type(s).__name__, s.counts["done"], s.counts["failed"], len(s.picks), s.best_trial is not None,
              0 <= s.best_reward <= 1, s.seconds > 0, (s.folder / "best.nas").is_file())
        con = sqlite3.connect("run/trials.sqlite")
        print(con.execute("SELECT COUNT(*) FROM oneshot_epochs").fetchone()[0],
              con.execute("SELECT COUNT(*) FROM oneshot_archs WHERE phase = 'rank'").fetchone()[0],
              *sorted({{row[0] for row in con.execute("SELECT strategy FROM trials")}}))
        con.close()
        again = nasdsl.search(out="run", resume=True, threads=1)   # finished: nothing is trained again
        print(again.counts["done"], again.best_trial == s.best_trial, again.best_reward == s.best_reward)
        for call in (dict(trials=5), dict(top_k=1), dict(workers=2)):
            try:
                nasdsl.search(out="run", resume=True, **call)
            except nasdsl.NasError as e:
                print(e)
    """, tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.splitlines()
    assert [line.split() for line in lines[:3]] == [
        ["OneShotSummary", "2", "0", "2", "True", "True", "True", "True"], ["1", "3", "random-ws"],
        ["2", "True", "True"]]
    assert lines[3:] == [f"error: --trials is for {MULTI} random-ws",
                         "error: --resume continues a run as it was configured; drop --top-k (only --threads and "
                         "--device may change)",
                         f"error: --workers is for {MULTI} random-ws"]


def test_search_api_refuses_what_a_one_shot_strategy_would_ignore(tmp_path):
    # the command line's checks (search/strategy_flags.py), before any run folder is made
    r = _python("""
        import nasdsl
        for call in (dict(strategy="enas", trials=4), dict(strategy="darts", space="darts", workers=2),
                     dict(strategy="random-ws", max_params=10**6), dict(strategy="ppo", top_k=2),
                     dict(strategy="random-ws", scheduler="asha"), dict(strategy="enas", executor="local")):
            try:
                nasdsl.search(out="run", **call)
            except nasdsl.NasError as e:
                print(e)
    """, tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.splitlines() == [
        f"error: --trials is for {MULTI} enas", f"error: --workers is for {MULTI} darts",
        f"error: --max-params is for {MULTI} random-ws",
        "error: --top-k is for --strategy random-ws or enas only; this run's strategy is ppo",
        f"error: --scheduler is for {MULTI} random-ws", f"error: --executor is for {MULTI} enas"]
    assert not (tmp_path / "run").exists()


TWO_CELLS = """
cell c : normal {
    b0 = sep3x3(h0) + id(h1)
    b1 = sep3x3(b0) + id(h0)
    out = concat(b1)
}
cell r : reduction {
    b0 = max3x3(h0) + sep3x3(h1)
    out = concat(b0)
}
network tiny {
    normal = c
    reduction = r
    cells = 1
    filters = 8
}
"""


@pytest.mark.parametrize("overrides, needle", [
    ({"normal": "zz"}, "override normal='zz': no cell 'zz'"),  # KeyError deep in the skeleton before
    ({"stem_cell": "zz"}, "override stem_cell='zz': no cell 'zz'"),  # accepted, and unused by this skeleton
    ({"normal": "r"}, "r is declared `: reduction`; normal takes a normal cell"),  # check refuses it in the text
    ({"n": 32, "filters": 512}, "too large to build"),  # about 1.4 billion weights: check refuses it in the text
])
def test_overrides_are_held_to_what_check_holds_the_text_to(overrides, needle):
    import nasdsl

    for api in (nasdsl.cost, nasdsl.compile, nasdsl.generate_source):
        with pytest.raises(nasdsl.NasError, match=re.escape(needle)):
            api(TWO_CELLS, overrides=overrides)


@pytest.mark.parametrize("kwargs, needle", [
    ({"drop_path_keep": float("nan")}, "drop_path_keep=nan"),  # built, and a training forward gave NaN
    ({"drop_path_keep": 2.0}, "out of range"),
    ({"dropout_keep": 0}, "out of range"),  # built: the classifier saw zeros only
    ({"dropout_keep": -1.0}, "expected a number of 0 or more"),  # "expected a number", of -1.0
    ({"num_classes": 0}, "compile: num_classes=0: expected a positive integer"),  # a zero-width classifier
    ({"num_classes": "10"}, "expected a positive integer"),  # torch's TypeError
    ({"foo": 1}, "compile: unknown argument(s) foo"),  # build()'s TypeError
])
def test_compile_holds_its_build_arguments_to_the_dsl_bounds(kwargs, needle):
    import nasdsl

    with pytest.raises(nasdsl.NasError, match=re.escape(needle)):
        nasdsl.compile(TWO_CELLS, **kwargs)


def test_an_aux_head_asked_of_compile_that_does_not_fit_is_an_error():
    """It was built without one, silently; overrides={"aux_head": True} already said why."""
    import nasdsl

    with pytest.raises(nasdsl.NasError, match="the aux head needs"):
        nasdsl.compile("nasnet_a_mobile", overrides={"n": 1, "filters": 8, "image": 64, "aux_head": False},
                       aux_head=True)
    model = nasdsl.compile(TWO_CELLS, num_classes=7, aux_head=False, drop_path_keep=0.9)
    assert model.last_linear.out_features == 7


@pytest.mark.parametrize("call, needle", [
    (lambda s: s.compile_supernet("darts", s.Proxy(filters=8), filters=16), "not both"),  # filters=16 was ignored
    (lambda s: s.compile_supernet("darts", {"cells": 1}), "proxy must be a Proxy"),  # AttributeError
    (lambda s: s.compile_supernet("darts", cells=-1), "cells=-1"),  # a syntax error in generated text
    (lambda s: s.compile_supernet("darts", cells="1"), "cells='1'"),  # accepted
    (lambda s: s.compile_supernet("darts", filters="8\n    image = 16"), "filters="),  # pasted into the text
    (lambda s: s.compile_supernet("darts", foo=1), "unknown argument(s) foo"),  # Proxy's TypeError
    (lambda s: s.compile_supernet("darts", num_classes=0), "num_classes=0"),  # built
])
def test_compile_supernet_names_a_bad_argument(call, needle):
    import nasdsl
    from nasdsl.codegen import supernet

    with pytest.raises(nasdsl.NasError, match=re.escape(needle)):
        call(supernet)


def test_compile_supernet_takes_a_loaded_program(tmp_path):
    """A Program was taken as a path: OSError, file name too long."""
    import nasdsl

    src = tmp_path / "small.nas"
    src.write_text("space small {\n    blocks = 2\n    ops = none, id, sep3x3\n    combine = add\n    inputs = 2\n"
                   "    output = blocks\n}\n")
    from_program, from_file = nasdsl.compile_supernet(nasdsl.load(src)), nasdsl.compile_supernet(str(src))
    assert sum(p.numel() for p in from_program.parameters()) == sum(p.numel() for p in from_file.parameters())
    with pytest.raises(nasdsl.NasError, match="holds 2 spaces"):
        nasdsl.compile_supernet(nasdsl.load("darts"))  # spaces.nas: enas and darts


def test_the_front_end_api_names_a_wrong_argument():
    """load(""), load(None) and cost(None) said '.: is a directory' or raised TypeError in pathlib;
    format_module of a Program raised AttributeError."""
    import nasdsl

    for call, needle in ((lambda: nasdsl.load(""), "an empty name"), (lambda: nasdsl.load(None), "got NoneType"),
                         (lambda: nasdsl.cost(None), "got NoneType"), (lambda: nasdsl.compile(""), "an empty name"),
                         (lambda: nasdsl.format_module("cell"), "takes a parsed module or a Program"),
                         # it said 'nasdsl stats needs a network', a command the caller never ran
                         (lambda: nasdsl.cost("darts_v2_normal"), "nasdsl.cost needs a network")):
        with pytest.raises(nasdsl.NasError, match=re.escape(needle)):
            call()
    program = nasdsl.load("nasnet_a_normal")
    assert nasdsl.format_module(program) == nasdsl.format_module(nasdsl.parse(program.main.source))
