"""The module namespace of a generated cell, named once (as torch.fx names its nodes in one place).

TF-slim (and Cadene, timm, NNI after conversion) name the two branches of block k
`comb_iter_{k}_left` and `comb_iter_{k}_right`, the block's sum `comb_iter_{k}`; a third branch
(a space with `inputs = 3`) is `comb_iter_{k}_2`. The code generator, the interpreter and the
weight maps all read these names from here.
"""
from __future__ import annotations

import re

SIDES = ("left", "right")

# a branch module's attribute, as a regex (group 1: block index, group 2: side)
OP_ATTR = re.compile(r"comb_iter_(\d+)_(left|right|\d+)")


def side(slot: int) -> str:
    """`left`, `right`, or the slot number for a third or later branch."""
    return SIDES[slot] if 0 <= slot < len(SIDES) else str(slot)


def op_attr(block: int, slot: int) -> str:
    """The attribute of branch `slot` of block `block` (0-based): `comb_iter_0_left`."""
    return f"comb_iter_{block}_{side(slot)}"


def combine_name(block: int) -> str:
    """The name of block `block`'s combined value: `comb_iter_0`."""
    return f"comb_iter_{block}"
