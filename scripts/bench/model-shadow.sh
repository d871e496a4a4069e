#!/usr/bin/env bash
# What shadow scoring with the learned model adds to ingest (issue 25): the same ads posted to a
# fresh SQLite store twice, once without a model and once with one imported (`model import`),
# alternating RUNS times; server CPU per ad and ads/s for each. The model is trained on another
# synth corpus (seed 21) first. Figures go to BENCHMARKS.md.
#
#   scripts/bench/model-shadow.sh
#
# Needs a release build: cargo build --release -p samaritan-cli
set -euo pipefail
bin=${SAMARITAN_BIN:-target/release/samaritan}
ads=${ADS:-20000}
runs=${RUNS:-2}
batch=${BATCH:-500}
port=${PORT:-18090}
work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

"$bin" synth --ads 8000 --seed 21 --out "$work/train" 2>/dev/null
"$bin" model train --truth "$work/train/truth.jsonl" "$work/train/ads.jsonl" --out "$work/model.json" 2>/dev/null
"$bin" synth --ads "$ads" --seed 11 --out "$work/corpus" 2>/dev/null
echo "# model: $(wc -c < "$work/model.json") bytes; $ads ads in batches of $batch, concurrency 32"

ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }

run() { # $1 = with|without, $2 = run number
  local data="$work/data-$1-$2"
  if [ "$1" = with ]; then "$bin" model import "$work/model.json" --data-dir "$data" >/dev/null 2>&1; fi
  local key
  key=$("$bin" keys create --scopes ingest --data-dir "$data" 2>/dev/null | sed -E 's/.*"key":"([^"]+)".*/\1/')
  "$bin" serve --data-dir "$data" --listen "127.0.0.1:$port" --rate-limit 0 --model-batch 0 > "$work/serve.out" 2>&1 &
  server=$!
  for _ in $(seq 200); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
  local t0 t1 out
  t0=$(ticks)
  out=$("$bin" bench-http --url "http://127.0.0.1:$port" --key "$key" --ads "$work/corpus/ads.jsonl" --concurrency 32 --batch "$batch" 2>/dev/null)
  t1=$(ticks)
  kill "$server"; wait "$server" 2>/dev/null || true
  local scored
  scored=$(sqlite3 "$data/samaritan.db" "SELECT COUNT(*) FROM model_scores" 2>/dev/null || echo "?")
  awk -v a="$t0" -v b="$t1" -v n="$ads" -v hz="$(getconf CLK_TCK)" -v m="$1" -v r="$2" -v s="$scored" \
    -v rate="$(echo "$out" | grep -o '"ads_per_sec":[0-9.]*' | head -1 | cut -d: -f2)" \
    'BEGIN { printf "%s model, run %s: %s ads/s, server CPU %.0f us per ad, %s shadow scores stored\n", m, r, rate, (b - a) / hz / n * 1e6, s }'
}

for r in $(seq "$runs"); do
  run without "$r"
  run with "$r"
done
