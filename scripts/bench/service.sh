#!/usr/bin/env bash
# Service speed: single-ad POST latency and batch ingest throughput at concurrency 32 over
# loopback, into SQLite (default) or PostgreSQL, with the in-process analysis of the same ads as
# the baseline (bench-http prints both and their ratio). Figures go to BENCHMARKS.md.
#
#   scripts/bench/service.sh sqlite            # embedded store in a fresh temp dir
#   scripts/bench/service.sh postgres [URL]    # default postgres://postgres@127.0.0.1:5432/test
#
# Needs a release build: cargo build --release -p samaritan-cli
set -euo pipefail
backend=${1:-sqlite}
pg=${2:-postgres://postgres@127.0.0.1:5432/test}
bin=${SAMARITAN_BIN:-target/release/samaritan}
single=${SINGLE_ADS:-10000}
batched=${BATCH_ADS:-50000}
port=${PORT:-18080}
work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

"$bin" synth --ads $((single + batched)) --seed 11 --out "$work/corpus" 2>/dev/null
head -n "$single" "$work/corpus/ads.jsonl" > "$work/single.jsonl"
tail -n +"$((single + 1))" "$work/corpus/ads.jsonl" > "$work/batch.jsonl"

case "$backend" in
  sqlite) store=(--data-dir "$work/data") ;;
  postgres)
    schema="samaritan_bench_$$"
    export PGOPTIONS="-c client_min_messages=warning"
    psql "$pg" -qc "CREATE SCHEMA $schema"
    trap 'kill "${server:-0}" 2>/dev/null || true; wait 2>/dev/null || true; psql "$pg" -qc "DROP SCHEMA IF EXISTS '"$schema"' CASCADE"; rm -rf "$work"' EXIT
    sep='?'; [[ "$pg" == *\?* ]] && sep='&'
    store=(--database "${pg}${sep}options=-csearch_path%3D${schema}") ;;
  *) echo "usage: $0 sqlite|postgres [URL]" >&2; exit 2 ;;
esac

key=$("$bin" keys create --scopes ingest "${store[@]}" 2>/dev/null | sed -E 's/.*"key":"([^"]+)".*/\1/')
"$bin" serve "${store[@]}" --listen "127.0.0.1:$port" --rate-limit 0 > "$work/serve.out" 2>/dev/null &
server=$!
for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done

# CPU the server process used (user + system), in clock ticks: a figure less sensitive than
# wall time to other work on a shared machine (the client's and PostgreSQL's CPU not included).
ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
cpu_per_ad() { awk -v a="$1" -v b="$2" -v n="$3" -v hz="$(getconf CLK_TCK)" \
  'BEGIN { printf "# server CPU: %.2f s, %.0f us per ad\n", (b - a) / hz, (b - a) / hz / n * 1e6 }'; }

echo "# $backend: single-ad POSTs, concurrency 32"
t0=$(ticks)
"$bin" bench-http --url "http://127.0.0.1:$port" --key "$key" --ads "$work/single.jsonl" --concurrency 32 --batch 1
t1=$(ticks)
cpu_per_ad "$t0" "$t1" "$single"
echo "# $backend: batches of 500, concurrency 32"
"$bin" bench-http --url "http://127.0.0.1:$port" --key "$key" --ads "$work/batch.jsonl" --concurrency 32 --batch 500
cpu_per_ad "$t1" "$(ticks)" "$batched"
