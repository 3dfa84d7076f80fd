"""The run folder's best.nas: the best normal and reduction cells, and networks that transfer them
to the NASNet ImageNet skeletons (mobile 4 @ P, 224 px; large 6 @ P, 331 px)."""
from __future__ import annotations

from .space import ProxyNet, Space, cell_text, concat_count, network_text, proxy_settings

NORMAL, REDUCTION = "best_normal", "best_reduction"

# TF-slim's mobile and large configurations (REFERENCE.md); P = 4 x F x (states the normal cell
# concatenates), which gives NASNet-A's 4 @ 1056 and 6 @ 4032.
TRANSFERS: dict[str, dict[str, object]] = {
    "mobile": {"n": 4, "filters": 44, "stem": "imagenet", "image": 224, "classes": 1000, "stem_multiplier": 1,
               "skip_reduction_input": False, "aux_head": True, "drop_path_keep": 1.0, "dropout_keep": 0.5},
    "large": {"n": 6, "filters": 168, "stem": "imagenet", "image": 331, "classes": 1000, "stem_multiplier": 3,
              "skip_reduction_input": True, "aux_head": True, "drop_path_keep": 0.7, "dropout_keep": 0.5},
}


def transfer_settings(space: Space, decisions: tuple[int, ...], which: str) -> dict[str, object]:
    """The `network` keys of a transfer skeleton for these cells."""
    t = dict(TRANSFERS[which])
    n, f = t.pop("n"), t.pop("filters")
    p = 4 * int(f) * concat_count(space, decisions, "normal")
    return {"stem": t.pop("stem"), "cells": f"{n} @ {p}", **t}


def best_nas(space: Space, decisions: tuple[int, ...], proxy: ProxyNet, header: str = "") -> str:
    """best.nas text: both cells, the proxy network they were scored in, and the transfers."""
    parts = [header.rstrip()] if header else []
    parts += [cell_text(space, decisions, "normal", NORMAL), cell_text(space, decisions, "reduction", REDUCTION),
              network_text("best_proxy", NORMAL, REDUCTION, proxy_settings(proxy)),
              network_text("best_mobile", NORMAL, REDUCTION, transfer_settings(space, decisions, "mobile")),
              network_text("best_large", NORMAL, REDUCTION, transfer_settings(space, decisions, "large"))]
    return "\n\n".join(parts) + "\n"
