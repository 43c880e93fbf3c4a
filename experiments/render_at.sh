#!/usr/bin/env bash
# Render with the generator of an earlier commit, so a cached training set can be remade byte for byte after
# `litedepth synth` has moved on (meta.json's generator_version says which one made a folder):
#   v2: 79eb8d0 (the v2 default's 12,000 frames of seed 1)   v3: 6d9b578 (the 12,000 frames of seed 2)
#   v5: eade417 (the 12,000 frames of seed 3)   v6: f4bb6ac (the 12,000 frames of seed 4, half of the default's)
#   v8: 67bbe8a (the 12,000 frames of seed 8, the default's other half)
#   v9: c4d64e3 (the 12,000 frames of seed 8 with halls: the halls' run, docs/training.md)
#   v10: c3e5bad (the 12,000 frames of seed 8, halls without floating clutter: the v10 run, docs/training.md)
#   v12: a9e3921 (the 12,000 frames of seed 8, v10's scenes on floors at real sizes: the v12 run, docs/training.md)
#   v13: 889da4b (the 12,000 frames of seed 8, v12 with desk sets: the v13 run, docs/training.md)
# The commit is checked out once as a git worktree in the cache and its package runs from there, with this
# environment's dependencies; paths in the arguments are taken relative to the repository root.
# Usage: bash experiments/render_at.sh COMMIT litedepth-synth-arguments...
{  # read whole before it runs, so editing this file during a run cannot change that run
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] && PATH="$PWD/.venv/bin:$PATH"  # the README's environment, activated or not
COMMIT=$1; shift
CACHE=${LITEDEPTH_CACHE:-$HOME/.cache/litedepth}
SOURCE=$CACHE/generators/$COMMIT
[ -d "$SOURCE" ] || git worktree add --detach "$SOURCE" "$COMMIT"
ARGS=()
previous=
for arg in "$@"; do  # existing paths and --out's folder made absolute: the command runs in the worktree
    if [ -e "$arg" ] || [ "$previous" = "--out" ]; then ARGS+=("$(realpath -m "$arg")"); else ARGS+=("$arg"); fi
    previous=$arg
done
cd "$SOURCE" && python -m litedepth_hf.cli synth "${ARGS[@]}"
exit
}
