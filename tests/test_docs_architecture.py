"""docs/ARCHITECTURE.md stays true: it names every module of nasdsl/ and search/ by its path, every
path it names exists, and it points at nothing outside the repo."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
ROWS = [line for line in DOC.splitlines() if line.startswith("| `")]
PATHS = {p for p in re.findall(r"`([^`\s]+)`", DOC) if re.match(r"(nasdsl|search|grammar|templates)/", p)}


def _expand(path: str) -> list[str]:
    """`templates/{module,cell}.py.j2` -> both names."""
    m = re.search(r"\{([^}]*)\}", path)
    if not m:
        return [path]
    return [q for alt in m.group(1).split(",") for q in _expand(path[:m.start()] + alt + path[m.end():])]


def _listed(path: Path) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    folder = path.parent.relative_to(ROOT).as_posix() + "/"
    if rel in PATHS or (path.name == "__init__.py" and folder in PATHS):
        return True
    # a folder's row that names the file: | `nasdsl/cli/commands/` | ... `check.py` ... |
    return any(f"`{folder}`" in row and f"`{path.name}`" in row for row in ROWS)


def test_every_module_is_listed():
    modules = [p for d in ("nasdsl", "search") for p in sorted((ROOT / d).rglob("*.py"))]
    missing = [p.relative_to(ROOT).as_posix() for p in modules if not _listed(p)]
    assert not missing, f"docs/ARCHITECTURE.md does not list {missing}"


def test_every_listed_path_exists():
    for path in sorted(PATHS):
        for one in _expand(path):
            assert list(ROOT.glob(one.rstrip("/"))), f"docs/ARCHITECTURE.md names {one}, which is not in the repo"


def test_nothing_outside_the_repo():
    assert not re.search(r"\]\((?![\w-]+\.md\b)", DOC), "a link that is not a doc of this folder"
    outside = [s for s in re.findall(r"`([^`]*)`", DOC) if s.startswith(("/", "~", "../")) or "://" in s]
    assert not outside, outside
