"""The package's import graph: no circles, and the compiler never imports the search driver.

Every import statement counts, at module level or inside a function; importing a submodule also
runs its parent packages (nasdsl's own lazy __init__ aside). The CLI layer (nasdsl/cli.py,
nasdsl/commands/) is the one layer above both the compiler and search, so it is exempt."""
import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in ("nasdsl", "search"):
        for path in (REPO / pkg).rglob("*.py"):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
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
    """The layer above both the compiler and the search: the CLI and the Python entry point that
    mirrors `nasdsl search` (nasdsl.api). Everything else in nasdsl is the compiler."""
    return name in ("nasdsl.cli", "nasdsl.api") or name.startswith("nasdsl.commands")


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


def test_the_compiler_never_imports_search():
    for name, path in MODULES.items():
        if name.startswith("nasdsl") and not _cli(name):
            assert not any(t == "search" or t.startswith("search.") for t in GRAPH[name]), name
            text = path.read_text()
            assert "import_module(\"search" not in text and "'search." not in text and '"search.' not in text, name


def test_search_imports_the_compiler():
    assert any(t.startswith("nasdsl") for n in MODULES if n.startswith("search") for t in GRAPH[n])
