#!/usr/bin/env bash
# holdfast-bench/failover-timeline.sh DIR: where the time of each Holdfast leader kill of a failover.sh run went.
#
#   SERVER_JAVA_OPTS="-Xmx256m -XX:+UseSerialGC -Dholdfast.ratis.log.level=INFO" \
#     holdfast-bench/failover.sh --systems holdfast --out DIR
#   holdfast-bench/failover-timeline.sh DIR
#
# For each kill in DIR/kills.tsv, the milliseconds from the kill (the instant before `kill -9`) to the
# first line of each step after it, in the surviving nodes' logs (Ratis's lines need its INFO level):
#   candidate   a follower's election timeout fired (Ratis: FOLLOWER to CANDIDATE)
#   prevote     its pre-vote passed (Ratis: PRE_VOTE PASSED)
#   vote        its vote passed (Ratis: ELECTION PASSED)
#   leader      Holdfast heard that it leads ("Node nX is now the leader")
#   duties      the new leader's state machine applied its first entry of the term and its duties
#               started ("Node nX leads:"): from here it grants
#   java, http  the probe's first success after the kill (the end of its interval around the kill)
# Log lines carry the time of day only; the run must not cross midnight.
set -euo pipefail
dir=${1:?usage: failover-timeline.sh DIR}

ms_of() { date -d "today $1" +%s%3N; }

# first_after T0 PATTERN: ms from T0 to the first line matching PATTERN in a surviving node's log.
first_after() {
  local t0=$1 pattern=$2 best= line ms
  while IFS= read -r line; do
    ms=$(ms_of "${line:0:12}")
    if ((ms >= t0)) && [[ -z $best || $((ms - t0)) -lt $best ]]; then best=$((ms - t0)); fi
  done < <(grep -a -h -E "$pattern" "$dir"/n[123].log | grep -a -E '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}' || true)
  echo "${best:--}"
}

# success_after T0 T1 PROBE: ms from T0 to the end of the probe's longest interval around the kill.
success_after() {
  awk -v t0="$1" -v t1="$2" '$1 == "GAP" && $3 > t0 && $2 < t1 + 500 && $3 - $2 > best { best = $3 - $2; end = $3 }
    END { if (best) print end - t0; else print "-" }' "$dir/probe-$3.out"
}

printf 'kill\tkilled\tcandidate\tprevote\tvote\tleader\tduties\tjava\thttp\n'
while IFS=$'\t' read -r system k t0 t1 killed _; do
  [[ $system == holdfast ]] || continue
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$k" "$killed" \
    "$(first_after "$t0" 'to CANDIDATE')" \
    "$(first_after "$t0" 'PRE_VOTE PASSED')" \
    "$(first_after "$t0" 'ELECTION PASSED')" \
    "$(first_after "$t0" 'is now the leader')" \
    "$(first_after "$t0" ' leads: ')" \
    "$(success_after "$t0" "$t1" hf-java)" \
    "$(success_after "$t0" "$t1" hf-http)"
done <"$dir/kills.tsv"
