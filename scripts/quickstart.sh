#!/usr/bin/env bash
# Install nasdsl into .venv (CPU torch) and run the main job: a NASNet-style search on the
# embedded digits data set, then its report. Everything runs locally; nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check "torch==2.13.0" ".[cpu]" 2>&1 \
  | grep -v "^WARNING: Location" || true
OUT=${OUT:-runs/quickstart}
if [ -f "$OUT/trials.sqlite" ]; then
  .venv/bin/nasdsl search --resume --out "$OUT" "$@"
else
  .venv/bin/nasdsl search --out "$OUT" "$@"
fi
.venv/bin/nasdsl report "$OUT"
