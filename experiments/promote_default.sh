#!/usr/bin/env bash
# Make a finished run the embedded default (`litedepth_hf/checkpoints/litedepth-synth`), once its rule in
# docs/training.md says so: every file that is a pure product of the weights is remade here, the same way each time:
#   1. the weights and training_run.json into the checkpoint folder (its config must match the run's),
#   2. the run's training curves, the dev scores, grid and table (docs/default_checkpoint; the card's
#      dev_metrics.json is its metrics.json),
#   3. both example maps (`litedepth predict`; the desk as photo and map side by side),
#   4. the exports (fp32/fp16/int8 ONNX and TFLite, int8 calibrated on the real desk frames) and their parity
#      table (docs/export_parity.json; exports/ is not tracked).
# What it leaves to a person: the card's prose and tables, README, docs/training.md, docs/export.md, runs.json and
# progress.png, reproduce_default.sh: they say what the numbers mean. ~10 min on 2 cores, most of it the exports.
# Usage: bash experiments/promote_default.sh RUN_FOLDER
{  # read whole before it runs, so editing this file during a run cannot change that run
set -euo pipefail
RUN=$(realpath -m "${1:?usage: bash experiments/promote_default.sh RUN_FOLDER}")  # before the cd: relative to the caller
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] && PATH="$PWD/.venv/bin:$PATH"  # the README's environment, activated or not
DEST=litedepth_hf/checkpoints/litedepth-synth
for file in model.safetensors training_run.json config.json training_curves.png; do
    [ -f "$RUN/$file" ] || { echo "error: $RUN/$file not found: is $RUN a finished run folder?" >&2; exit 1; }
done
python - "$RUN/config.json" "$DEST/config.json" <<'EOF'
import json, sys
run, shipped = (json.load(open(path)) for path in sys.argv[1:])
keys = sorted(k for k in set(run) | set(shipped) if run.get(k) != shipped.get(k) and k not in ("transformers_version", "_name_or_path"))
if keys:
    sys.exit(f"error: the run's config differs from the shipped one in {', '.join(keys)}: promote by hand")
EOF
MAPS=$(mktemp -d)
trap 'rm -rf "$MAPS"' EXIT
trap 'echo "promote_default.sh failed: the default is half replaced; git checkout -- litedepth_hf/checkpoints docs/default_checkpoint examples docs/export_parity.json puts the shipped one back" >&2' ERR
cp "$RUN/model.safetensors" "$RUN/training_run.json" "$DEST/"
cp "$RUN/training_curves.png" docs/default_checkpoint/training_curves.png
python scripts/evaluate_dev.py --model "$DEST" --out docs/default_checkpoint --overwrite
cp docs/default_checkpoint/metrics.json "$DEST/dev_metrics.json"

litedepth predict examples/tum_cabinet.jpg examples/tum_fr2_desk.jpg --out "$MAPS"
cp "$MAPS/tum_cabinet_depth.png" examples/tum_cabinet_depth.png
python - "$MAPS/tum_fr2_desk_depth.png" <<'EOF'
import sys
from PIL import Image
photo, colour_map = Image.open("examples/tum_fr2_desk.jpg").convert("RGB"), Image.open(sys.argv[1]).convert("RGB")
if colour_map.width != photo.width:
    colour_map = colour_map.resize((photo.width, round(colour_map.height * photo.width / colour_map.width)), Image.LANCZOS)
pair = Image.new("RGB", (photo.width * 2, max(photo.height, colour_map.height)), "white")  # white below the photo
pair.paste(photo, (0, 0))
pair.paste(colour_map, (photo.width, 0))
pair.save("examples/tum_fr2_desk_pair.png", optimize=True)
EOF

litedepth export --out exports --calibration-data ../shared/data/tum_fr1_rpy --overwrite
python benchmarks/export_parity.py --exports exports --out docs/export_parity.json
echo "promoted $RUN; now the prose: the card, README, training.md, export.md, runs.json + progress.png"
exit
}
