#!/usr/bin/env bash
# The distributed mode's figures (issue 24): how fast `samaritan ingest --stream` puts a synthetic
# corpus on JetStream; how fast one `samaritan worker` (--stage all: prepares and links) commits
# it into PostgreSQL; and the fan-out layout: prepare throughput with 1 and 2
# `worker --stage prepare`, the whole pipeline with them and a `--stage link` linker, and the
# linker alone (every ad already prepared before it starts). Every worker runs with `--stages`:
# after each mode, the CPU per ad of each stage as the workers print it at their stop; after the
# linker alone, the PostgreSQL servers' CPU per ad over its run and the schema's size per ad
# (`pg_total_relation_size` of its tables, with their indexes and TOAST; before and after the
# snapshot saved at the stop).
# Needs NATS with JetStream on 127.0.0.1:4222 and PostgreSQL on 127.0.0.1:5432 (database `test`).
# Usage: scripts/bench/stream.sh [ADS] [MODES] (default 20000, "all fan1 fan2 linker"); uses
# target/release/samaritan (or $SAMARITAN_BIN). Streams and schemas of its own, removed at the end.
set -euo pipefail
ads=${1:-20000}
modes=${2:-all fan1 fan2 linker}
bin=${SAMARITAN_BIN:-target/release/samaritan}
work=$(mktemp -d)
pids=()
streams=()
schemas=()
here=$(cd "$(dirname "$0")" && pwd)
js_api() { python3 "$here/js_api.py" "$1"; } # $1: API subject; prints the JSON answer
messages() { js_api "\$JS.API.STREAM.INFO.$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"]["messages"])'; }
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for t in "${schemas[@]}"; do
    psql -q -h 127.0.0.1 -U postgres -d test -c "DROP SCHEMA IF EXISTS $t CASCADE" >/dev/null 2>&1 || true
  done
  for s in "${streams[@]}"; do
    js_api "\$JS.API.STREAM.DELETE.$s" >/dev/null 2>&1 || true
    js_api "\$JS.API.STREAM.DELETE.${s}_PREPARED" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
rate() { python3 -c "import sys; n,a,b=int(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]); print(f'{b-a:.1f}s, {n/(b-a):.0f} ads/s')" "$ads" "$1" "$2"; }
count() { psql -At -h 127.0.0.1 -U postgres -d test -c "SELECT count(*) FROM $1.ads"; }
wait_count() { while [ "$(count "$1")" -lt "$ads" ]; do sleep 0.2; done; }
wait_empty() { while [ "$(messages "$1")" -gt 0 ]; do sleep 0.2; done; }
"$bin" synth --ads "$ads" --seed 20 --out "$work/synth" >/dev/null 2>&1

# One run: a stream and a schema of its own, the corpus published. Sets $stream $tag $url $args.
setup() {
  tag="bench_${1}_$$"; stream="BENCH_${1^^}_$$"
  streams+=("$stream"); schemas+=("$tag")
  url="postgres://postgres@127.0.0.1:5432/test?options=-csearch_path%3D$tag"
  psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE SCHEMA $tag" >/dev/null
  args=(--stream nats://127.0.0.1:4222 --stream-name "$stream" --stream-subjects "$tag.ads")
  local s; s=$(now)
  "$bin" ingest "${args[@]}" "$work/synth/ads.jsonl" >/dev/null 2>"$work/ingest.err"
  echo "[$1] ingest --stream: $(rate "$s" "$(now)") published and acknowledged"
}
start() { # $1 log name, rest: worker arguments; waits for its first line
  "$bin" worker "${args[@]}" --database "$url" --no-images --stages "${@:2}" >"$work/$1.out" 2>"$work/$1.err" &
  pids+=($!)
  until [ -s "$work/$1.out" ]; do sleep 0.1; done
}
wait_line() { until grep -q "\"$2\"" "$work/$1.out" 2>/dev/null; do sleep 0.1; done; }
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done; pids=(); }
cpu_lines() { # $1 mode; the workers' `--stages` summaries
  for f in "$work"/*.err; do
    case $f in */ingest.err) continue;; esac
    grep -h 'CPU per ad' "$f" | sed "s|^samaritan worker: |[$1] $(basename "$f" .err): |" || true
  done
  rm -f "$work"/*.err "$work"/*.out
}
pg_ticks() { cat /proc/[0-9]*/stat 2>/dev/null | awk '$2 == "(postgres)" { t += $14 + $15 } END { print t + 0 }'; }
pg_bytes() {
  psql -At -h 127.0.0.1 -U postgres -d test -c "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '$1' AND c.relkind IN ('r', 'p', 'm')"
}
per_ad() { python3 -c "import sys; b,n=int(sys.argv[1]),int(sys.argv[2]); print(f'{b/n:.0f} B per ad, {b/n*1e6/1e9:.1f} GB per million ads')" "$1" "$ads"; }

for mode in $modes; do
  case $mode in
    all)
      setup all
      start w --stage all; wait_line w leading; s=$(now); wait_count "$tag"
      echo "[all] one worker --stage all, leading to last commit: $(rate "$s" "$(now)")";;
    fan1|fan2)
      setup "$mode"
      start l --stage link; wait_line l leading
      start p1 --stage prepare; s=$(now)
      [ "$mode" = fan2 ] && start p2 --stage prepare
      wait_empty "$stream"; p=$(now); wait_count "$tag"; d=$(now)
      echo "[$mode] prepare (ads stream emptied): $(rate "$s" "$p"); pipeline to the last commit: $(rate "$s" "$d")";;
    linker)
      setup linker
      start p1 --stage prepare; start p2 --stage prepare; wait_empty "$stream"
      start l --stage link; wait_line l leading; t=$(pg_ticks); s=$(now); wait_count "$tag"; e=$(now)
      pg=$(python3 -c "import os,sys; print(f'{(int(sys.argv[2])-int(sys.argv[1]))/os.sysconf(\"SC_CLK_TCK\")*1e6/int(sys.argv[3]):.0f}')" "$t" "$(pg_ticks)" "$ads")
      echo "[linker] --stage link alone on prepared results, leading to last commit: $(rate "$s" "$e"); PostgreSQL servers' CPU ${pg} us per ad"
      echo "[linker] PostgreSQL size of the schema after $ads ads: $(per_ad "$(pg_bytes "$tag")")";;
    *) echo "unknown mode $mode" >&2; exit 2;;
  esac
  stop_all
  cpu_lines "$mode"
  if [ "$mode" = linker ]; then
    echo "[linker] PostgreSQL size with the snapshot saved at the stop: $(per_ad "$(pg_bytes "$tag")")"
  fi
done
