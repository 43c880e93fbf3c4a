#!/usr/bin/env bash
# One rendered training set, the shipped recipe on it, scored at the default's samples (docs/training.md, "Scenes
# fuller of things (generator v5)" and "Next run ... the v6 renders"):
#   1. render 12,000 frames of SEED with the generator of COMMIT (experiments/render_at.sh) into the cache
#      (resumes; ~19 min at ~10.5 images/s),
#   2. shrink them to 120x160,
#   3. train the shipped recipe (--recipe litedepth-synth) from scratch on them alone, stopped at step 12,800 of its
#      14,000-step schedule (as the default was), checkpoints every 800 steps; resumes from the last checkpoint
#      when the run folder holds one,
#   4. score the step-12,800 weights beside the default on the dev folders, then on tum_fr1_rpy,
#   5. score the last five checkpoints (9,600-12,800) on the dev folders and print their mean (scripts/score_run.py;
#      from 2026-12-07 the rules compare these means: one end point is too noisy, docs/training.md).
# Usage: bash experiments/renders_run.sh [--no-photos] [--no-meshes] COMMIT SEED NAME [RUN_FOLDER [TRAINING ARGUMENTS ...]]
#   (arguments after the run folder go to scripts/train.py after the recipe's, so they win: an ablation;
#   --no-photos / --no-meshes render without ../shared/data/textures_photos / meshes: procedural materials,
#   primitive clutter; the render folder's name says which)
#   v5: bash experiments/renders_run.sh eade417 3 v5      v6: bash experiments/renders_run.sh f4bb6ac 4 v6
#   v6 without the camera model: bash experiments/renders_run.sh f4bb6ac 4 v6 ~/.cache/litedepth/runs/v6-s4-nocam \
#                                    --camera_model false
{  # read whole before it runs, so editing this file during a run cannot change that run
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] && PATH="$PWD/.venv/bin:$PATH"  # the README's environment, activated or not
ASSETS=(); SUFFIX=; PHOTOS=1; MESHES=1
while [ "${1:-}" = --no-photos ] || [ "${1:-}" = --no-meshes ]; do
    [ "$1" = --no-photos ] && PHOTOS=0
    [ "$1" = --no-meshes ] && MESHES=0
    shift
done
[ $PHOTOS = 1 ] && { ASSETS+=(--textures ../shared/data/textures_photos); SUFFIX+=-photos; }
[ $MESHES = 1 ] && { ASSETS+=(--meshes ../shared/data/meshes); SUFFIX+=-ycb; }
COMMIT=$1; SEED=$2; NAME=$3
CACHE=${LITEDEPTH_CACHE:-$HOME/.cache/litedepth}
RENDERS=$CACHE/synth/s$SEED-240x320-spp4-$NAME$SUFFIX
OUT=${4:-$CACHE/runs/$NAME-s$SEED-cam}
shift $(( $# < 4 ? $# : 4 ))  # what is left: training arguments

bash experiments/render_at.sh "$COMMIT" --out "$RENDERS" --num 12000 --seed "$SEED" ${ASSETS[@]+"${ASSETS[@]}"}
[ -f "$RENDERS-120x160/manifest.csv" ] || python scripts/shrink_dataset.py "$RENDERS" "$RENDERS-120x160" --factor 2
RESUME=()
LAST=$(ls -d "$OUT"/checkpoint-* 2>/dev/null | sort -V | tail -1 || true)
[ -n "$LAST" ] && RESUME=(--resume_from_checkpoint "$LAST")
python scripts/train.py --recipe litedepth-synth --train_data "$RENDERS-120x160" --output_dir "$OUT" \
    --dataloader_num_workers 1 --logging_steps 200 --save_strategy steps --save_steps 800 --save_total_limit 20 \
    --stop_at_step 12800 --time_budget_minutes 95 --report_to none ${RESUME[@]+"${RESUME[@]}"} "$@"
# the run folder holds the step-12,800 weights and its training_run.json (so evaluate_dev knows what it saw)
python scripts/evaluate_dev.py --model "$OUT" --model litedepth_hf/checkpoints/litedepth-synth \
    --out "$OUT/dev_eval" --overwrite
python scripts/evaluate_dev.py --model "$OUT" --model litedepth_hf/checkpoints/litedepth-synth \
    --data ../shared/data/tum_fr1_rpy --out "$OUT/dev_eval_rpy" --overwrite
python scripts/score_run.py "$OUT" --last 5
exit
}
