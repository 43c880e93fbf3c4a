#!/usr/bin/env bash
# Several LiteDepth runs side by side on one GPU, each ending inside a fixed time budget.
#
# Why: the 4,000-step CPU runs of docs/training.md see 32,000 samples; the paper trains on ~4.8 M.
# One small model leaves a GPU mostly idle, so the recipes run concurrently, each with its own
# data-loading workers. A short calibration run first measures steps/s with all of them loaded,
# so each run's --max_steps (and so its learning-rate decay) ends inside the budget; a run that
# names its own --max_steps keeps it. The Trainer's --time_budget_minutes is the safety net.
#
# Usage: bash experiments/long_runs.sh DATA OUT MINUTES NAME:"ARGS" [NAME:"ARGS" ...]
#   DATA: a manifest folder (e.g. from scripts/shrink_dataset.py); OUT: each run's folder, log and a tar
#   e.g. bash experiments/long_runs.sh packed runs/gpu 5.5 "r2-s0:--crop r2 --seed 0" "fixed-s0:--crop fixed --seed 0"
{  # read whole before it runs, so editing this file during a run cannot change that run
set -euo pipefail
cd "$(dirname "$0")/.."  # python3 is the GPU machine's own (no .venv travels there), so no PATH change as in the other scripts
DATA=$1; OUT=$2; MINUTES=$3; shift 3
mkdir -p "$OUT"
CACHE=${TMPDIR:-/tmp}/litedepth-decoded  # one store per run: concurrent builders must not share one
CAL_STEPS=${CAL_STEPS:-300}
# the shipped recipe (its crop, seed and step count are overridden per run and by the calibration)
COMMON=(--recipe litedepth-synth --train_data "$DATA" --logging_steps 200
        --save_strategy no --report_to none --dataloader_num_workers 4 --disable_tqdm true)
declare -A RUNS=()
for spec in "$@"; do RUNS[${spec%%:*}]=${spec#*:}; done

launch() {  # launch NAME OUTPUT_DIR BEFORE AFTER: one run in the background; the run's own arguments go
  # between BEFORE (which they override) and AFTER (which overrides them)
  local name=$1 dir=$2 before=$3 after=$4
  # shellcheck disable=SC2086
  python3 scripts/train.py "${COMMON[@]}" $before ${RUNS[$name]} $after --decoded_cache "$CACHE-$name" \
    --output_dir "$dir" > "$dir.log" 2>&1 &
}

pids=()
for name in "${!RUNS[@]}"; do  # calibration: all at once for a few steps, so the rate is the loaded one
  launch "$name" "$OUT/calibrate-$name" "" "--max_steps $CAL_STEPS --warmup_steps 50 --time_budget_minutes 60"
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
RATE=$(grep -h "steady rate" "$OUT"/calibrate-*.log | awk '{print $3}' | sort -g | head -1)
STEPS=$(python3 -c "print(int($RATE * $MINUTES * 60 * 0.9))")
echo "calibration: $RATE steps/s per run with ${#RUNS[@]} runs at once -> --max_steps $STEPS for $MINUTES min"
pids=()
for name in "${!RUNS[@]}"; do
  launch "$name" "$OUT/$name" "--max_steps $STEPS" "--time_budget_minutes $MINUTES"
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || echo "a run failed: see $OUT/*.log"; done
for name in "${!RUNS[@]}"; do
  tar -cf "$OUT/$name.tar" -C "$OUT" "$name/config.json" "$name/model.safetensors" "$name/training_run.json" \
      "$name/preprocessor_config.json" "$name.log" 2>/dev/null || true
done
exit
}
