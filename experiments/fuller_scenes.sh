#!/usr/bin/env bash
# Scenes fuller of things at equal samples (docs/training.md, "Scenes fuller of things (generator v5)"):
#   1. render 12,000 frames of seed 3 with generator v5 (experiments/render_at.sh eade417) into the cache
#      (resumes; ~20 min at ~10 img/s),
#   2. shrink them to 120x160,
#   3. train the shipped recipe (--recipe litedepth-synth) from scratch on them alone, stopped at step 12,800 of its
#      14,000-step schedule (as the default was), checkpoints every 800 steps;
#      resumes from the last checkpoint when the run folder holds one,
#   4. score the checkpoint at step 12,800 (the default's 409,600 samples) beside the default.
# Usage: bash experiments/fuller_scenes.sh [RUN_FOLDER]
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${LITEDEPTH_CACHE:-$HOME/.cache/litedepth}
V5=$CACHE/synth/s3-240x320-spp4-v5-photos-ycb
OUT=${1:-$CACHE/runs/v5-s3-cam}

bash experiments/render_at.sh eade417 --out "$V5" --num 12000 --seed 3 --textures ../shared/data/textures_photos \
    --meshes ../shared/data/meshes
[ -f "$V5-120x160/manifest.csv" ] || python scripts/shrink_dataset.py "$V5" "$V5-120x160" --factor 2
RESUME=()
LAST=$(ls -d "$OUT"/checkpoint-* 2>/dev/null | sort -V | tail -1 || true)
[ -n "$LAST" ] && RESUME=(--resume_from_checkpoint "$LAST")
python scripts/train.py --recipe litedepth-synth --train_data "$V5-120x160" --output_dir "$OUT" \
    --dataloader_num_workers 1 --logging_steps 200 --save_strategy steps --save_steps 800 --save_total_limit 20 \
    --stop_at_step 12800 --time_budget_minutes 95 --report_to none ${RESUME[@]+"${RESUME[@]}"}
# the rule's checkpoint: step 12,800, or the last one where the time budget stopped the run before it
SCORED=$OUT/checkpoint-12800
[ -d "$SCORED" ] || SCORED=$(ls -d "$OUT"/checkpoint-* | sort -V | tail -1)
python scripts/evaluate_dev.py --model "$SCORED" --model litedepth_hf/checkpoints/litedepth-synth --out "$OUT/dev_eval"
