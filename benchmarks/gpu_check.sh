#!/usr/bin/env bash
# Every CUDA path of nasdsl, in under 5 minutes on a machine with an NVIDIA GPU. Exits non-zero on the
# first failure (and when no GPU is visible: this script is for GPU machines).
#   1. the CUDA tests (Trainer on CUDA with and without AMP, resume; a child out of GPU memory is a
#      failed trial and the next one trains; the supernet's child on CUDA; onnxruntime's CUDA provider,
#      which needs onnxruntime-gpu installed)
#   2. nasdsl search: 4 children with --device cuda --amp, 2 local workers (pinned round-robin
#      when there are several GPUs); every child must finish
#   3. nasdsl train: 1 epoch of nasnet_a_cifar on digits at 32 px with --device cuda --amp, --out
#      checkpoint folder and -o weights; with 2+ GPUs also a 2-process DDP run over NCCL
#   4. nasdsl export --weights ... --verify, then nasdsl infer --provider cuda (onnxruntime-gpu)
# Usage: benchmarks/gpu_check.sh   (PYTHON=/path/to/python to choose the interpreter)
set -euo pipefail
PY=${PYTHON:-python}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
START=$SECONDS
step() { echo; echo "== [$((SECONDS - START)) s] $*"; }
fail() { echo "gpu_check: FAILED: $*" >&2; exit 1; }

"$PY" -c "import nasdsl_search" 2>/dev/null \
  || fail "$PY cannot import nasdsl_search: install this checkout into it (pip install --no-deps -e .; search/ installs as nasdsl_search)"

step "CUDA visible to torch"
"$PY" - <<'EOF' || fail "no CUDA device visible to torch"
import sys, torch
if not torch.cuda.is_available():
    sys.exit(1)
p = torch.cuda.get_device_properties(0)
print(f"torch {torch.__version__} (CUDA {torch.version.cuda}), {torch.cuda.device_count()} GPU(s): {p.name}, "
      f"{p.total_memory / 2**30:.0f} GiB; AMP dtype: {'bfloat16' if torch.cuda.is_bf16_supported() else 'float16'}")
EOF
GPUS=$("$PY" -c "import torch; print(torch.cuda.device_count())")

step "CUDA tests"
"$PY" -m pytest -q -rs -p no:cacheprovider tests/test_trainer.py tests/test_train_devices.py tests/test_supernet.py \
    tests/test_onnx_infer.py -k cuda 2>&1 | tee "$WORK/pytest.txt"
# on a GPU machine only the no-GPU message tests may skip
grep "^SKIPPED" "$WORK/pytest.txt" | grep -v "this machine has CUDA" && fail "CUDA tests were skipped"
grep -Eq "[0-9]+ passed" "$WORK/pytest.txt" || fail "CUDA tests"
grep -Eq "[0-9]+ failed" "$WORK/pytest.txt" && fail "CUDA tests"

step "search: 4 children, --device cuda --amp"
"$PY" -m nasdsl search --out "$WORK/search" --strategy random --trials 4 --workers 2 --epochs 2 \
    --device cuda --amp --quiet | tee "$WORK/search.txt"
grep -q "trials: 4 done, 0 failed" "$WORK/search.txt" || fail "search children on CUDA"

step "train: 1 epoch, --device cuda --amp"
"$PY" -m nasdsl train nasnet_a_cifar --dataset digits --image 32 --epochs 1 --batch-size 128 \
    --device cuda --amp --out "$WORK/train" -o "$WORK/w.pt" | tee "$WORK/train.txt"
grep -q "cuda" "$WORK/train.txt" || fail "train did not run on CUDA"
test -f "$WORK/train/checkpoint.pt" -a -f "$WORK/train/best.pt" || fail "train --out wrote no checkpoint"

if [ "$GPUS" -ge 2 ]; then
    step "train: DDP over NCCL, 2 processes"
    "$PY" -m nasdsl train nasnet_a_cifar --dataset digits --image 32 --epochs 1 --batch-size 128 \
        --device cuda --amp --nproc 2 -o "$WORK/ddp.pt" | tee "$WORK/ddp.txt"
    grep -q "largest weight difference from rank 0: 0$" "$WORK/ddp.txt" || fail "DDP replicas differ"
else
    step "train: DDP over NCCL skipped (1 GPU; NCCL needs one device per process)"
fi

step "export --weights --verify, infer --provider cuda"
"$PY" -m nasdsl export nasnet_a_cifar --weights "$WORK/w.pt" -o "$WORK/m.onnx" --verify | tee "$WORK/export.txt"
grep -q "weights: trained on digits" "$WORK/export.txt" || fail "the model card lost the training data"
"$PY" - "$WORK/digit.png" <<'EOF'
import sys
import numpy as np
from PIL import Image
from sklearn.datasets import load_digits
Image.fromarray((load_digits().images[7] * 255 / 16).astype(np.uint8)).convert("RGB").save(sys.argv[1])
EOF
"$PY" -m nasdsl infer "$WORK/m.onnx" "$WORK/digit.png" --provider cuda --top 3 | tee "$WORK/infer.txt"
grep -Eq "^ +[0-9.]+ +[0-9] +\[[0-9]\]" "$WORK/infer.txt" || fail "infer did not print digit labels"

ELAPSED=$((SECONDS - START))
echo
echo "gpu_check: all CUDA paths passed in ${ELAPSED} s"
[ "$ELAPSED" -le 300 ] || fail "took ${ELAPSED} s, over the 5-minute budget"
