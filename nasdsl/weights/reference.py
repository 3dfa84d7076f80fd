"""Map reference state_dicts (Cadene's pretrainedmodels, timm) onto the generated networks' names.

The references and our code share the TF-slim layout and most names (`conv_1x1`,
`comb_iter_0_left.separable_1.depthwise_conv2d`, ...). What differs:
  * top-level cells are paired in forward order, role by role (Cadene's NASNet-A Mobile numbers
    its normal cells 0-3, 6-9, 12-15; ours run 0..3N-1); timm/Cadene PNASNet call the stem `conv_0`;
  * Cadene's NASNet cells keep the factorized reduction's `path_1/path_2/final_path_bn` on the cell,
    ours (like PNASNet's) under `conv_prev_1x1`.
Every tensor must land on a tensor of the same shape and every one of ours must be filled; anything
else is a NasError naming the keys.
"""
from __future__ import annotations

import pickle
import re
import warnings
import zipfile
from collections.abc import Mapping

import torch

from ..errors import NasError
from .mapping import cannot_map, fill_problem

SOURCES = ("cadene", "timm", "nni")
_ROLE = re.compile(r"^(conv0|cell_stem_\d+|reduction_cell_\d+|cell_\d+|last_linear)$")
_TOP_ALIASES = {"conv_0": "conv0"}
_FR_PARTS = ("path_1.", "path_2.", "final_path_bn.")


def _role(name: str) -> str:
    return re.sub(r"_\d+$", "", name)


def _tops(keys) -> list[str]:
    seen: list[str] = []
    for k in keys:
        top = k.split(".", 1)[0]
        if top not in seen:
            seen.append(top)
    return seen


def _inner(rest: str) -> str:
    """A key inside a cell, in our naming."""
    if rest.startswith(_FR_PARTS):
        return "conv_prev_1x1." + rest
    return rest


def convert(reference: Mapping[str, torch.Tensor], ours: Mapping[str, torch.Tensor],
            source: str = "cadene") -> dict[str, torch.Tensor]:
    """Rename `reference` (a Cadene or timm state_dict) onto the keys of `ours` (our network's
    state_dict, built without the aux head, which the references lack)."""
    if source not in SOURCES:
        raise NasError(f"unknown weight source {source!r}; known: {', '.join(SOURCES)}")
    if source == "nni":  # NNI's DARTS-family models name modules by position: a mapping of its own
        from .nni import convert_nni

        return convert_nni(reference, ours)
    if reference and all(k.startswith("module.") for k in reference):  # saved from DataParallel
        reference = {k[len("module."):]: v for k, v in reference.items()}
    ref_tops = [t for t in _tops(reference) if t in _TOP_ALIASES or _ROLE.match(t)]
    our_tops = [t for t in _tops(ours) if _ROLE.match(t)]
    if len(ref_tops) != len(our_tops):
        raise NasError(f"the {source} state_dict has {len(ref_tops)} stem/cell/classifier modules, "
                       f"this network {len(our_tops)}: not the same architecture")
    top_map: dict[str, str] = {}
    for r, o in zip(ref_tops, our_tops, strict=True):
        if _role(_TOP_ALIASES.get(r, r)) != _role(o):
            raise NasError(f"{source} module {r!r} falls where this network has {o!r}: "
                           "not the same architecture")
        top_map[r] = o
    out: dict[str, torch.Tensor] = {}
    problems: list[str] = []
    for key, value in reference.items():
        top, _, rest = key.partition(".")
        if top not in top_map:
            problems.append(f"{key}: no counterpart")
            continue
        new = f"{top_map[top]}.{_inner(rest) if top_map[top].startswith(('cell', 'reduction')) else rest}"
        if new not in ours:
            problems.append(f"{key} -> {new}: not in this network")
        elif problem := fill_problem(key, new, value, ours[new]):
            problems.append(problem)
        else:
            out[new] = value.detach().clone()
    missing = [k for k in ours if k not in out]
    problems += [f"{k}: not filled" for k in missing]
    if problems:
        raise cannot_map(source, problems)
    return {k: out[k] for k in ours}


def _reason(e: Exception) -> str:
    """One short line on why torch.load failed (its unpickling errors run to a page of advice)."""
    if isinstance(e, pickle.UnpicklingError):
        return "not a pickle of tensors"
    first = (str(e).strip().splitlines() or [""])[0]
    return f"{type(e).__name__}: {first[:120]}" if first else type(e).__name__


def torch_load(path) -> object:
    """torch.load of a user's weights file, tensors and plain data only (weights_only), without torch's
    warning about a pickle protocol it did not write itself (the error that follows says enough)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Detected pickle protocol")
        return torch.load(path, map_location="cpu", weights_only=True)


def non_finite(state: Mapping[str, torch.Tensor]) -> str:
    """"" or what is wrong with weights whose floating-point tensors hold NaN or inf (a diverged
    training's: every prediction would be NaN), naming the first three."""
    broken = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if not broken:
        return ""
    more = f" (+{len(broken) - 3} more)" if len(broken) > 3 else ""
    return f"weights that are not finite (NaN or inf) in {', '.join(broken[:3])}{more}"


def is_state_dict(obj: object) -> bool:
    """Whether `obj` is a state_dict: tensors keyed by their names."""
    return isinstance(obj, Mapping) and all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                            for k, v in obj.items())


def load_state_dict(path: str) -> dict[str, torch.Tensor]:
    """A state_dict from a .pth file (a bare state_dict or a checkpoint holding 'state_dict')."""
    try:
        obj = torch_load(path)
    except FileNotFoundError:
        raise NasError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise NasError(f"{path}: is a directory, not a .pth file") from None
    except PermissionError:
        raise NasError(f"{path}: cannot read it: permission denied") from None
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError, KeyError, IndexError,
            TypeError, AttributeError, UnicodeDecodeError, OverflowError, OSError) as e:  # any bytes that are not a
        raise NasError(f"{path}: not a PyTorch state_dict ({_reason(e)})") from None  # state_dict; truncated: OSError
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not is_state_dict(obj):
        raise NasError(f"{path}: not a state_dict of named tensors")
    return dict(obj)
