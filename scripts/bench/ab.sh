#!/usr/bin/env bash
# The A/B script: two builds side by side, runs interleaved (base, new, new, base, …) so both see
# the same machine load (the shared VMs drift by ±20 % within a minute, which drowns changes of a
# few per cent between separate runs). Prints each side's medians and the median of the per-pair
# speed-ups (base time ÷ new time: above 1 means the new build is faster).
#
#   scripts/bench/ab.sh BASE_BIN NEW_BIN [--pairs N] [--ads N] [--seed S] [--corpus FILE]
#                       [--threads T] [--link] [-- EXTRA SCAN ARGS]
#       Two `samaritan` binaries scan the same corpus (`scan --no-link` unless --link; output
#       discarded). The corpus is FILE, or `NEW_BIN synth --ads N --seed S` (default 20000 ads,
#       seed 1) cached under $AB_DIR (default /tmp/samaritan-ab). Reports wall and CPU seconds
#       (user + sys: the steadier figure on a shared machine) and ads/s. Default 5 pairs.
#
#   scripts/bench/ab.sh --text-prof BASE_PROF NEW_PROF [--pairs N] [--rounds R]
#       Two builds of `examples/text_prof` (`cargo build --release -p samaritan-engine --example
#       text_prof`, copied aside), each run R rounds (default 100); the figure is the MiB/s it
#       prints. TEXT_PROF=<mode> (normalize, phone, handle, … ; see text_prof.rs) times one part.
#       Default 9 pairs.
#
#   scripts/bench/ab.sh --text-inproc [BASE_COMMIT=HEAD] [--pairs N]
#       Links the engine of commit BASE_COMMIT (under another package name) and the working
#       tree's engine into one program (scripts/bench/ab-inproc/) and times the text bench
#       workload (2 000 synth ads: normalize + extract + mentions(), mimalloc) with each in
#       alternating rounds inside one process. Two identical engines read 0.997–1.003.
#       AB_NEW=<checkout> takes the "new" engine from another checkout; AB_BIN_OUT=<path> copies
#       the built A/B program there instead of running it. Default 80 pairs.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

text_inproc() {
  local base=HEAD pairs=80
  while [ $# -gt 0 ]; do
    case $1 in
      --pairs) pairs=$2; shift 2 ;;
      -h|--help) usage ;;
      -*) echo "unknown option $1" >&2; usage ;;
      *) base=$1; shift ;;
    esac
  done
  local new=${AB_NEW:-$root}
  local work=${TMPDIR:-/tmp}/samaritan-text-ab
  rm -rf "$work"
  mkdir -p "$work"
  git -C "$root" worktree add -q --detach "$work/base" "$base"
  trap 'git -C "$root" worktree remove --force "$work/base"' EXIT
  # the base engine under another package name: one binary may link both
  sed -i '0,/^name = "samaritan-engine"/s//name = "samaritan-engine-base"/' \
    "$work/base/crates/samaritan-engine/Cargo.toml"
  mkdir -p "$work/bench/src"
  cp "$root/scripts/bench/ab-inproc/src/main.rs" "$work/bench/src/main.rs"
  cat > "$work/bench/Cargo.toml" <<TOML
[package]
name = "text-ab"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
new = { package = "samaritan-engine", path = "$new/crates/samaritan-engine" }
base = { package = "samaritan-engine-base", path = "$work/base/crates/samaritan-engine" }
synth = { package = "samaritan-synth", path = "$new/crates/samaritan-synth" }
mimalloc = { version = "0.1", default-features = false }

[profile.release]
debug = "line-tables-only"
codegen-units = 4

[workspace]
TOML
  cargo build -q --release --manifest-path "$work/bench/Cargo.toml"
  if [ -n "${AB_BIN_OUT:-}" ]; then
    cp "$work/bench/target/release/text-ab" "$AB_BIN_OUT"
  else
    "$work/bench/target/release/text-ab" "$pairs"
  fi
}

text_prof() {
  [ $# -ge 2 ] || usage
  local base=$1 new=$2 pairs=9 rounds=100
  shift 2
  while [ $# -gt 0 ]; do
    case $1 in
      --pairs) pairs=$2; shift 2 ;;
      --rounds) rounds=$2; shift 2 ;;
      *) echo "unknown option $1" >&2; usage ;;
    esac
  done
  rate() {
    local r
    r=$("$1" "$rounds" 2>&1 | grep -o '[0-9.]* MiB/s' | tail -n 1 | cut -d' ' -f1)
    [ -n "$r" ] || { echo "no MiB/s figure from $1" >&2; exit 1; }
    echo "$r"
  }
  local b=() n=() r=() x y
  for i in $(seq "$pairs"); do
    if [ $((i % 2)) -eq 1 ]; then x=$(rate "$base"); y=$(rate "$new")
    else y=$(rate "$new"); x=$(rate "$base"); fi
    b+=("$x") n+=("$y") r+=("$(awk -v a="$x" -v b="$y" 'BEGIN { printf "%.4f", b / a }')")
  done
  echo "base median $(median "${b[@]}") MiB/s  [${b[*]}]"
  echo "new  median $(median "${n[@]}") MiB/s  [${n[*]}]"
  echo "median per-pair speed-up $(median "${r[@]}")  [$pairs pairs]"
}

binaries() {
  [ $# -ge 2 ] || usage
  local base=$1 new=$2 pairs=5 ads=20000 seed=1 corpus="" threads link=0 extra=()
  shift 2
  threads=$(nproc)
  while [ $# -gt 0 ]; do
    case $1 in
      --pairs) pairs=$2; shift 2 ;;
      --ads) ads=$2; shift 2 ;;
      --seed) seed=$2; shift 2 ;;
      --corpus) corpus=$2; shift 2 ;;
      --threads) threads=$2; shift 2 ;;
      --link) link=1; shift ;;
      --) shift; extra=("$@"); break ;;
      *) echo "unknown option $1" >&2; usage ;;
    esac
  done
  for b in "$base" "$new"; do
    [ -x "$b" ] || { echo "not an executable: $b" >&2; exit 2; }
  done
  local work=${AB_DIR:-/tmp/samaritan-ab}
  mkdir -p "$work"
  if [ -z "$corpus" ]; then
    corpus="$work/synth-$ads-$seed/ads.jsonl"
    [ -s "$corpus" ] || "$new" synth --ads "$ads" --seed "$seed" --out "$work/synth-$ads-$seed" >/dev/null 2>&1
  fi
  [ -s "$corpus" ] || { echo "no corpus at $corpus" >&2; exit 2; }
  local nads
  nads=$(wc -l < "$corpus")
  local args=(scan "$corpus" --out /dev/null --threads "$threads")
  [ "$link" = 1 ] || args+=(--no-link)
  args+=("${extra[@]}")
  # one run: prints "wall cpu"
  run() {
    /usr/bin/time -f "%e %U %S" -o "$work/time" "$1" "${args[@]}" > /dev/null 2> "$work/err" || {
      echo "FAILED: $1 ${args[*]}" >&2; cat "$work/err" >&2; exit 1; }
    awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$work/time"
  }
  local bw=() bc=() nw=() nc=() rw=() rc=() x y
  for i in $(seq "$pairs"); do
    if [ $((i % 2)) -eq 1 ]; then x=$(run "$base"); y=$(run "$new")
    else y=$(run "$new"); x=$(run "$base"); fi
    read -r xw xc <<< "$x"
    read -r yw yc <<< "$y"
    bw+=("$xw") bc+=("$xc") nw+=("$yw") nc+=("$yc")
    rw+=("$(awk -v a="$xw" -v b="$yw" 'BEGIN { printf "%.4f", (b > 0 ? a / b : 0) }')")
    rc+=("$(awk -v a="$xc" -v b="$yc" 'BEGIN { printf "%.4f", (b > 0 ? a / b : 0) }')")
  done
  local mbw mnw
  mbw=$(median "${bw[@]}") mnw=$(median "${nw[@]}")
  echo "corpus $corpus: $nads ads; samaritan ${args[*]}; $pairs pairs"
  echo "base median $mbw s wall ($(awk -v n="$nads" -v t="$mbw" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }') ads/s), $(median "${bc[@]}") s CPU  [wall ${bw[*]}]"
  echo "new  median $mnw s wall ($(awk -v n="$nads" -v t="$mnw" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }') ads/s), $(median "${nc[@]}") s CPU  [wall ${nw[*]}]"
  echo "median per-pair speed-up (base ÷ new): wall $(median "${rw[@]}"), CPU $(median "${rc[@]}")"
}

case ${1:-} in
  ""|-h|--help) usage ;;
  --text-inproc) shift; text_inproc "$@" ;;
  --text-prof) shift; text_prof "$@" ;;
  *) binaries "$@" ;;
esac
