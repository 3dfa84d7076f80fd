"""Find the grammar, templates and zoo whether running from the repo or from an installed wheel."""
from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _dir(name: str) -> Path:
    shipped = _PKG / name  # inside the wheel: nasdsl/grammar, nasdsl/templates
    if shipped.is_dir():
        return shipped
    return _PKG.parent / name  # in the repo: ./grammar, ./templates


def grammar_path() -> Path:
    return _dir("grammar") / "nasdsl.lark"


def templates_dir() -> Path:
    return _dir("templates")


def zoo_dir() -> Path:
    return _PKG / "zoo"
