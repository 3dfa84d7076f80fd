"""The package's import graph: no circles, the compiler never imports the search driver (search/,
installed as nasdsl_search), and the compiler's stages import in one direction.

Every import statement counts, at module level or inside a function; importing a submodule also
runs its parent packages (nasdsl's own lazy __init__ aside). The CLI layer (nasdsl/cli/: the
dispatcher, the subcommands and `nasdsl.search`) is the one layer above both the compiler and
search, so it is exempt from the first two."""
import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _modules() -> dict[str, Path]:
    out = {}
    for folder, package in (("nasdsl", "nasdsl"), ("search", "nasdsl_search")):
        for path in (REPO / folder).rglob("*.py"):
            parts = [package, *path.relative_to(REPO / folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    edges = set()
    for target in found:
        while target and target not in MODULES:
            target = target.rpartition(".")[0]
        while target and target != "nasdsl":  # a submodule runs its parents
            if target != name and not name.startswith(target + "."):  # its own package is already running
                edges.add(target)
            target = target.rpartition(".")[0]
    return edges


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cli(name: str) -> bool:
    """The layer above both the compiler and the search: the dispatcher, the subcommands and the
    Python entry point that mirrors `nasdsl search` (nasdsl.cli.api). The rest of nasdsl is the compiler."""
    return name == "nasdsl.cli" or name.startswith("nasdsl.cli.")


def test_no_import_circles():
    graph = {n: {t for t in e if not _cli(t)} for n, e in GRAPH.items() if not _cli(n)}
    state: dict[str, int] = {}

    def visit(n: str, stack: list[str]) -> None:
        state[n] = 1
        for t in sorted(graph.get(n, ())):
            if state.get(t) == 1:
                raise AssertionError("import circle: " + " -> ".join(stack[stack.index(t):] + [n, t]))
            if t not in state:
                visit(t, stack + [n])
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n, [])


def _search(name: str) -> bool:
    return name == "nasdsl_search" or name.startswith("nasdsl_search.")


def _strings(tree: ast.Module) -> list[str]:
    """Every string constant in the code, docstrings aside (import_module("..."), `python -c "..."`)."""
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


def test_the_compiler_never_imports_search():
    for name, path in MODULES.items():
        if not _search(name) and not _cli(name):
            assert not any(_search(t) for t in GRAPH[name]), name
            strings = _strings(ast.parse(path.read_text()))
            assert not any("nasdsl_search" in v for v in strings), name  # not by string either


def test_search_imports_the_compiler():
    assert any(t == "nasdsl" or t.startswith("nasdsl.") for n in MODULES if _search(n) for t in GRAPH[n])


# The stages in order (nasdsl/<stage>/). A stage imports from itself, from earlier stages and from the
# shared modules at the top of nasdsl (errors, naming, resources, testing, and the two registries the
# stages read: layers, which reads lang's op names, and skeletons/, which shape cells with ir's passes).
STAGES = {"lang": 0, "ir": 1, "codegen": 2, "deploy": 3, "weights": 3, "viz": 3, "cli": 4}


def _stage(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if parts[0] == "nasdsl" and len(parts) > 1 and parts[1] in STAGES else None


def test_no_stage_imports_a_later_stage():
    assert set(STAGES) == {p.name for p in (REPO / "nasdsl").iterdir() if (p / "__init__.py").is_file()} - {
        "skeletons", "zoo"}, "a new stage package: give it its place in STAGES"
    for name in MODULES:
        if (stage := _stage(name)) is not None:
            for target in GRAPH[name]:
                later = _stage(target)
                assert later is None or STAGES[later] <= STAGES[stage], f"{name} ({stage}) imports {target} ({later})"


def test_shared_modules_import_no_stage_from_codegen_on():
    for name in MODULES:
        if name.startswith("nasdsl.") and _stage(name) is None and name != "nasdsl.__main__":
            for target in GRAPH[name]:
                stage = _stage(target)
                assert stage is None or STAGES[stage] < STAGES["codegen"], f"{name} imports {target}"


def test_no_module_hides_an_api_name():
    """`nasdsl.cost` etc. are the lazy API functions: no module of nasdsl may take their names."""
    import nasdsl

    assert not set(nasdsl.__all__) & {name.split(".")[1] for name in MODULES if name.count(".") >= 1
                                      and name.startswith("nasdsl.")}
