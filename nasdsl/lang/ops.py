"""The one op registry, keyed by the DSL's op names. Search spaces pick subsets of it.

An OpSpec says what an op is, not how a skeleton builds it: strides, channel counts and the
padding convention (TF 'SAME' for NASNet skeletons, symmetric for DARTS) come from where it sits.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class OpSpec:
    name: str
    family: str  # identity | zero | conv | sep | dil_sep | conv_pair | avg | max
    kernel: int = 1  # square kernel size; for conv_pair the long side (1xk then kx1)
    dilation: int = 1
    doc: str = ""


def _op(name: str, family: str, kernel: int = 1, dilation: int = 1, doc: str = "") -> OpSpec:
    return OpSpec(name, family, kernel, dilation, doc)


OPS: dict[str, OpSpec] = {o.name: o for o in [
    # the NASNet paper's 13 ops
    _op("id", "identity", doc="identity; strided or channel-changing: ReLU-1x1 conv-BN (FactorizedReduce on DARTS)"),
    _op("conv1x1", "conv", 1, doc="ReLU-conv 1x1-BN"),
    _op("conv3x3", "conv", 3, doc="ReLU-conv 3x3-BN"),
    _op("conv1x3_3x1", "conv_pair", 3, doc="ReLU-conv 1x3-conv 3x1-BN"),
    _op("conv1x7_7x1", "conv_pair", 7, doc="ReLU-conv 1x7-conv 7x1-BN (DARTS/AmoebaNet conv_7x1_1x7)"),
    _op("dil3x3", "conv", 3, 2, doc="ReLU-dilated conv 3x3 (rate 2)-BN"),
    _op("sep3x3", "sep", 3, doc="(ReLU-depthwise 3x3-pointwise-BN) x2, stride on the first"),
    _op("sep5x5", "sep", 5, doc="(ReLU-depthwise 5x5-pointwise-BN) x2, stride on the first"),
    _op("sep7x7", "sep", 7, doc="(ReLU-depthwise 7x7-pointwise-BN) x2, stride on the first"),
    _op("avg3x3", "avg", 3, doc="3x3 average pool (padding not counted); 1x1 conv-BN if channels change"),
    _op("max3x3", "max", 3, doc="3x3 max pool; 1x1 conv-BN if channels change"),
    _op("max5x5", "max", 5, doc="5x5 max pool; 1x1 conv-BN if channels change"),
    _op("max7x7", "max", 7, doc="7x7 max pool; 1x1 conv-BN if channels change"),
    # DARTS-family ops
    _op("none", "zero", doc="zero (DARTS 'none'): outputs zeros, never chosen in a derived cell"),
    _op("dil_sep3x3", "dil_sep", 3, 2, doc="DARTS dil_conv_3x3: ReLU-depthwise 3x3 rate 2-pointwise-BN"),
    _op("dil_sep5x5", "dil_sep", 5, 2, doc="DARTS dil_conv_5x5: ReLU-depthwise 5x5 rate 2-pointwise-BN"),
]}

# Combiners of a block's branches. NASNet-B/C's add+LayerNorm / add+InstanceNorm have room here
# (a block may name any registered combiner) but are not defined: the paper only draws them.
COMBINERS: dict[str, str] = {
    "add": "element-wise sum of the branches",
    "concat": "channel concatenation of the branches",
}

# Inputs every cell has: this cell's input after preprocessing (h0) and the one before (h1).
CELL_INPUTS = ("h0", "h1")


def suggest(name: str, known) -> str:
    """'did you mean X?' for the nearest known name, or ''."""
    near = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    return f"did you mean {near[0]!r}?" if near else ""


def known_list(known) -> str:
    return ", ".join(sorted(known))
