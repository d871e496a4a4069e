#!/usr/bin/env bash
# In-process A/B of the text workload: links the engine of commit BASE (default HEAD) and the
# engine of the working tree into one binary and times them in alternating rounds, so both see
# the same machine load (the shared VMs here drift by ±20 % within a minute, which drowns
# changes of a few per cent between separate runs). Prints both medians and the median of the
# per-pair speed-ups.
#
#   scripts/text-ab-inproc.sh [BASE=HEAD] [pairs=80]
#
# AB_NEW=<checkout> takes the "new" engine from another checkout than this one;
# AB_BIN_OUT=<path> copies the A/B program there instead of running it (text-stage-cost.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base=${1:-HEAD} pairs=${2:-80}
new=${AB_NEW:-$root}
work=${TMPDIR:-/tmp}/samaritan-text-ab
rm -rf "$work"
mkdir -p "$work"
git -C "$root" worktree add -q --detach "$work/base" "$base"
trap 'git -C "$root" worktree remove --force "$work/base"' EXIT
# the base engine under another package name: one binary may link both
sed -i '0,/^name = "samaritan-engine"/s//name = "samaritan-engine-base"/' \
  "$work/base/crates/samaritan-engine/Cargo.toml"
mkdir -p "$work/bench/src"
cp "$root/scripts/text-ab-inproc/src/main.rs" "$work/bench/src/main.rs"
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
