#!/usr/bin/env bash
# Regenerate the embedded checkpoints from nothing but this repository and ../shared/data:
#   1. render the 20,000 synthetic frames (seed 0) into a cache folder (resumes; skips what is there),
#   2. train litedepth-synth (the default): LiteDepth, 4,000 steps on the renders (7.5 min),
#   3. train litedepth-tum (the desk model): 150 steps on the 120 desk frames, one thread,
#   4. score both on the four dev folders.
# About 45 min on a 2-core CPU with the LLVM renderer (the renders take ~35 of them). Usage: bash scripts/reproduce_default.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/default}
SYNTH=${LITEDEPTH_CACHE:-$HOME/.cache/litedepth}/synth/s0-240x320-spp8-direct
REAL=../shared/data/tum_fr1_rpy
COMMON=(--crop r2 --augment strong --loss_weighting fixed --per_device_train_batch_size 8 --warmup_steps 100
        --weight_decay 0.1 --logging_steps 50 --save_strategy no --report_to none --seed 0 --learning_rate 4e-3)

litedepth synth --out "$SYNTH" --num 20000 --seed 0
python scripts/train.py --train_data "$SYNTH" --output_dir "$OUT/litedepth-synth" --max_steps 4000 "${COMMON[@]}"
OMP_NUM_THREADS=1 python scripts/train.py --train_data "$REAL" --eval_data ../shared/data/tum_fr3_cabinet \
    --output_dir "$OUT/litedepth-tum" --num_train_epochs 10 --warmup_steps 20 --weight_decay 0.1 \
    --crop r2 --augment strong --loss_weighting fixed --seed 0 --save_strategy no --report_to none
for model in litedepth-synth litedepth-tum; do
    python scripts/evaluate_dev.py --model "$OUT/$model" --out "$OUT/$model/dev_eval"
done
