#!/usr/bin/env bash
# The learned model's quality (issue 25), the commands behind BENCHMARKS.md's "Model" section:
# train on a synth main corpus, then on fresh corpora of other phrasings: synth -> scan (linked,
# the policy's verdicts) -> `model eval --analyses`; and the Memex real ads at the model's own
# threshold.
#
#   scripts/bench/model.sh [ADS] [TRAIN_SEED] [EVAL_SEED] [PHRASING...]
#       defaults: 20000 1 21 holdout blind-2 blind-3
#
# SAMARITAN_BIN (default target/release/samaritan); corpora, model and reports stay in
# $MODEL_DIR (default /tmp/samaritan-model). SHARED (default ../shared) for the Memex set. TRAIN_ARGS
# adds options to `model train` (e.g. "--char-max 4").
set -euo pipefail
cd "$(dirname "$0")/../.."
ads=${1:-20000} train_seed=${2:-1} eval_seed=${3:-21}
shift $(( $# < 3 ? $# : 3 ))
phrasings=("$@")
[ ${#phrasings[@]} -gt 0 ] || phrasings=(holdout blind-2 blind-3)
bin=${SAMARITAN_BIN:-target/release/samaritan}
dir=${MODEL_DIR:-/tmp/samaritan-model}
shared=${SHARED:-../shared}
mkdir -p "$dir"
train="$dir/main-$ads-$train_seed"
[ -s "$train/ads.jsonl" ] || "$bin" synth --ads "$ads" --seed "$train_seed" --phrasing main --out "$train"
"$bin" model train --truth "$train/truth.jsonl" "$train/ads.jsonl" --out "$dir/model.json" ${TRAIN_ARGS:-}
for p in "${phrasings[@]}"; do
  c="$dir/$p-$ads-$eval_seed"
  [ -s "$c/ads.jsonl" ] || "$bin" synth --ads "$ads" --seed "$eval_seed" --phrasing "$p" --out "$c"
  [ -s "$c/analyses.jsonl" ] || "$bin" scan "$c/ads.jsonl" --out "$c/analyses.jsonl" --strict
  echo "== $p (seed $eval_seed)" >&2
  "$bin" model eval --model "$dir/model.json" --truth "$c/truth.jsonl" "$c/ads.jsonl" \
    --analyses "$c/analyses.jsonl" --json > "$c/model-eval.json"
done
if [ -s "$shared/conformance/memex/all_cases.jsonl" ]; then
  "$bin" model memex --model "$dir/model.json" --shared "$shared"
else
  echo "SKIPPED: memex ($shared/conformance/memex missing)" >&2
fi
