#!/usr/bin/env bash
# What scoring every ad with the learned model adds to `scan --no-link` (issue 25, point 7: at
# most 20 %), end to end with one binary: synth a corpus, train a model on it, then scan it
# without and with `--model` alternately (without, with, with, without, …: both sides see the
# same machine load) and print each side's medians and the ratios (with ÷ without).
#
#   scripts/bench/model-scan-cost.sh [ADS] [ROUNDS] [-- EXTRA SCAN ARGS]
#       defaults: 20000 ads (`samaritan synth --seed 42`, phrasing main), 9 rounds each side
#
# SAMARITAN_BIN (default target/release/samaritan, a release build); THREADS (default: every
# core); corpus and model stay in $COST_DIR (default /tmp/samaritan-model-scan-cost), the model
# is trained again on every call (`samaritan model train`, defaults as scripts/bench/model.sh;
# TRAIN_ARGS adds options, e.g. TRAIN_ARGS="--char-max 4").
# Reports wall seconds and CPU seconds (user + sys: the steadier figure on a shared machine).
set -euo pipefail
cd "$(dirname "$0")/../.."
ads=20000 rounds=9 extra=()
[ $# -gt 0 ] && [ "$1" != "--" ] && { ads=$1; shift; }
[ $# -gt 0 ] && [ "$1" != "--" ] && { rounds=$1; shift; }
[ "${1:-}" = "--" ] && { shift; extra=("$@"); }
bin=${SAMARITAN_BIN:-target/release/samaritan}
threads=${THREADS:-$(nproc)}
dir=${COST_DIR:-/tmp/samaritan-model-scan-cost}
[ -x "$bin" ] || { echo "not an executable: $bin (cargo build --release -p samaritan-cli)" >&2; exit 2; }
mkdir -p "$dir"
corpus="$dir/main-$ads-42"
[ -s "$corpus/ads.jsonl" ] || "$bin" synth --ads "$ads" --seed 42 --out "$corpus" >/dev/null 2>&1
"$bin" model train --truth "$corpus/truth.jsonl" "$corpus/ads.jsonl" --out "$dir/model.json" ${TRAIN_ARGS:-} \
  > "$dir/train.log" 2>&1 || { cat "$dir/train.log" >&2; exit 1; }
nads=$(wc -l < "$corpus/ads.jsonl")

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=(scan "$corpus/ads.jsonl" --no-link --out /dev/null --threads "$threads" "${extra[@]}")
scored=("${base[@]}" --model "$dir/model.json")
# one run: prints "wall cpu"
run() {
  /usr/bin/time -f "%e %U %S" -o "$dir/time" "$bin" "$@" > /dev/null 2> "$dir/err" || {
    echo "FAILED: $bin $*" >&2; cat "$dir/err" >&2; exit 1; }
  awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$dir/time"
}
# a check that the model really scores: every analysis carries `model`
"$bin" "${scored[@]/\/dev\/null/$dir/scored.jsonl}" 2>/dev/null
with_model=$(grep -c '"model":{"logit"' "$dir/scored.jsonl" || true)
[ "$with_model" = "$nads" ] || { echo "only $with_model of $nads analyses carry a model score" >&2; exit 1; }
run "${base[@]}" > /dev/null # warm the page cache
ow=() oc=() mw=() mc=() rw=() rc=()
for i in $(seq "$rounds"); do
  if [ $((i % 2)) -eq 1 ]; then x=$(run "${base[@]}"); y=$(run "${scored[@]}")
  else y=$(run "${scored[@]}"); x=$(run "${base[@]}"); fi
  read -r xw xc <<< "$x"
  read -r yw yc <<< "$y"
  ow+=("$xw") oc+=("$xc") mw+=("$yw") mc+=("$yc")
  rw+=("$(awk -v a="$xw" -v b="$yw" 'BEGIN { printf "%.4f", (a > 0 ? b / a : 0) }')")
  rc+=("$(awk -v a="$xc" -v b="$yc" 'BEGIN { printf "%.4f", (a > 0 ? b / a : 0) }')")
done
mow=$(median "${ow[@]}") mmw=$(median "${mw[@]}") moc=$(median "${oc[@]}") mmc=$(median "${mc[@]}")
rate() { awk -v n="$nads" -v t="$1" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }'; }
echo "corpus $corpus: $nads ads; $bin ${base[*]} [--model $dir/model.json]; $rounds rounds each, alternated"
echo "without model: median $mow s wall ($(rate "$mow") ads/s), $moc s CPU  [wall ${ow[*]}] [cpu ${oc[*]}]"
echo "with model:    median $mmw s wall ($(rate "$mmw") ads/s), $mmc s CPU  [wall ${mw[*]}] [cpu ${mc[*]}]"
echo "ratio of medians (with ÷ without): wall $(awk -v a="$mow" -v b="$mmw" 'BEGIN { printf "%.3f", b / a }'), CPU $(awk -v a="$moc" -v b="$mmc" 'BEGIN { printf "%.3f", b / a }')"
echo "median per-round ratio (with ÷ without): wall $(median "${rw[@]}"), CPU $(median "${rc[@]}")  (bar: ≤ 1.20)"
