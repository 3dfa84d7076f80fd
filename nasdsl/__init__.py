"""nasdsl: NAS cells as programs. Parse, validate, optimize and compile `.nas` text.

The public API is re-exported lazily so that `import nasdsl` stays light (no torch until needed).
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_API = {
    "parse": ("nasdsl.parse", "parse"),
    "load": ("nasdsl.load", "load"),
    "load_text": ("nasdsl.load", "load_text"),
    "format_module": ("nasdsl.fmt", "format_module"),
    "NasError": ("nasdsl.errors", "NasError"),
    "compile": ("nasdsl.codegen", "compile"),
    "generate_source": ("nasdsl.codegen", "generate_source"),
    "cost": ("nasdsl.cost", "cost"),
    "compile_supernet": ("nasdsl.supernet", "compile_supernet"),
}

__all__ = sorted(_API)


def __getattr__(name: str):
    if name in _API:
        module, attr = _API[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'nasdsl' has no attribute {name!r}")
