#!/usr/bin/env bash
# Verdict and extraction quality on one synthetic corpus: synth -> scan (linked) -> eval, the
# commands behind BENCHMARKS.md's quality tables (and .ci/run's gates).
#
#   scripts/bench/quality.sh ADS SEED [PHRASING] [-- EVAL ARGS]
#       PHRASING: main (default), holdout, blind-1, blind-2, …  (samaritan synth --phrasing)
#
# SAMARITAN_BIN (default target/release/samaritan, from the repository root); the corpus and the
# analyses stay in $QUALITY_DIR (default /tmp/samaritan-quality/ADS-SEED-PHRASING).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ $# -lt 2 ]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
fi
ads=$1 seed=$2 phrasing=${3:-main}
shift 2; [ $# -gt 0 ] && [ "$1" != "--" ] && shift
[ "${1:-}" = "--" ] && shift
bin=${SAMARITAN_BIN:-target/release/samaritan}
dir=${QUALITY_DIR:-/tmp/samaritan-quality/$ads-$seed-$phrasing}
mkdir -p "$dir"
[ -s "$dir/corpus/ads.jsonl" ] || "$bin" synth --ads "$ads" --seed "$seed" --phrasing "$phrasing" --out "$dir/corpus"
"$bin" scan "$dir/corpus/ads.jsonl" --out "$dir/analyses.jsonl" --strict
"$bin" eval --truth "$dir/corpus/truth.jsonl" "$dir/analyses.jsonl" "$@"
