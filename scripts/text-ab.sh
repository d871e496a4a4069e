#!/usr/bin/env bash
# Side-by-side speed of two builds of `examples/text_prof` (the text bench's workload), run
# alternately so both see the same machine load; prints each one's median MiB/s.
#
#   cargo build --release -p samaritan-engine --example text_prof
#   cp target/release/examples/text_prof /tmp/text_prof.new   # (and a base build likewise)
#   scripts/text-ab.sh /tmp/text_prof.base /tmp/text_prof.new [pairs=9] [rounds=100]
#
# TEXT_PROF=<mode> (normalize, phone, handle, … ; see text_prof.rs) times one part.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 BASE NEW [pairs] [rounds]" >&2
  exit 2
fi
base=$1 new=$2 pairs=${3:-9} rounds=${4:-100}
rate() { "$1" "$rounds" 2>&1 | grep -o '[0-9.]* MiB/s' | cut -d' ' -f1; }
b=() n=()
for _ in $(seq "$pairs"); do
  b+=("$(rate "$base")")
  n+=("$(rate "$new")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "base median $(median "${b[@]}") MiB/s  [${b[*]}]"
echo "new  median $(median "${n[@]}") MiB/s  [${n[*]}]"
