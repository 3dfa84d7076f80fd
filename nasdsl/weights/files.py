"""A user's weights file (what `torch.save` wrote): read as tensors and plain data only, never code,
with a one-line error naming the file for anything else. Every command that takes weights reads
them here: convert-weights (reference weights) and export (`deploy.export`)."""
from __future__ import annotations

import pickle
import warnings
from collections.abc import Mapping
from pathlib import Path

import torch

from ..errors import fail


def _reason(e: Exception) -> str:
    """One short line on why torch.load failed (its unpickling errors run to a page of advice)."""
    if isinstance(e, pickle.UnpicklingError):
        return "not a pickle of tensors"
    first = (str(e).strip().splitlines() or [""])[0]
    return f"{type(e).__name__}: {first[:120]}" if first else type(e).__name__


def read_file(path: str | Path) -> object:
    """What `torch.save` wrote to `path`, loaded with weights_only (tensors and plain data), without
    torch's warning about a pickle protocol it did not write itself (the error that follows says enough)."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise fail(path, "no such weights file") from None
    except IsADirectoryError:
        raise fail(path, "is a directory, not a weights file") from None
    except PermissionError:
        raise fail(path, "cannot read it: permission denied") from None
    except Exception as e:  # noqa: BLE001 (bytes that are not a torch.save file fail in many types; truncated: OSError)
        raise fail(path, f"not a PyTorch state_dict file ({_reason(e)})") from None


def read_state_dict(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """(the state_dict, the rest of the checkpoint holding it: {} for a bare one) from a weights file:
    a bare state_dict (`torch.save(module.state_dict())`, convert-weights) or a checkpoint with it
    under "state_dict" (`nasdsl train`'s, with its "card")."""
    obj = read_file(path)
    rest: dict = {}
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        rest = {k: v for k, v in obj.items() if k != "state_dict"}
        obj = obj["state_dict"]
    if not is_state_dict(obj):
        raise fail(path, "expected a dict of named tensors (a state_dict)")
    return dict(obj), rest


def is_state_dict(obj: object) -> bool:
    """Whether `obj` is a state_dict: tensors keyed by their names."""
    return isinstance(obj, Mapping) and all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                            for k, v in obj.items())


def non_finite(state: Mapping[str, torch.Tensor]) -> str:
    """"" or what is wrong with weights whose floating-point tensors hold NaN or inf (a diverged
    training's: every prediction would be NaN), naming the first three."""
    broken = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if not broken:
        return ""
    more = f" (+{len(broken) - 3} more)" if len(broken) > 3 else ""
    return f"weights that are not finite (NaN or inf) in {', '.join(broken[:3])}{more}"
