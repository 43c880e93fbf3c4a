#!/usr/bin/env bash
# Regenerate the embedded checkpoints from nothing but this repository and ../shared/data:
#   1. render the 8,000 synthetic frames (seed 0) into a cache folder (resumes; skips what is there),
#   2. train litedepth-synth: 8,000 steps on the renders only (the starting point for fine-tuning),
#   3. train litedepth-indoor (the default): litedepth-synth fine-tuned 2,000 steps on the desk frames,
#   4. score both on the four dev folders.
# About 40 min on a 2-core CPU with the LLVM renderer. Usage: bash scripts/reproduce_default.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/default}
SYNTH=${LITEDEPTH_CACHE:-$HOME/.cache/litedepth}/synth/s0-240x320-spp8-direct
REAL=../shared/data/tum_fr1_rpy
COMMON=(--crop r2 --augment strong --loss_weighting fixed --per_device_train_batch_size 8 --warmup_steps 100
        --weight_decay 0.1 --logging_steps 50 --save_strategy no --report_to none --seed 0)

litedepth synth --out "$SYNTH" --num 8000 --seed 0
python scripts/train.py --train_data "$SYNTH" --output_dir "$OUT/litedepth-synth" --max_steps 8000 \
    --learning_rate 4e-3 "${COMMON[@]}"
python scripts/train.py --train_data "$REAL" --model_name_or_path "$OUT/litedepth-synth" \
    --output_dir "$OUT/litedepth-indoor" --max_steps 2000 --learning_rate 4e-4 "${COMMON[@]}"
for model in litedepth-synth litedepth-indoor; do
    python scripts/evaluate_dev.py --model "$OUT/$model" --out "$OUT/$model/dev_eval"
done
