#!/usr/bin/env bash
# The simulated review loop (issue 25, point 6), the commands behind BENCHMARKS.md's "Review loop"
# and docs/review-loop.svg: a model trained on synth main, then taught by simulated reviewers on
# ads of an unread blind bank arriving over 50 days, measured on a held-out corpus of that bank.
#
#   scripts/bench/review-loop.sh [PHRASING] [ARRIVALS] [HELD]
#       defaults: blind-4 50000 20000
#
# SAMARITAN_BIN (default target/release/samaritan); corpora and runs stay in $LOOP_DIR (default
# /tmp/samaritan-loop). The runs, for loop seeds $SEEDS (default 1 2 3): the model enabled with
# active learning and an audit (the default), without active learning, with 10 % of decisions
# from a poisoner; for seed 1 also 5 % honest mistakes and the model kept in shadow (the queue
# is the policy's). The plot draws seed 1's runs; the last lines print every run's end point.
set -euo pipefail
cd "$(dirname "$0")/../.."
phrasing=${1:-blind-4} arrivals=${2:-50000} held=${3:-20000}
bin=${SAMARITAN_BIN:-target/release/samaritan}
dir=${LOOP_DIR:-/tmp/samaritan-loop}
mkdir -p "$dir"
train="$dir/main-20000-1"
[ -s "$train/ads.jsonl" ] || "$bin" synth --ads 20000 --seed 1 --phrasing main --out "$train"
[ -s "$dir/model.json" ] || "$bin" model train --truth "$train/truth.jsonl" "$train/ads.jsonl" --out "$dir/model.json"
a="$dir/$phrasing-$arrivals-41" h="$dir/$phrasing-$held-42"
[ -s "$a/ads.jsonl" ] || "$bin" synth --ads "$arrivals" --seed 41 --phrasing "$phrasing" --out "$a"
[ -s "$h/ads.jsonl" ] || "$bin" synth --ads "$held" --seed 42 --phrasing "$phrasing" --out "$h"
for c in "$a" "$h"; do
  [ -s "$c/analyses.jsonl" ] || "$bin" scan "$c/ads.jsonl" --out "$c/analyses.jsonl" --strict
done
run() {
  local name=$1 seed=$2; shift 2
  echo "== $name (loop seed $seed)" >&2
  "$bin" model simulate "$a/ads.jsonl" --truth "$a/truth.jsonl" --analyses "$a/analyses.jsonl" \
    --held "$h/ads.jsonl" --held-truth "$h/truth.jsonl" --held-analyses "$h/analyses.jsonl" \
    --model "$dir/model.json" --name "$name" --seed "$seed" "$@" > "$dir/run-$seed-$name.jsonl"
}
for seed in ${SEEDS:-1 2 3}; do
  run "enabled, active 0.2, audit 0.1" "$seed"
  run "enabled, no active learning" "$seed" --active-share 0
  run "enabled, 10% poisoned" "$seed" --poison-share 0.1
done
run "enabled, 5% honest mistakes" 1 --error-rate 0.05
run "shadow (policy queue), audit 0.1" 1 --shadow --active-share 0
"$bin" model plot "$dir"/run-1-*.jsonl --out "${PLOT:-$dir/review-loop.svg}" \
  --title "Reviewers teaching the model: $phrasing, $arrivals ads over 50 days, measured on $held held-out ads"
echo "plot: ${PLOT:-$dir/review-loop.svg}" >&2
# The last checkpoint of every run, one line each.
for f in "$dir"/run-*.jsonl; do
  tail -n 1 "$f" | python3 -c "import json,sys
r=json.load(sys.stdin); d=r['deployed']; o=r['oracle']; m=r['oracle_model_alone']
print('%-36s %5d decisions  deployed: benign %.4f L1 %.3f L2 %.3f | model adds 1%%: L1 %.3f L2 %.3f | model alone at 1%%: L1 %.3f L2 %.3f' % (r['run'], r['decisions'], d['benign_rate'], d['recall_label1'], d['recall_label2'], o['recall_label1'], o['recall_label2'], m['recall_label1'], m['recall_label2']))" | sed "s|^|seed $(basename "$f" .jsonl | cut -d- -f2) |"
done
