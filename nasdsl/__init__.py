"""nasdsl: NAS cells as programs. Parse, validate, optimize and compile `.nas` text.

The public API is re-exported lazily so that `import nasdsl` stays light (no torch until needed):

    import nasdsl
    program = nasdsl.load("nasnet_a_cifar")          # a file or a zoo name
    nasdsl.cost(program, network="nasnet_a_cifar")   # parameters and mult-adds, from the IR
    model = nasdsl.compile(program)                  # a torch.nn.Module
    summary = nasdsl.search(out="runs/demo", trials=20, reward="synthetic")   # see nasdsl.search

Each name stays the function even after its submodule (`nasdsl.cost`, `nasdsl.load`, ...) has been
imported: `from nasdsl import cost` is the function; the modules are `nasdsl.cost` etc. in
`sys.modules` (`from nasdsl.ir.cost import cost`).
"""
from __future__ import annotations

import importlib
import sys
import types

__version__ = "0.1.0"

_API = {
    "parse": ("nasdsl.lang.parse", "parse"),
    "load": ("nasdsl.lang.load", "load"),
    "load_text": ("nasdsl.lang.load", "load_text"),
    "format_module": ("nasdsl.lang.fmt", "format_module"),
    "NasError": ("nasdsl.errors", "NasError"),
    "compile": ("nasdsl.codegen.generate", "compile"),
    "generate_source": ("nasdsl.codegen.generate", "generate_source"),
    "cost": ("nasdsl.ir.cost", "cost"),
    "search": ("nasdsl.cli.api", "search"),
    "compile_supernet": ("nasdsl.codegen.supernet", "compile_supernet"),
}

__all__ = sorted(_API)


def __getattr__(name: str):
    if name in _API:
        module, attr = _API[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'nasdsl' has no attribute {name!r}")


class _Package(types.ModuleType):
    """Importing a submodule sets it as an attribute of its package, which would hide the function
    of the same name (`nasdsl.cost` the module instead of `nasdsl.cost` the function): such a
    module is not set, so the name keeps resolving (lazily) to the function."""

    def __setattr__(self, name: str, value) -> None:
        if name in _API and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
