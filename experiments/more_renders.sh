#!/usr/bin/env bash
# Twice the distinct renders at equal samples (docs/training.md, "Twice the distinct renders at equal samples"):
#   1. render 12,000 frames of seed 2 with generator v3 (experiments/render_at.sh 6d9b578) into the cache (resumes;
#      ~19 min at ~10.5 img/s),
#   2. shrink them to 120x160,
#   3. train the shipped recipe (--recipe litedepth-synth) from scratch on them and the default's 12,000 v2 frames
#      of seed 1 (experiments/reproduce_default.sh steps 1-2, generator v2), mixed 1:1,
#      checkpoints every 800 steps; resumes from the last checkpoint when the run folder holds one,
#   4. score the checkpoint at step 12,800 (the default's 409,600 samples) beside the default.
# Usage: bash experiments/more_renders.sh [RUN_FOLDER]
{  # read whole before it runs, so editing this file during a run cannot change that run
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] && PATH="$PWD/.venv/bin:$PATH"  # the README's environment, activated or not
CACHE=${LITEDEPTH_CACHE:-$HOME/.cache/litedepth}
V2=$CACHE/synth/s1-240x320-spp4-v2-photos-ycb-120x160
V3=$CACHE/synth/s2-240x320-spp4-v3-photos-ycb
OUT=${1:-$CACHE/runs/v23-s12-cam}

[ -f "$V2/manifest.csv" ] || { echo "missing $V2: run steps 1-2 of experiments/reproduce_default.sh" >&2; exit 1; }
bash experiments/render_at.sh 6d9b578 --out "$V3" --num 12000 --seed 2 --textures ../shared/data/textures_photos \
    --meshes ../shared/data/meshes
[ -f "$V3-120x160/manifest.csv" ] || python scripts/shrink_dataset.py "$V3" "$V3-120x160" --factor 2
RESUME=()
LAST=$(ls -d "$OUT"/checkpoint-* 2>/dev/null | sort -V | tail -1 || true)
[ -n "$LAST" ] && RESUME=(--resume_from_checkpoint "$LAST")
python scripts/train.py --recipe litedepth-synth --train_data "$V2" "$V3-120x160" --output_dir "$OUT" \
    --dataloader_num_workers 1 --logging_steps 200 --save_strategy steps --save_steps 800 --save_total_limit 20 \
    --time_budget_minutes 95 --report_to none ${RESUME[@]+"${RESUME[@]}"}
# the rule's checkpoint: step 12,800, or the last one where the time budget stopped the run before it
SCORED=$OUT/checkpoint-12800
[ -d "$SCORED" ] || SCORED=$(ls -d "$OUT"/checkpoint-* | sort -V | tail -1)
python scripts/evaluate_dev.py --model "$SCORED" --model litedepth_hf/checkpoints/litedepth-synth \
    --out "$OUT/dev_eval" --overwrite
exit
}
