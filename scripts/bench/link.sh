#!/usr/bin/env bash
# Reproduces the linking figures of BENCHMARKS.md ("Linking" section).
# Usage: scripts/bench/link.sh [OUTDIR]   (needs ../shared/bench/gen_synth.py and python3)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/target/link-bench}
gen=${SAMARITAN_SHARED:-$root/../shared}/bench/gen_synth.py
bin=$root/target/release/samaritan
mkdir -p "$out"
cargo build --release -q -p samaritan-cli --manifest-path "$root/Cargo.toml"

# gen_synth configurations of ../shared/notes/infoshield.md (seed 1, frac 0.2).
while read -r tag n args; do
  csv=$out/$tag.csv
  [ -s "$csv" ] || python3 "$gen" "$csv" "$n" 1 $args --frac 0.2
  for run in 1 2 3 4 5; do
    /usr/bin/time -f "$tag run $run: %e s wall, %U s user, %S s sys, %M KB max RSS" \
      "$bin" networks "$csv" --eval --no-output --metrics "$out/$tag.metrics.json" 2>>"$out/$tag.log"
  done
  tail -n 2 "$out/$tag.log"
  # The same task as InfoShield (text only: no identifier extraction), for the speed ratio.
  for run in 1 2 3 4 5; do
    /usr/bin/time -f "$tag text-only run $run: %e s wall, %U s user, %S s sys, %M KB max RSS" \
      "$bin" networks "$csv" --eval --text-only --no-output 2>>"$out/$tag.text-only.log"
  done
done <<'CONFIGS'
s0e0 1000 --slots 0 --slotlen 1 --edit 0
s1l1e0 1000 --slots 1 --slotlen 1 --edit 0
s1l2e0 1000 --slots 1 --slotlen 2 --edit 0
s2l2e0 1000 --slots 2 --slotlen 2 --edit 0
s2l2e2 1000 --slots 2 --slotlen 2 --edit 0.02
s3l3e5 1000 --slots 3 --slotlen 3 --edit 0.05
n5k 5000 --slots 1 --slotlen 2 --edit 0
n20k 20000 --slots 1 --slotlen 2 --edit 0
CONFIGS

# Synth corpus: network quality and speed at 20k and 1M ads.
for n in 20000 1000000; do
  d=$out/synth-$n
  [ -s "$d/ads.jsonl" ] || "$bin" synth --ads "$n" --seed 1 --out "$d" 2>/dev/null
  /usr/bin/time -f "synth $n: %e s wall, %U s user, %S s sys, %M KB max RSS" \
    "$bin" networks "$d/ads.jsonl" --truth "$d/truth.jsonl" --out "$d/networks.jsonl" \
    --metrics "$d/metrics.json" 2>&1 | tail -n 3
done
