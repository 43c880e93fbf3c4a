#!/usr/bin/env bash
# The scene-count curve and the teacher route of docs/training.md ("More scenes and a teacher"): renders only,
# seed 0, batch 8, 8,000 steps unless said otherwise; scored on the four dev folders.
#   2,000 / 8,000 / 20,000 scenes, a 2x-wide teacher (1.48 M parameters, 4,000 steps), a student distilled from
#   it (8,000 steps), and the steps axis at 20,000 scenes: 4,000 and 24,000 steps ("Steps, not scenes?").
# Those runs (2026-11-26) used the v1 renderer; `litedepth synth` now renders v2 rooms (photo materials, meshes,
# lamps), so a rerun measures the same curve on today's renders, not the published numbers.
# About 145 min on a 2-core CPU after the renders (litedepth synth --num 20000: ~33 min). Usage: bash experiments/run_scene_count.sh [OUT]
{  # read whole before it runs, so editing this file during a run cannot change that run
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] && PATH="$PWD/.venv/bin:$PATH"  # the README's environment, activated or not
OUT=${1:-runs/curve}
SYNTH=${LITEDEPTH_CACHE:-$HOME/.cache/litedepth}/synth/s0-240x320-spp8-direct
COMMON=(--crop r2 --augment strong --loss_weighting fixed --per_device_train_batch_size 8 --warmup_steps 100
        --weight_decay 0.1 --logging_steps 50 --save_strategy no --report_to none --seed 0 --learning_rate 4e-3)
litedepth synth --out "$SYNTH" --num 20000 --seed 0
for n in 2000 8000 20000; do
    python scripts/train.py --train_data "$SYNTH" --max_train_samples $n --output_dir "$OUT/synth$n" --max_steps 8000 "${COMMON[@]}"
done
for steps in 4000 24000; do
    python scripts/train.py --train_data "$SYNTH" --output_dir "$OUT/synth20000-$((steps / 1000))k" --max_steps $steps "${COMMON[@]}"
done
python scripts/train.py --train_data "$SYNTH" --output_dir "$OUT/teacher20000" --max_steps 4000 \
    --config '{"width_multiplier": 2.0, "decoder_channels": [144, 48, 16], "head_channels": 48}' "${COMMON[@]}"
python scripts/train.py --train_data "$SYNTH" --output_dir "$OUT/distilled20000" --max_steps 8000 \
    --teacher_name_or_path "$OUT/teacher20000" "${COMMON[@]}"
for run in synth2000 synth8000 synth20000 synth20000-4k synth20000-24k teacher20000 distilled20000; do
    python scripts/evaluate_dev.py --model "$OUT/$run" --out "$OUT/$run/dev_eval" --overwrite
done
python experiments/scene_count_curve.py --runs 2000="$OUT/synth2000/dev_eval" 8000="$OUT/synth8000/dev_eval" \
    20000="$OUT/synth20000/dev_eval" --extra "teacher (2x wide)=$OUT/teacher20000/dev_eval" \
    "distilled student=$OUT/distilled20000/dev_eval" --out docs/synthetic_experiments/scene_count
exit
}
