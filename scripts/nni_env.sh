#!/usr/bin/env bash
# Create (idempotently) .venv-nni: the reference environment for the NNI DARTS tests.
# NNI 3.0 pins filelock<3.12 and typeguard<4.1.3 and its hub needs pytorch-lightning, so it gets a
# virtualenv of its own instead of sharing the test venv. torch/torchvision come from local disk.
# Prints the venv's python path on success; the tests read NASDSL_NNI_PYTHON or .venv-nni/bin/python.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${NNI_VENV:-.venv-nni}
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import nni.nas.hub.pytorch" 2>/dev/null; then
  echo "$VENV/bin/python"; exit 0
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check \
  "torch==2.14.1" "torchvision==0.29.1" "nni==3.0" "pytorch-lightning>=2.0" "filelock<3.12" \
  "typeguard>=3.0,<4.1.3" 2>&1 | grep -v "^WARNING: Location" || true
"$VENV/bin/python" -c "import nni.nas.hub.pytorch" >&2
echo "$VENV/bin/python"
