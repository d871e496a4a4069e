#!/usr/bin/env bash
# Startup cost of the service restart: ingest ADS (default 100k) synth ads through `samaritan
# serve`, stop (which saves the linker's snapshot), start again and time it twice (the snapshot
# loaded, then the records after it replayed: none here); then once more with the snapshot
# removed (every record replayed, the way without snapshots). Figures go to BENCHMARKS.md.
set -euo pipefail
bin=${SAMARITAN_BIN:-target/release/samaritan}
# KEEP=DIR keeps the store in DIR and, when DIR/data exists, times restarts of it without
# ingesting again.
work=${KEEP:-$(mktemp -d)}
if [ -n "${KEEP:-}" ]; then
  trap 'kill "${server:-0}" 2>/dev/null || true' EXIT
else
  trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
fi
fresh=1; [ -d "$work/data" ] && fresh=0
if [ $fresh = 1 ]; then
  "$bin" synth --ads "${ADS:-100000}" --seed 11 --out "$work/corpus" 2>/dev/null
  key=$("$bin" keys create --scopes ingest --data-dir "$work/data" 2>/dev/null | sed -E 's/.*"key":"([^"]+)".*/\1/')
fi
start() {
  "$bin" serve --data-dir "$work/data" --listen 127.0.0.1:18099 --rate-limit 0 > "$work/serve.out" 2> "$work/serve.err" &
  server=$!
  for _ in $(seq 3000); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.05; done
}
if [ $fresh = 1 ]; then
  start
  "$bin" bench-http --url http://127.0.0.1:18099 --key "$key" --ads "$work/corpus/ads.jsonl" --concurrency 8 --batch 500 2>/dev/null | grep -o '"ads_acknowledged":[0-9]*,"ads_per_sec":[0-9.]*'
  kill "$server"; wait "$server" || true
fi
grep -o 'linker snapshot saved.*' "$work/serve.err" || true
restart() {
  t0=$(date +%s.%N); start; t1=$(date +%s.%N)
  echo "restart $1: $(echo "$t1 - $t0" | bc) s to listening; $(grep -o "linker restored.*" "$work/serve.err"); $(grep -o "ready .*" "$work/serve.err"); $(cat "$work/serve.out")"
  kill "$server"; wait "$server" || true
}
restart "1 (snapshot)"
restart "2 (snapshot)"
python3 - "$work/data/samaritan.db" <<'PY'
import sqlite3,sys
c=sqlite3.connect(sys.argv[1])
print("snapshot rows/bytes:", c.execute("select count(*), sum(length(value)) from link_state where kind = 'link_snapshot'").fetchone())
c.execute("delete from link_state where kind = 'link_snapshot'"); c.commit()
PY
restart "3 (every record replayed)"
du -sh "$work/data"
python3 - "$work/data/samaritan.db" <<'PY'
import sqlite3,sys
c=sqlite3.connect(sys.argv[1])
print("link_state rows/bytes:", c.execute("select count(*), sum(length(value)) from link_state").fetchone())
print("networks:", c.execute("select count(*), max(size) from networks").fetchone(), "members:", c.execute("select count(*) from network_members").fetchone())
PY
