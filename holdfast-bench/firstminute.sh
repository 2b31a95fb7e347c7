#!/usr/bin/env bash
# holdfast-bench/firstminute.sh: the first minute of a three-member cluster, second by second: after a fresh
# start and after a SIGKILL of the leader, for Holdfast and for a ZooKeeper ensemble, beside the warm figure.
#
#   holdfast-bench/firstminute.sh [--only holdfast|zookeeper] [--seconds 60] [--prime 20s] [--workloads W1,W2]
#                                 [--label NAME] [--out DIR]
#
# For each system (Holdfast, then ZooKeeper) and each workload (W1: 1 client on 1 lock; W2: 64 clients on
# 64 locks), on a cluster of its own:
#   1. fresh: starts `holdfast bench --per-second --warmup 0s --await-backend 120s` first, then three fresh
#      server processes (new data directories); the bench's first second is the first second in which the
#      cluster answers. Measured --seconds.
#   2. kill: a new bench on the same cluster, primed first (--prime, as a long-running application's client
#      is warm when a leader dies), then --seconds + 5 s measured; at the end of its 5th measured second the
#      leader (Holdfast: `holdfast members`; ZooKeeper: the `srvr` command's "Mode: leader") gets SIGKILL and
#      is started again at once on its data. The series after the kill is measured seconds 6.. of that bench.
#      (Before 2026-12-02 this bench started cold, with no prime: its first seconds measured the client's JIT
#      as much as the new leader's.)
#   3. warm: `holdfast bench --warmup PRIME --duration 20s` on the same cluster: the warm figure.
# Then it stops the cluster and prints, per series, the pairs/s of every second, the warm figure, and how
# many seconds after the 5th were below 50 % of it (issue 55's goal: none).
#
# Both systems are driven by the same `holdfast bench` (the checkout's CLI jar): Holdfast through its client
# (holdfast://, all three members), ZooKeeper through Holdfast's ZooKeeper provider (zookeeper://, all three
# servers; a session per client, the provider's own lock recipe), so the client side is the same JVM code.
# ZooKeeper is Debian's (`apt-get install -y zookeeper`; /usr/share/java/zookeeper.jar), forceSync=yes.
#
# Ports (loopback only): Holdfast 25900-25922 (member i: client 25900+10i, Raft +1, HTTP +2), ZooKeeper
# 26181-26203 (server i: client 26181+10i, quorum +1, election +2); FIRSTMINUTE_PORT and ZK_FIRSTMINUTE_PORT
# move them. A busy port stops the script before anything starts. Every process it starts is stopped on
# exit (trap), and its temporary directory removed unless --keep.
#
# Environment:
#   SERVER_JAVA_OPTS   HOLDFAST_JAVA_OPTS of each Holdfast server (default: the launcher's)
#   SERVER_JAVA_HOME   the JDK of the Holdfast servers (default: JAVA_HOME), e.g. /usr/lib/jvm/temurin-25-jdk-amd64
#   HOLDFAST_CDS=0     servers without the launcher's class-data / ahead-of-time cache (the A/B switch)
#   BENCH_JAVA_OPTS    JVM options of the load generator (default: -Xmx1g -XX:+UseSerialGC)
#   JAVA_HOME          as for ./holdfast
# About 3 minutes per system and workload, 12 minutes for everything. Not run by CI.
set -euo pipefail

seconds=60
prime=20s
only=
workloads=W1,W2
label=
keep=0
root=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)
out=

while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --prime) prime=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --workloads) workloads=$2; shift 2 ;;
    --label) label=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "firstminute.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
done
case $only in ''|holdfast|zookeeper) ;; *) echo "firstminute.sh: --only holdfast or zookeeper" >&2; exit 64 ;; esac

P=${FIRSTMINUTE_PORT:-25900}
Z=${ZK_FIRSTMINUTE_PORT:-26181}
bench_opts=${BENCH_JAVA_OPTS:--Xmx1g -XX:+UseSerialGC}
tmp=$(mktemp -d /tmp/firstminute.XXXXXX)
out=${out:-$root/holdfast-bench/target/firstminute-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p -- "$out"
declare -A pid=() # member (n1, z1, ...) -> process id
cd -- "$root"

cleanup() {
  local p
  for p in "${pid[@]}" $(jobs -p); do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ((keep)) || rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$out/run.log" >&2; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in $P $((P + 1)) $((P + 2)) $((P + 10)) $((P + 11)) $((P + 12)) $((P + 20)) $((P + 21)) $((P + 22)) \
  $Z $((Z + 1)) $((Z + 2)) $((Z + 10)) $((Z + 11)) $((Z + 12)) $((Z + 20)) $((Z + 21)) $((Z + 22)); do
  if port_busy "$port"; then
    echo "firstminute.sh: port $port on 127.0.0.1 is in use (move FIRSTMINUTE_PORT / ZK_FIRSTMINUTE_PORT)" >&2
    exit 69
  fi
done

say "building the CLI (./holdfast --version)"
./holdfast --version >/dev/null
# The run's own copy of the jars (a build during the run must not change the classes of a running server),
# started by the distribution's launcher as an installed node is; its caches are kept across runs.
mkdir -p "$tmp/lib" "$tmp/bin" "$root/holdfast-bench/target/firstminute-cache"
cp -p holdfast-cli/target/holdfast.jar holdfast-bench/target/cli-commands.jar "$tmp/lib/"
cp -p holdfast-dist/src/dist/bin/holdfast "$tmp/bin/"
# hf_exec replaces the shell it runs in (`hf_exec ... &`: $! is the JVM's pid); hf runs it in a subshell.
hf_exec() {
  HOLDFAST_JAR=$tmp/lib/holdfast.jar HOLDFAST_CLASSPATH=$tmp/lib/cli-commands.jar \
    HOLDFAST_CDS_DIR=$root/holdfast-bench/target/firstminute-cache exec "$BASH" "$tmp/bin/holdfast" "$@"
}
hf() { (hf_exec "$@"); }
hf --version >/dev/null # makes the short commands' class archive (`holdfast members` below) before any timing
if [[ ${HOLDFAST_CDS:-1} != 0 && $only != zookeeper ]]; then
  say "the servers' cache (made once per JDK, jar and options; a training run of about 20 s)"
  JAVA_HOME=${SERVER_JAVA_HOME:-${JAVA_HOME:-}} HOLDFAST_JAVA_OPTS=${SERVER_JAVA_OPTS:-${HOLDFAST_JAVA_OPTS:-}} \
    hf server-cache >>"$out/run.log" 2>&1 || say "no server cache: the servers start without one"
fi

# --- the systems -----------------------------------------------------------------------------------

hf_uri="holdfast://127.0.0.1:$P,127.0.0.1:$((P + 10)),127.0.0.1:$((P + 20))"
hf_peers="n1=127.0.0.1:$((P + 1)),n2=127.0.0.1:$((P + 11)),n3=127.0.0.1:$((P + 21))"
hf_start() { # member data-dir
  local i=${1#n} o
  o=$(((i - 1) * 10))
  JAVA_HOME=${SERVER_JAVA_HOME:-${JAVA_HOME:-}} HOLDFAST_JAVA_OPTS=${SERVER_JAVA_OPTS:-${HOLDFAST_JAVA_OPTS:-}} \
    hf_exec server --id "$1" --peers "$hf_peers" --client-port $((P + o)) --http-port $((P + o + 2)) \
    --data-dir "$2/$1" >>"$2/$1.log" 2>&1 &
  pid[$1]=$!
}
hf_leader() {
  local seen
  seen=$(hf members --backend "$hf_uri" --timeout 30s 2>>"$out/run.log") || true
  sed -n 's/.*; leader: \(n[0-9]\).*/\1/p' <<<"$seen" | head -1
}

zk_uri="zookeeper://127.0.0.1:$Z,127.0.0.1:$((Z + 10)),127.0.0.1:$((Z + 20))"
zk_cp="/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar"
zk_start() { # member data-dir
  local i=${1#z} o d
  o=$(((i - 1) * 10))
  d=$2/$1
  if [[ ! -f $d/zoo.cfg ]]; then
    mkdir -p "$d/data"
    echo "$i" >"$d/data/myid"
    cat >"$d/zoo.cfg" <<EOC
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$d/data
clientPort=$((Z + o))
clientPortAddress=127.0.0.1
maxClientCnxns=0
forceSync=yes
admin.enableServer=false
server.1=127.0.0.1:$((Z + 1)):$((Z + 2))
server.2=127.0.0.1:$((Z + 11)):$((Z + 12))
server.3=127.0.0.1:$((Z + 21)):$((Z + 22))
EOC
  fi
  java -Xms512m -Xmx512m -Dzookeeper.admin.enableServer=false -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$zk_cp" org.apache.zookeeper.server.quorum.QuorumPeerMain "$d/zoo.cfg" >>"$d.log" 2>&1 &
  pid[$1]=$!
}
zk_leader() {
  local i reply
  for i in 1 2 3; do
    reply=$( (exec 3<>"/dev/tcp/127.0.0.1/$((Z + (i - 1) * 10))" && printf 'srvr' >&3 && timeout 2 cat <&3) 2>/dev/null || true)
    [[ $reply == *"Mode: leader"* ]] && { echo "z$i"; return 0; }
  done
}

# --- one bench -------------------------------------------------------------------------------------

# One bench in this shell's place (run it with `&` or in a subshell); its exit code is not the script's.
bench() { # uri workload file extra-args...
  local uri=$1 w=$2 file=$3 shape
  shift 3
  case $w in
    W1) shape=(--clients 1) ;;
    W2) shape=(--clients 64 --locks 64) ;;
    *) echo "firstminute.sh: workload $w is not W1 or W2" >&2; exit 64 ;;
  esac
  HOLDFAST_JAVA_OPTS=$bench_opts hf_exec bench --backend "$uri" "${shape[@]}" --plot none --no-progress \
    --await-backend 120s "$@" >"$file" 2>&1
}

# The pairs/s of the measured seconds FROM..TO (counted from the first measured second, after any prime) of a
# bench's --per-second lines, space-separated.
series() { awk -v from="$2" -v to="$3" '$1 == "second" && $3 == "measure" { m++; if (m >= from && m <= to) {
  gsub(",", "", $4); printf "%s%d", (n++ ? " " : ""), $4 } } END { print "" }' "$1"; }
warm_of() { awk '$1 == "throughput" { gsub(",", "", $2); print int($2); exit }' "$1"; }

# The CPU time the servers of MEMBERS have used since they started (start, election, serving), and per pair of
# the bench whose output is FILE: on a busy machine a steadier sign of a cold JVM than the rate.
cpu_of() { # name file members...
  local name=$1 file=$2 m ticks=0 t pairs
  shift 2
  for m in "$@"; do
    t=$(awk '{ print $14 + $15 }' "/proc/${pid[$m]}/stat" 2>/dev/null) || t=0
    ticks=$((ticks + t))
  done
  pairs=$(awk '$1 == "pairs" { gsub(",", "", $2); print $2; exit }' "$file")
  awk -v n="$name" -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v p="${pairs:-0}" 'BEGIN {
    printf "%-30s servers CPU since start %.1f s, pairs %d, %.2f ms per pair\n", n, t / hz, p, (p ? 1000 * t / hz / p : 0) }'
}

summary() { # name series warm
  awk -v name="$1" -v s="$2" -v warm="$3" 'BEGIN {
    n = split(s, v, " "); below = 0; min = -1; first5 = 0
    for (i = 1; i <= n; i++) {
      if (i <= 5) first5 += v[i]
      else { if (v[i] < warm / 2) below++; if (min < 0 || v[i] < min) min = v[i] }
    }
    printf "%-30s seconds %d, first 5 s mean %d, min after the 5th %d, warm %d, below 50%% of warm after the 5th: %d\n",
      name, n, (n ? first5 / (n < 5 ? n : 5) : 0), min, warm, below
  }'
}

run_system() { # holdfast|zookeeper
  local sys=$1 w dir leader members start leader_of uri
  if [[ $sys == holdfast ]]; then members="n1 n2 n3"; start=hf_start; leader_of=hf_leader; uri=$hf_uri
  else members="z1 z2 z3"; start=zk_start; leader_of=zk_leader; uri=$zk_uri; fi
  for w in ${workloads//,/ }; do
    dir=$tmp/$sys-$w
    mkdir -p "$dir"
    say "$sys $w: fresh start, $seconds s from the first second"
    bench "$uri" "$w" "$out/$sys-$w-fresh.txt" --per-second --warmup 0s --duration "${seconds}s" &
    local b=$!
    for m in $members; do "$start" "$m" "$dir"; done
    wait "$b" || true
    cpu_of "$sys $w fresh" "$out/$sys-$w-fresh.txt" $members | tee -a "$out/cpu.txt"
    leader=$("$leader_of") || leader=
    say "$sys $w: leader ${leader:-not found} to be killed 5 s into a ${seconds} s + 5 s run, after a ${prime} prime"
    bench "$uri" "$w" "$out/$sys-$w-kill.txt" --per-second --warmup "$prime" --duration "$((seconds + 5))s" &
    b=$!
    # the end of the first measured second, then four more: the kill ends the 5th
    while kill -0 "$b" 2>/dev/null && ! grep -q '^second .* measure ' "$out/$sys-$w-kill.txt" 2>/dev/null; do
      sleep 0.1
    done
    sleep 4
    if [[ -n $leader ]]; then
      kill -KILL "${pid[$leader]}"
      wait "${pid[$leader]}" 2>/dev/null || true
      say "$sys $w: SIGKILL to the leader $leader (pid ${pid[$leader]}); starting it again"
      "$start" "$leader" "$dir"
    else
      say "$sys $w: no leader found; nothing killed"
    fi
    wait "$b" || true
    say "$sys $w: warm figure: ${prime} prime, 20 s measured"
    bench "$uri" "$w" "$out/$sys-$w-warm.txt" --warmup "$prime" --duration 20s &
    wait $! || true
    for m in $members; do kill -TERM "${pid[$m]}" 2>/dev/null || true; done
    for m in $members; do wait "${pid[$m]}" 2>/dev/null || true; unset "pid[$m]"; done
    local warm
    warm=$(warm_of "$out/$sys-$w-warm.txt")
    {
      echo "$sys $w fresh: $(series "$out/$sys-$w-fresh.txt" 1 "$seconds")"
      echo "$sys $w kill:  $(series "$out/$sys-$w-kill.txt" 6 $((seconds + 5)))"
      echo "$sys $w warm:  ${warm:-?}"
      summary "$sys $w fresh" "$(series "$out/$sys-$w-fresh.txt" 1 "$seconds")" "${warm:-0}"
      summary "$sys $w after kill" "$(series "$out/$sys-$w-kill.txt" 6 $((seconds + 5)))" "${warm:-0}"
    } | tee -a "$out/summary.txt"
  done
}

{
  echo "firstminute.sh ${label:+($label) }$(date -u +%FT%TZ) commit $(git rev-parse --short HEAD 2>/dev/null || echo ?)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); server JDK ${SERVER_JAVA_HOME:-${JAVA_HOME:-java on PATH}}, opts ${SERVER_JAVA_OPTS:-launcher default}; HOLDFAST_CDS=${HOLDFAST_CDS:-1}"
} | tee "$out/summary.txt"
[[ $only == zookeeper ]] || run_system holdfast
if [[ $only != holdfast ]]; then
  if [[ -r /usr/share/java/zookeeper.jar ]]; then run_system zookeeper
  else say "ZooKeeper skipped: /usr/share/java/zookeeper.jar missing (apt-get install -y zookeeper)"; fi
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/summary.txt"
echo "results: $out" >&2
