#!/usr/bin/env bash
# Install everything the tests need and run the whole test suite:
# - .venv-test: the project with its [test] extra; torch 2.14.1 + torchvision 0.29.1, because the
#   reference models (timm, Cadene's pretrainedmodels) need torchvision;
# - .venv-nni: NNI 3.0, the DARTS reference, in a virtualenv of its own (its pins clash with ours);
# - Debian's chromium, for the report's headless-browser test (installed when missing and we can).
# The reference environments are then required: their tests fail instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv-test/bin/python ] || "$PY" -m venv .venv-test
# pip's own failure stops the script (pipefail); only grep's "nothing left to print" is ignored
.venv-test/bin/pip install -q --disable-pip-version-check "torch==2.14.1" "torchvision==0.29.1" -e ".[test]" 2>&1 \
  | { grep -v "^WARNING: Location" || true; }
.venv-test/bin/python -c "import timm, pretrainedmodels, torchvision, ray, httpx, starlette, uvicorn, onnxruntime, onnxscript" \
  || { echo "test.sh: the test extras did not install" >&2; exit 1; }
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  { $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium; } >/dev/null 2>&1 \
    || echo "test.sh: could not install Debian's chromium; the browser tests will fail" >&2
fi
NASDSL_NNI_PYTHON=$(bash scripts/nni_env.sh 2>/dev/null | tail -n 1) \
  || echo "test.sh: could not create the NNI reference environment; the DARTS reference tests will fail" >&2
export NASDSL_NNI_PYTHON NASDSL_REQUIRE_REFERENCES=1
# one worker per logical core (pytest-xdist); tests/conftest.py says how they share the machine
exec .venv-test/bin/python -m pytest -q -n logical --dist loadfile --no-loadscope-reorder "$@"
