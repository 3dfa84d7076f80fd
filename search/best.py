"""The run folder's best.nas: the best normal and reduction cells, the proxy network they were
scored in, and networks that transfer them to the full skeletons of the space: NASNet's ImageNet
mobile (4 @ P, 224 px) and large (6 @ P, 331 px), or DARTS' CIFAR (C 36, 20 cells) and ImageNet
(C 48, 14 cells, 224 px) presets."""
from __future__ import annotations

from .space import ProxyNet, Space, cell_text, concat_count, network_text, proxy_settings

NORMAL, REDUCTION = "best_normal", "best_reduction"

# Per skeleton, its transfer networks. NASNet: TF-slim's mobile and large configurations
# (REFERENCE.md), P = 4 x F x (states the normal cell concatenates), which gives NASNet-A's 4 @ 1056
# and 6 @ 4032. DARTS: the presets of the DARTS code (as in the zoo's darts_nets.nas).
TRANSFERS: dict[str, dict[str, dict[str, object]]] = {
    "nasnet": {
        "mobile": {"n": 4, "filters": 44, "stem": "imagenet", "image": 224, "classes": 1000, "stem_multiplier": 1,
                   "skip_reduction_input": False, "aux_head": True, "drop_path_keep": 1.0, "dropout_keep": 0.5},
        "large": {"n": 6, "filters": 168, "stem": "imagenet", "image": 331, "classes": 1000, "stem_multiplier": 3,
                  "skip_reduction_input": True, "aux_head": True, "drop_path_keep": 0.7, "dropout_keep": 0.5},
    },
    "darts": {
        "cifar": {"n": 6, "filters": 36, "stem": "cifar", "image": 32, "classes": 10, "stem_multiplier": 3,
                  "aux_head": True, "drop_path_keep": 0.8, "bn_eps": 1e-5},
        "imagenet": {"n": 4, "filters": 48, "stem": "imagenet", "image": 224, "classes": 1000,
                     "aux_head": True, "drop_path_keep": 1.0, "bn_eps": 1e-5},
    },
}
TRANSFER_NAMES = tuple(dict.fromkeys(name for t in TRANSFERS.values() for name in t))


def transfer_settings(space: Space, decisions: tuple[int, ...], which: str) -> dict[str, object]:
    """The `network` keys of one of the space's transfer networks for these cells."""
    t = dict(TRANSFERS[space.skeleton][which])
    n, f = t.pop("n"), t.pop("filters")
    if space.skeleton == "nasnet":
        cells = f"{n} @ {4 * int(f) * concat_count(space, decisions, 'normal')}"
        return {"stem": t.pop("stem"), "cells": cells, **t}
    return {"skeleton": space.skeleton, "stem": t.pop("stem"), "cells": n, "filters": f, **t}


def best_nas(space: Space, decisions: tuple[int, ...], proxy: ProxyNet, header: str = "") -> str:
    """best.nas text: both cells, the proxy network they were scored in, and the transfers."""
    parts = [header.rstrip()] if header else []
    parts += [cell_text(space, decisions, "normal", NORMAL), cell_text(space, decisions, "reduction", REDUCTION),
              network_text("best_proxy", NORMAL, REDUCTION, proxy_settings(proxy, space.skeleton))]
    parts += [network_text(f"best_{which}", NORMAL, REDUCTION, transfer_settings(space, decisions, which))
              for which in TRANSFERS[space.skeleton]]
    return "\n\n".join(parts) + "\n"
