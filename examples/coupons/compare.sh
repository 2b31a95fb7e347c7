#!/usr/bin/env bash
# The strategy comparison of docs/coupons.md: every strategy under high and low contention, the same
# requests for each (8,000 requests from 4,000 users for 2,000 coupons), repeated; prints each run's table.
#
#   examples/coupons/compare.sh [REPEATS]     (default 2; run from anywhere, after the CLI is built)
#
# High contention: one campaign of 2,000 coupons, every request on the same row and the same lock.
# Low contention: 400 campaigns of 5 coupons, 10 users each, so 32 request threads rarely meet.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
repeats=${1:-2}
common=(--instances 4 --threads 8 --users 4000 --per-user 1 --work 2ms)
for ((i = 1; i <= repeats; i++)); do
  for level in high low; do
    if [[ $level == high ]]; then shape=(--campaigns 1 --stock 2000); else shape=(--campaigns 400 --stock 5); fi
    echo "== run $i, $level contention: ${shape[*]} ${common[*]}"
    "$root/holdfast" demo coupons "${shape[@]}" "${common[@]}" --seed "$i" | sed -n '/^strategy/,$p'
  done
done
