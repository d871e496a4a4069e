#!/usr/bin/env bash
# Scan throughput on a synthetic corpus, side by side with ripgrep over the same file.
#
#   scripts/bench/scan.sh [ADS] [RUNS]      (default 1000000 ads, 3 runs of each command)
#
# ripgrep (`rg -c -F -f phrases`, the policy's phrase list as fixed strings) is the floor for one
# pass of multi-pattern matching over the bytes. Each command runs RUNS times, alternating, and we
# report the median wall time, the median CPU time (user + sys: robust when the machine is
# shared), MB/s per CPU-second, ads/s, and the ratio of each to ripgrep. Figures go to
# BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
ads=${1:-1000000}
runs=${2:-3}
cargo build --release --quiet
bin=target/release/samaritan
work=${BENCH_DIR:-/tmp/samaritan-bench-scan}
mkdir -p "$work"
corpus="$work/synth-$ads"
if [ ! -s "$corpus/ads.jsonl" ]; then
  "$bin" synth --ads "$ads" --seed 1 --out "$corpus"
fi
"$bin" policy phrases > "$work/phrases.txt"
bytes=$(stat -c %s "$corpus/ads.jsonl")
threads=$(nproc)

measure() { # name, command...
  local name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.$name" "$@" > /dev/null 2> "$work/err.$name" || {
    echo "FAILED: $name"; cat "$work/err.$name"; exit 1; }
  read -r wall user sys rss < "$work/time.$name"
  echo "$name $wall $(echo "$user + $sys" | bc) $rss" >> "$work/results"
}

: > "$work/results"
for _ in $(seq "$runs"); do
  measure rg rg -c -F -f "$work/phrases.txt" "$corpus/ads.jsonl"
  measure scan_nolink "$bin" scan "$corpus/ads.jsonl" --no-link --threads "$threads"
  measure scan_linked "$bin" scan "$corpus/ads.jsonl" --threads "$threads"
done

python3 - "$work/results" "$bytes" "$ads" "$threads" <<'PY'
import sys, statistics, collections
path, nbytes, nads, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = collections.defaultdict(list)
for line in open(path):
    name, wall, cpu, rss = line.split()
    rows[name].append((float(wall), float(cpu), int(rss)))
med = {n: (statistics.median(w for w, _, _ in r), statistics.median(c for _, c, _ in r), max(m for _, _, m in r)) for n, r in rows.items()}
rg_wall, rg_cpu, _ = med["rg"]
print(f"corpus: {nads} ads, {nbytes/1e6:.0f} MB, {threads} threads; medians of {len(rows['rg'])} runs")
print(f"{'command':14} {'wall s':>8} {'cpu s':>8} {'ads/s':>10} {'MB/s/core':>10} {'peak MB':>8} {'cpu x rg':>9} {'wall x rg':>9}")
for n in ["rg", "scan_nolink", "scan_linked"]:
    wall, cpu, rss = med[n]
    print(f"{n:14} {wall:8.1f} {cpu:8.1f} {nads/wall:10.0f} {nbytes/1e6/cpu:10.1f} {rss/1024:8.0f} {cpu/rg_cpu:9.1f} {wall/rg_wall:9.1f}")
PY
