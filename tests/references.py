"""A reference that is not installed: skip on a developer's machine, fail where it is required.

scripts/test.sh (and so CI) installs every reference (NNI's virtualenv, Debian's chromium, the test
extras: timm, Cadene's pretrainedmodels, Ray, the server's packages) and sets
NASDSL_REQUIRE_REFERENCES=1, so that a reference test can never pass there by skipping.
"""
from __future__ import annotations

import importlib
import os

import pytest


def missing(reason: str):
    if os.environ.get("NASDSL_REQUIRE_REFERENCES") == "1":
        pytest.fail(f"{reason} (required: NASDSL_REQUIRE_REFERENCES=1)")
    pytest.skip(reason, allow_module_level=True)


def require(name: str):
    """The module `name` (a reference or another package the tests install), or `missing`: use it for
    them instead of pytest.importorskip, which skips even where every test must run."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        missing(f"{name} is not installed ({e}); pip install -e '.[test]'")
