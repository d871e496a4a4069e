#!/usr/bin/env bash
# What each stage of normalize + extract costs, measured by doubling: the engine of HEAD runs
# against itself with `text-stage-cost.patch` applied to the "new" side, which runs the stage
# named by SAMARITAN_DOUBLE a second time (result discarded). With everything else unchanged,
# the slow-down is the stage's cost: extra time = base median × (1 / speed-up − 1).
# (BENCHMARKS.md, "Text speed, fourth pass". The patch is made against the commit that added it;
# it may need refreshing after the extractors change.)
#
#   scripts/text-stage-cost.sh [pairs=40] [stage…]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pairs=${1:-40}
shift || true
stages=("$@")
if [ ${#stages[@]} -eq 0 ]; then
  stages=(none normalize proof clean cues cleancues words gazetteer hints phone age price
    payment handle mentions sort)
fi
work=${TMPDIR:-/tmp}/samaritan-stage-cost
rm -rf "$work"
mkdir -p "$work"
git -C "$root" worktree add -q --detach "$work/new" HEAD
trap 'git -C "$root" worktree remove --force "$work/new"' EXIT
git -C "$work/new" apply "$root/scripts/text-stage-cost.patch"
AB_NEW="$work/new" AB_BIN_OUT="$work/text-ab" "$root/scripts/text-ab-inproc.sh" HEAD
for st in "${stages[@]}"; do
  echo "$st: $(SAMARITAN_DOUBLE=$st "$work/text-ab" "$pairs")"
done
