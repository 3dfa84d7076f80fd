"""A reference that is not installed: skip on a developer's machine, fail where it is required.

scripts/test.sh (and so CI) installs every reference (NNI's virtualenv, Debian's chromium) and sets
NASDSL_REQUIRE_REFERENCES=1, so that a reference test can never pass there by skipping.
"""
from __future__ import annotations

import os

import pytest


def missing(reason: str):
    if os.environ.get("NASDSL_REQUIRE_REFERENCES") == "1":
        pytest.fail(f"{reason} (required: NASDSL_REQUIRE_REFERENCES=1)")
    pytest.skip(reason)
