#!/usr/bin/env bash
# Lag of the distributed mode under a steady load (issue 24, point 7): `samaritan ingest --stream
# --rate R` publishes a synthetic corpus at R ads/s while W `worker --stage prepare` and one
# `worker --stage link` (all with `--stages`) take it into PostgreSQL. Every second it samples
# the ads published (the ads stream's last sequence), the ads not yet prepared (messages left on
# the ads stream) and the ads committed (rows of the run's schema): lag = published - committed.
# At the end: the rates, the lag's growth (a least-squares slope over the second half of the
# run: ~0 when the pipeline holds the rate), the CPU per ad of each stage as the workers print
# it at their stop (`--stages`), and the CPU per ad of the NATS and PostgreSQL servers (their
# /proc times over the run, divided by the ads committed; every client of those servers counts).
# Needs NATS with JetStream on 127.0.0.1:4222 and PostgreSQL on 127.0.0.1:5432 (database `test`).
# Usage: scripts/bench/stream-lag.sh [SECONDS] [RATE:WORKERS ...] (default 60, "5000:1 5000:2
# 1500:1 1000:1"); uses target/release/samaritan (or $SAMARITAN_BIN). Each run has a stream and
# a schema of its own, removed at its end; the samples are kept in $LAG_OUT (default a temporary
# directory) as RATE-WORKERS.tsv.
set -euo pipefail
secs=${1:-60}
shift || true
runs=("$@")
[ ${#runs[@]} -gt 0 ] || runs=(5000:1 5000:2 1500:1 1000:1)
bin=${SAMARITAN_BIN:-target/release/samaritan}
work=$(mktemp -d)
out_dir=${LAG_OUT:-$work}
mkdir -p "$out_dir"
pids=()
tag=""
stream=""
here=$(cd "$(dirname "$0")" && pwd)
js_api() { python3 "$here/js_api.py" "$1"; } # $1: API subject; prints the JSON answer
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
drop_run() {
  [ -n "$tag" ] || return 0
  psql -q -h 127.0.0.1 -U postgres -d test -c "DROP SCHEMA IF EXISTS $tag CASCADE" >/dev/null 2>&1 || true
  js_api "\$JS.API.STREAM.DELETE.$stream" >/dev/null 2>&1 || true
  js_api "\$JS.API.STREAM.DELETE.${stream}_PREPARED" >/dev/null 2>&1 || true
  tag=""
}
cleanup() { stop_all; drop_run; rm -rf "$work"; }
trap cleanup EXIT

most=0
for r in "${runs[@]}"; do n=$(( ${r%%:*} * secs )); [ "$n" -gt "$most" ] && most=$n; done
"$bin" synth --ads "$most" --seed 24 --out "$work/synth" >/dev/null 2>&1
echo "stream-lag: $(date -u +%FT%TZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), ${secs}s per run"

for r in "${runs[@]}"; do
  rate=${r%%:*}; workers=${r##*:}
  tag="lag_${rate}_${workers}_$$"; stream="LAG_${rate}_${workers}_$$"
  url="postgres://postgres@127.0.0.1:5432/test?options=-csearch_path%3D$tag"
  psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE SCHEMA $tag" >/dev/null
  args=(--stream nats://127.0.0.1:4222 --stream-name "$stream" --stream-subjects "$tag.ads")
  start() { # $1 log name, rest: worker arguments; waits for $2's event
    "$bin" worker "${args[@]}" --database "$url" --no-images --stages "${@:3}" >"$work/$1.out" 2>"$work/$1.err" &
    pids+=($!)
    until grep -q "\"$2\"" "$work/$1.out" 2>/dev/null; do sleep 0.1; done
  }
  start l leading --stage link
  for w in $(seq 1 "$workers"); do start "p$w" preparing --stage prepare; done
  head -n $(( rate * secs )) "$work/synth/ads.jsonl" >"$work/ads.jsonl"
  "$bin" ingest "${args[@]}" --rate "$rate" "$work/ads.jsonl" >/dev/null 2>"$work/ingest.err" &
  ingest=$!
  samples="$out_dir/$rate-$workers.tsv"
  echo "[$rate ads/s, $workers prepare worker(s) + linker] samples: $samples"
  python3 - "$stream" "$tag" "$secs" "$samples" <<'PY'
import json, os, socket, subprocess, sys, time
stream, schema, secs, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
s = socket.create_connection(("127.0.0.1", 4222)); s.recv(4096)
s.sendall(b'CONNECT {"verbose":false}\r\nSUB _INBOX.lag 1\r\n')
def info():
    s.sendall(b"PUB $JS.API.STREAM.INFO." + stream.encode() + b" _INBOX.lag 0\r\n\r\n")
    buf = b""
    while True:
        buf += s.recv(65536)
        for part in buf.split(b"\r\n"):
            if part.startswith(b"{"):
                try:
                    return json.loads(part)["state"]
                except ValueError:
                    break
def committed():
    return int(subprocess.run(["psql", "-At", "-h", "127.0.0.1", "-U", "postgres", "-d", "test",
        "-c", f"SELECT count(*) FROM {schema}.ads"], capture_output=True, text=True).stdout or 0)
def server_ticks():  # CPU of the NATS and PostgreSQL servers, clock ticks
    t = {"nats": 0, "postgres": 0}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        f = stat[stat.rindex(")") + 2:].split()
        key = "nats" if comm == "nats-server" else "postgres" if comm == "postgres" else None
        if key:
            t[key] += int(f[11]) + int(f[12])
    return t
hz = os.sysconf("SC_CLK_TCK")
rows, t0, ticks0 = [], time.monotonic(), server_ticks()
for i in range(1, secs + 1):
    time.sleep(max(0, t0 + i - time.monotonic()))
    c = committed()  # first, so that the lag is never under-stated
    st = info()
    rows.append((time.monotonic() - t0, st["last_seq"], st["messages"], c))
ticks1 = server_ticks()
with open(path, "w") as out:
    out.write("secs\tpublished\tunprepared\tcommitted\tlag\n")
    for t, p, u, c in rows:
        out.write(f"{t:.1f}\t{p}\t{u}\t{c}\t{p - c}\n")
half = rows[len(rows) // 2:]
def slope(ys):
    xs = [r[0] for r in half]; mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
t, p, u, c = rows[-1]
done = max(c, 1)
cpu = {k: (ticks1[k] - ticks0[k]) / hz * 1e6 / done for k in ticks0}
print(f"  published {p} ({p / t:.0f} ads/s), committed {c} ({c / t:.0f} ads/s; "
      f"{slope([r[3] for r in half]):.0f} ads/s over the second half), lag at the end {p - c} "
      f"(unprepared {u}); lag growth over the second half {slope([r[1] - r[3] for r in half]):.0f} ads/s; "
      f"server CPU per ad committed: NATS {cpu['nats']:.0f} us, PostgreSQL {cpu['postgres']:.0f} us")
PY
  kill "$ingest" 2>/dev/null || true; wait "$ingest" 2>/dev/null || true
  stop_all
  for f in l $(seq -f 'p%g' 1 "$workers"); do
    echo "  $f: $(grep -h 'CPU per ad' "$work/$f.err" | sed 's/^samaritan worker: //' || echo 'no CPU figures')"
  done
  drop_run
done
