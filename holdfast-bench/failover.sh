#!/usr/bin/env bash
# holdfast-bench/failover.sh: how long a client waits when the leader is SIGKILLed, Holdfast beside etcd.
#
#   holdfast-bench/failover.sh [--kills 5] [--election-timeout 1s] [--systems holdfast,etcd]
#                              [--jar holdfast-cli/target/holdfast.jar] [--out DIR] [--load N]
#
# Run from anywhere; it works in the repository root. In order:
#   1. Uses the CLI jar (--jar; by default holdfast-cli/target/holdfast.jar, built by ./holdfast when
#      missing). The probes run from holdfast-bench/failover/FailoverProbe.java on that jar's classpath
#      (it carries Holdfast's Java client and jetcd).
#   2. Starts a 3-node Holdfast cluster (`java -jar holdfast.jar server`, fsync on, --election-timeout
#      as given; client/Raft/HTTP ports 31653-31655, 31753-31755, 31853-31855) and a 3-member etcd
#      cluster (Debian's etcd-server, default settings: 100 ms heartbeat, 1 s election timeout; client
#      and peer ports 32379/32380, 32479/32480, 32579/32580), data in a temporary directory.
#   3. Runs one probe per client, each in its own JVM, each doing durable operations in a closed loop:
#      Holdfast's Java client (acquire + release of a lock of its own), Holdfast's HTTP protocol as
#      the Python, Node and Go clients speak it (acquire + release of another lock), and jetcd (PUTs).
#      A probe prints every interval of 50 ms or more between two successive successes.
#   4. --kills times, per system in turn: finds the leader (Holdfast: GET /status; etcd: its
#      maintenance status), SIGKILLs it, waits until that system's probes succeed again (at most
#      30 s), restarts the dead member on its data, waits until it has caught up with the leader's
#      commit index, and lets the cluster settle 2 s.
#   5. Prints, per kill and per probe, the longest interval between two successes around the kill (one
#      that ends after the kill and starts before it, or within 500 ms after it), and the median and max per probe; for Holdfast also
#      when the new leader's duties started (its log's "leads" line), after the kill.
# --load N: a busy machine. N processes that only spin (a shell loop each, normal priority) start
# after the warm-up and run through every kill, so the servers, probes and burners share the cores
# as on a machine at a load of N plus the run's own: N = 3 gives about twice the cores of a 2-core
# machine (issue 72, item 4). The load average at each kill is in kills.tsv and in the table.
# Every process it starts is stopped on exit (trap); the temporary data is removed unless --out is given.
#
# Environment: SERVER_JAVA_OPTS (default -Xmx256m -XX:+UseSerialGC), PROBE_JAVA_OPTS (default
# -Xmx256m -XX:+UseSerialGC), HTTP_BACKOFF_CAP_MS (the HTTP probe's longest backoff, default 1000),
# HOLDFAST_CDS (default 1: the servers start with the cache the launcher gives `holdfast server`, a
# class-data archive or, on JDK 25, an ahead-of-time cache, made once per jar, JDK and options by
# `holdfast server-cache` in holdfast-bench/target/failover-cache, as an installed node or the image
# has it; 0: without, as `java -jar` alone starts). A new leader loads and links the classes of
# Ratis's leader (a follower never did): measured, 2026-12-01, 518 ms from its election to serving
# without the archive, 121-176 ms with it (docs/benchmarks.md).
set -euo pipefail

kills=5
election_timeout=1s
systems=holdfast,etcd
root=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)
jar=$root/holdfast-cli/target/holdfast.jar
out=
load=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --kills) kills=$2; shift 2 ;;
    --election-timeout) election_timeout=$2; shift 2 ;;
    --systems) systems=$2; shift 2 ;;
    --jar) jar=$(readlink -f -- "$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --load) load=$2; shift 2 ;;
    -h|--help) sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "failover.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if ! [[ $load =~ ^[0-9]+$ ]]; then
  echo "failover.sh: --load takes a number of spinning processes, not '$load'" >&2
  exit 2
fi
server_opts=${SERVER_JAVA_OPTS:--Xmx256m -XX:+UseSerialGC}
probe_opts=${PROBE_JAVA_OPTS:--Xmx256m -XX:+UseSerialGC}
cd "$root"
if [[ ! -f $jar ]]; then
  ./holdfast --version >/dev/null
fi
# The servers' cache, as the launcher gives it to `holdfast server` (HOLDFAST_CDS above).
cache_opts=
if [[ ${HOLDFAST_CDS:-1} != 0 ]]; then
  mkdir -p "$root/holdfast-bench/target/failover-cache"
  if ! cache_opts=$(HOLDFAST_JAR=$jar HOLDFAST_CDS_DIR=$root/holdfast-bench/target/failover-cache \
    HOLDFAST_JAVA_OPTS=$server_opts bash "$root/holdfast-dist/src/dist/bin/holdfast" server-cache); then
    echo "failover.sh: the launcher could not make the servers' cache (HOLDFAST_CDS=0 runs without it)" >&2
    exit 1
  fi
  cache_opts+=" -Xlog:cds=off"
fi
if [[ -n $out ]]; then
  mkdir -p "$out"
  tmp=$(readlink -f -- "$out")
else
  tmp=$(mktemp -d /tmp/holdfast-failover.XXXXXX)
fi
declare -A pid=()
probes=()
burners=()

cleanup() {
  local p
  for p in "${pid[@]}" "${probes[@]}" "${burners[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  [[ -n $out ]] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n== %s\n' "$*" >&2; }
now_ms() { date +%s%3N; }

# ports_free PORT...: refuse to measure someone else's server.
ports_free() {
  local port
  for port in "$@"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "failover.sh: something already listens on 127.0.0.1:$port; stop it first" >&2
      exit 1
    fi
  done
}

hf_port() { echo $((31553 + $1 * 100)); } # node i's client port; Raft +1, HTTP +2
hf_peers=n1=127.0.0.1:31654,n2=127.0.0.1:31754,n3=127.0.0.1:31854

hf_start() {
  local i=$1 p
  p=$(hf_port "$i")
  # shellcheck disable=SC2086
  java $server_opts $cache_opts -jar "$jar" server --id "n$i" --peers "$hf_peers" --client-port "$p" \
    --raft-port $((p + 1)) --http-port $((p + 2)) --data-dir "$tmp/n$i" \
    --election-timeout "$election_timeout" >>"$tmp/n$i.log" 2>&1 &
  pid[n$i]=$!
}

hf_status() { curl -sf --max-time 1 "http://127.0.0.1:$(($(hf_port "$1") + 2))/status" || true; }

# hf_leader: the number of the node that says it leads, or nothing.
hf_leader() {
  local i
  for i in 1 2 3; do
    if hf_status "$i" | grep -q '"role":"leader"'; then echo "$i"; return; fi
  done
}

json_num() { sed -n "s/.*\"$1\":\"\{0,1\}\([0-9]*\).*/\1/p"; }

# caught_up SYSTEM I: member I of SYSTEM (hf, et) has applied what its leader had committed.
caught_up() {
  local leader target applied commit=commitIndex applied_field=appliedIndex
  [[ $1 == et ]] && commit=raftIndex applied_field=raftAppliedIndex
  leader=$("$1_leader")
  [[ -n $leader && $leader != "$2" ]] || return 1
  target=$("$1_status" "$leader" | json_num "$commit")
  applied=$("$1_status" "$2" | json_num "$applied_field")
  [[ -n $target && -n $applied && $applied -ge $target ]]
}

et_port() { echo $((32279 + $1 * 100)); } # member i's client port; peer +1
et_cluster=e1=http://127.0.0.1:32380,e2=http://127.0.0.1:32480,e3=http://127.0.0.1:32580

et_start() {
  local i=$1 p
  p=$(et_port "$i")
  etcd --name "e$i" --data-dir "$tmp/e$i" \
    --listen-client-urls "http://127.0.0.1:$p" --advertise-client-urls "http://127.0.0.1:$p" \
    --listen-peer-urls "http://127.0.0.1:$((p + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((p + 1))" \
    --initial-cluster "$et_cluster" --initial-cluster-state new --initial-cluster-token failover \
    >>"$tmp/e$i.log" 2>&1 &
  pid[e$i]=$!
}

et_status() { curl -sf --max-time 1 -X POST -d '{}' "http://127.0.0.1:$(et_port "$1")/v3/maintenance/status" || true; }

et_leader() {
  local i s
  for i in 1 2 3; do
    s=$(et_status "$i")
    if [[ -n $s && $(json_num member_id <<<"$s") == "$(json_num leader <<<"$s")" ]]; then echo "$i"; return; fi
  done
}


# until_true SECONDS WHAT CMD...: polls CMD every 100 ms.
until_true() {
  local limit=$(($(now_ms) + $1 * 1000)) what=$2
  shift 2
  until "$@"; do
    if (($(now_ms) > limit)); then
      echo "failover.sh: $what not within the time allowed; logs in $tmp" >&2
      out=$tmp
      exit 1
    fi
    sleep 0.1
  done
}

probe() { # probe NAME MODE TARGETS
  # shellcheck disable=SC2086
  HTTP_BACKOFF_CAP_MS=${HTTP_BACKOFF_CAP_MS:-1000} java $probe_opts -cp "$jar" \
    "$root/holdfast-bench/failover/FailoverProbe.java" "$2" "$3" >"$tmp/probe-$1.out" 2>"$tmp/probe-$1.err" &
  probes+=($!)
}

probe_ready() { grep -q '^READY' "$tmp/probe-$1.out"; }

# The kill's interval of a probe: the longest interval between two successes that ends after the
# kill began (T0, before `kill -9`) and starts before it was done (T1, after) plus 500 ms (a reply
# the leader sent just before it died may reach the probe a little after T1).
# gap_of PROBE T0 T1: its length in ms, or nothing.
gap_of() {
  awk -v t0="$2" -v t1="$3" '$1 == "GAP" && $3 > t0 && $2 < t1 + 500 && $3 - $2 > best { best = $3 - $2 }
    END { if (best) print best }' "$tmp/probe-$1.out"
}

# recovered T0 T1 PROBE...: a second has passed since the kill and each probe has had a success
# after an interval of at least 200 ms around it.
recovered() {
  local t0=$1 t1=$2 p g
  shift 2
  (($(now_ms) > t1 + 1000)) || return 1
  for p in "$@"; do
    g=$(gap_of "$p" "$t0" "$t1")
    [[ -n $g && $g -ge 200 ]] || return 1
  done
}

hf_on=; et_on=
[[ ,$systems, == *,holdfast,* ]] && hf_on=1
[[ ,$systems, == *,etcd,* ]] && et_on=1
if [[ -n $et_on ]] && ! command -v etcd >/dev/null; then
  echo "failover.sh: etcd is not installed (apt-get install -y etcd-server)" >&2
  exit 1
fi

if [[ -n $hf_on ]]; then
  say "Holdfast: 3 nodes, election timeout $election_timeout, data in $tmp/n1..n3, ${cache_opts:-no server cache (HOLDFAST_CDS=0)}"
  ports_free 31653 31654 31655 31753 31754 31755 31853 31854 31855
  hf_start 1; hf_start 2; hf_start 3
  until_true 90 "a Holdfast leader" eval '[[ -n $(hf_leader) ]]'
  probe hf-java java holdfast://127.0.0.1:31653,127.0.0.1:31753,127.0.0.1:31853
  probe hf-http http http://127.0.0.1:31655,http://127.0.0.1:31755,http://127.0.0.1:31855
fi
if [[ -n $et_on ]]; then
  say "etcd $(etcd --version | sed -n 's/^etcd Version: //p'): 3 members, default settings, data in $tmp/e1..e3"
  ports_free 32379 32380 32479 32480 32579 32580
  et_start 1; et_start 2; et_start 3
  until_true 60 "an etcd leader" eval '[[ -n $(et_leader) ]]'
  probe etcd etcd http://127.0.0.1:32379,http://127.0.0.1:32479,http://127.0.0.1:32579
fi
for p in ${hf_on:+hf-java hf-http} ${et_on:+etcd}; do
  until_true 90 "probe $p ready" probe_ready "$p"
done
say "probes ready; warming up 20 s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
sleep 20
for ((b = 0; b < load; b++)); do
  bash -c 'while :; do :; done' &
  burners+=($!)
done
if ((load > 0)); then
  say "$load spinning processes started; 15 s for the load average to climb"
  sleep 15
fi

# kill_leader SYSTEM PREFIX PROBE...: SIGKILLs SYSTEM's leader (member PREFIX$leader), between the
# instants t and t1, and waits until the probes have recovered (at most 30 s).
kill_leader() {
  local system=$1 prefix=$2
  shift 2
  leader=$("${system}_leader")
  load1=$(cut -d' ' -f1 /proc/loadavg)
  t=$(now_ms)
  kill -9 "${pid[$prefix$leader]}"
  t1=$(now_ms)
  wait "${pid[$prefix$leader]}" 2>/dev/null || true
  until_true 30 "a success of $* after kill $k" recovered "$t" "$t1" "$@"
}

: >"$tmp/kills.tsv"
for ((k = 1; k <= kills; k++)); do
  if [[ -n $hf_on ]]; then
    kill_leader hf n hf-java hf-http
    # The new leader's duties started ("Node nX leads: ..."), in its log's local time of day.
    ready=
    for i in 1 2 3; do
      if [[ $i == "$leader" ]]; then continue; fi
      line=$(grep -a -h "Node n$i leads:" "$tmp/n$i.log" | tail -1 | cut -c1-12 || true)
      if [[ -n $line ]]; then
        ms=$(date -d "today $line" +%s%3N)
        if ((ms > t)); then ready=$((ms - t)); fi
      fi
    done
    printf 'holdfast\t%s\t%s\t%s\tn%s\t%s\t%s\n' "$k" "$t" "$t1" "$leader" "${ready:--}" "$load1" >>"$tmp/kills.tsv"
    echo "kill $k: Holdfast leader n$leader killed; new leader's duties started ${ready:-?} ms later" >&2
    hf_start "$leader"
    until_true 60 "n$leader caught up" caught_up hf "$leader"
    sleep 2
  fi
  if [[ -n $et_on ]]; then
    kill_leader et e etcd
    printf 'etcd\t%s\t%s\t%s\te%s\t-\t%s\n' "$k" "$t" "$t1" "$leader" "$load1" >>"$tmp/kills.tsv"
    echo "kill $k: etcd leader e$leader killed" >&2
    et_start "$leader"
    until_true 60 "e$leader caught up" caught_up et "$leader"
    sleep 2
  fi
done

say "longest interval between two successes around each kill (ms); $(nproc) cores, $load spinning processes, HOLDFAST_CDS=${HOLDFAST_CDS:-1}, load average $(cut -d' ' -f1-3 /proc/loadavg), $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'), election timeout $election_timeout"
{
  printf 'kill\tsystem\tprobe\tkilled\tgap_ms\tleader_duties_ms\tload1\n'
  while IFS=$'\t' read -r system k t t1 killed ready load1; do
    case $system in holdfast) ps=(hf-java hf-http) ;; *) ps=(etcd) ;; esac
    for p in "${ps[@]}"; do
      gap=$(gap_of "$p" "$t" "$t1")
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$k" "$system" "$p" "$killed" "${gap:-<50}" "$ready" "$load1"
    done
  done <"$tmp/kills.tsv"
} >"$tmp/gaps.tsv"
column -t -s $'\t' "$tmp/gaps.tsv"
printf '\nprobe\tkills\tmedian_ms\tmax_ms\n' >"$tmp/summary.tsv"
for p in ${hf_on:+hf-java hf-http} ${et_on:+etcd}; do
  awk -F'\t' -v p="$p" 'NR > 1 && $3 == p { print $5 + 0 }' "$tmp/gaps.tsv" | sort -n |
    awk -v p="$p" '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
      printf "%s\t%d\t%d\t%d\n", p, NR, m, v[NR] }' >>"$tmp/summary.tsv"
done
column -t -s $'\t' "$tmp/summary.tsv"
