#!/usr/bin/env bash
# The distributed mode's first figures (issue 24): how fast `samaritan ingest --stream` puts a
# synthetic corpus on JetStream, and how fast one `samaritan worker` links it into PostgreSQL.
# Needs NATS with JetStream on 127.0.0.1:4222 and PostgreSQL on 127.0.0.1:5432 (database `test`).
# Usage: scripts/bench/stream.sh [ADS] (default 20000); uses target/release/samaritan
# (or $SAMARITAN_BIN). A stream and a schema of its own, removed at the end.
set -euo pipefail
ads=${1:-20000}
bin=${SAMARITAN_BIN:-target/release/samaritan}
tag="bench_$$"
stream="BENCH_$$"
work=$(mktemp -d)
pg="postgres://postgres@127.0.0.1:5432/test"
url="$pg?options=-csearch_path%3D$tag"
cleanup() {
  [ -n "${worker_pid:-}" ] && kill "$worker_pid" 2>/dev/null && wait "$worker_pid" 2>/dev/null || true
  psql -q -h 127.0.0.1 -U postgres -d test -c "DROP SCHEMA IF EXISTS $tag CASCADE" >/dev/null 2>&1 || true
  # The stream, through JetStream's API ($JS.API.STREAM.DELETE) over a bare NATS connection.
  python3 - "$stream" <<'PY' || true
import socket, sys
s = socket.create_connection(("127.0.0.1", 4222)); s.recv(4096)
s.sendall(b'CONNECT {"verbose":false}\r\nSUB _INBOX.d 1\r\nPUB $JS.API.STREAM.DELETE.'
          + sys.argv[1].encode() + b' _INBOX.d 0\r\n\r\nPING\r\n')
s.settimeout(2); s.recv(4096)
PY
  rm -rf "$work"
}
trap cleanup EXIT
psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE SCHEMA $tag" >/dev/null
"$bin" synth --ads "$ads" --seed 20 --out "$work/synth" >/dev/null 2>&1
start=$(date +%s.%N)
"$bin" ingest --stream nats://127.0.0.1:4222 --stream-name "$stream" --stream-subjects "$tag.ads" \
  "$work/synth/ads.jsonl" >/dev/null 2>"$work/ingest.err"
published=$(date +%s.%N)
"$bin" worker --stream nats://127.0.0.1:4222 --stream-name "$stream" --stream-subjects "$tag.ads" \
  --database "$url" --no-images >"$work/worker.out" 2>"$work/worker.err" &
worker_pid=$!
until grep -q '"leading"' "$work/worker.out" 2>/dev/null; do sleep 0.2; done
led=$(date +%s.%N)
while :; do
  n=$(psql -At -h 127.0.0.1 -U postgres -d test -c "SELECT count(*) FROM $tag.ads")
  [ "$n" -ge "$ads" ] && break
  sleep 0.5
done
linked=$(date +%s.%N)
python3 - "$ads" "$start" "$published" "$led" "$linked" <<'PY'
import sys
n, s, p, l, d = int(sys.argv[1]), *map(float, sys.argv[2:])
print(f"ads {n}: ingest --stream {p - s:.1f}s ({n / (p - s):.0f} ads/s published and acknowledged); "
      f"worker {d - l:.1f}s from leading to the last commit ({n / (d - l):.0f} ads/s linked into PostgreSQL)")
PY
