"""Code generation: zoo networks compile to torch-only source that matches the references' sizes."""
from __future__ import annotations

import pytest
import torch

import nasdsl
from nasdsl.codegen import generate_source


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_mobile_parameter_count_equals_cadene():
    pretrainedmodels = pytest.importorskip("pretrainedmodels")
    ours = nasdsl.compile("nasnet_a_mobile", aux_head=False)
    ref = pretrainedmodels.nasnetamobile(num_classes=1000, pretrained=None)
    assert n_params(ours) == n_params(ref)


def test_source_is_deterministic_and_torch_only():
    a = generate_source("nasnet_a_mobile")
    b = generate_source("nasnet_a_mobile")
    assert a == b
    imports = [ln for ln in a.splitlines() if ln.startswith(("import ", "from "))]
    assert imports == ["from __future__ import annotations", "import torch",
                       "import torch.nn.functional as F", "from torch import nn"]
