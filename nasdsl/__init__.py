"""nasdsl: NAS cells as programs. Parse, validate, optimize and compile `.nas` text.

The public API is re-exported lazily so that `import nasdsl` stays light (no torch until needed):

    import nasdsl
    program = nasdsl.load("nasnet_a_cifar")          # a file or a zoo name
    nasdsl.cost(program, network="nasnet_a_cifar")   # parameters and mult-adds, from the IR
    model = nasdsl.compile(program)                  # a torch.nn.Module
    summary = nasdsl.search(out="runs/demo", trials=20, reward="synthetic")   # see nasdsl.search

The modules are grouped by stage (see the README's Layout): `lang/` (text to a validated Program),
`ir/` (cell graphs, passes, cost), `codegen/` (PyTorch source, supernet, interpreter), `deploy/`
(ONNX, inference, serving), `weights/`, `viz/`, `cli/`; the layer and skeleton registries, errors and
naming sit at the top. No module sits at `nasdsl.<api name>`, so each name above is always the
function (`from nasdsl import cost`); its module is e.g. `nasdsl.ir.cost`.
"""
from __future__ import annotations

import importlib

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

