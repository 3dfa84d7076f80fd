#!/usr/bin/env bash
# Install everything the tests need into .venv-test and run the whole test suite.
# torch 2.14.1 + torchvision 0.29.1: the reference models (timm, Cadene's pretrainedmodels) need torchvision.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv-test/bin/python ] || "$PY" -m venv .venv-test
.venv-test/bin/pip install -q --disable-pip-version-check "torch==2.14.1" "torchvision==0.29.1" -e ".[test]" 2>&1 \
  | grep -v "^WARNING: Location" || true
exec .venv-test/bin/python -m pytest -q "$@"
