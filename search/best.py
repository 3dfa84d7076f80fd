"""The run folder's best.nas: the best normal and reduction cells, the proxy network they were
scored in, and networks that transfer them to the full skeletons of the space: NASNet's ImageNet
mobile (4 @ P, 224 px) and large (6 @ P, 331 px), or DARTS' CIFAR (C 36, 20 cells) and ImageNet
(C 48, 14 cells, 224 px) presets."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from nasdsl.skeletons import SKELETONS

from .space import ProxyNet, Space, cell_text, concat_count, network_text, proxy_settings

NORMAL, REDUCTION = "best_normal", "best_reduction"

# Per skeleton, its transfer networks: the presets each skeleton names (nasdsl/skeletons/).
TRANSFERS: dict[str, dict[str, dict[str, object]]] = {
    name: dict(sk.transfers) for name, sk in SKELETONS.items() if sk.transfers}
TRANSFER_NAMES = tuple(dict.fromkeys(name for t in TRANSFERS.values() for name in t))


def transfer_settings(space: Space, decisions: tuple[int, ...], which: str) -> dict[str, object]:
    """The `network` keys of one of the space's transfer networks for these cells."""
    sk = SKELETONS[space.skeleton]
    return sk.transfer_keys(sk.transfers[which], concat_count(space, decisions, "normal"))


def best_nas(space: Space, decisions: tuple[int, ...], proxy: ProxyNet, header: str = "") -> str:
    """best.nas text: both cells, the proxy network they were scored in, and the transfers."""
    parts = [header.rstrip()] if header else []
    parts += [cell_text(space, decisions, "normal", NORMAL), cell_text(space, decisions, "reduction", REDUCTION),
              network_text("best_proxy", NORMAL, REDUCTION, proxy_settings(proxy, space.skeleton))]
    parts += [network_text(f"best_{which}", NORMAL, REDUCTION, transfer_settings(space, decisions, which))
              for which in TRANSFERS[space.skeleton]]
    return "\n\n".join(parts) + "\n"


def write_best(folder: Path, store: Any, space: Space, proxy: ProxyNet, config: Any) -> Path | None:
    """Write folder/best.nas (atomically) from the best finished trial of `store`, if any; `config`:
    the run's SearchConfig. A one-shot pick's header also gives its shared-weight accuracy."""
    top = store.best(1)
    if not top:
        return None
    t = top[0]
    shared = t["meta"].get("shared_accuracy")
    header = (f"# best of search run {folder.name}: trial {t['id']}, strategy {t['strategy']}, "
              f"reward {t['reward']:.4f} ({config.reward}, {config.dataset})"
              + ("" if shared is None else f"; trained stand-alone, shared-weight accuracy {shared:.4f}")
              + f"\n# decisions: {' '.join(map(str, t['decisions']))}")
    path = folder / "best.nas"
    tmp = path.with_suffix(".nas.tmp")
    tmp.write_text(best_nas(space, tuple(t["decisions"]), proxy, header))
    tmp.replace(path)
    return path
