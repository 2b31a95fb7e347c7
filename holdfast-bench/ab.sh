#!/usr/bin/env bash
# holdfast-bench/ab.sh: compares builds (or JVM options) of the server and client side by side, in the
# same run, which is the only fair comparison on a small, noisy machine.
#
#   holdfast-bench/ab.sh ROUNDS CLIENT_JAR 'LABEL=SERVER_JAR[@CLIENT_JAR][|client JVM opts][|server JVM opts]'...
#
# Each round runs every variant in turn: a fresh durable single node (CLUSTER=1: a 3-node cluster of
# three processes) on loopback ports 24653-24655 (cluster: 34653-36655), 20 s of scenario (b) to warm it
# up, then scenarios (a) 1 client/1 lock, (b) 64 clients/64 locks, (c) 64 clients/1 lock, each for $DUR
# (default 10s) after 3 s of warmup. One line per scenario: pairs/s, p50 and p99 of a pair in ms, the
# servers' and the load generator's CPU (user + system) in ms per pair over the measured window (./holdfast
# bench --server-pid), and the load average.
#
# Example (a build saved before a change against the current one):
#   cp holdfast-cli/target/holdfast.jar /tmp/before.jar    # ... change, rebuild ...
#   holdfast-bench/ab.sh 2 /tmp/before.jar before=/tmp/before.jar after=holdfast-cli/target/holdfast.jar@holdfast-cli/target/holdfast.jar
# Environment: SOPTS / COPTS (server / load generator JVM options), BARGS (more `bench` arguments, e.g.
# --share-client: every thread on one client, as bench-peers' shared-session row), DUR, SCEN ("1 1 a;64 64 b"), CLUSTER,
# CALLS (a cluster's clients' calls= parameter: leader, first (n1) or home, the default: a random member; or
# follower: the client is given one member that does not lead, which becomes its home).
# The load generator runs on CLIENT_JAR with holdfast-bench/target/cli-commands.jar after it (`bench` is not in
# holdfast.jar itself: ./holdfast builds that jar); a client jar built before the two were apart has its own.
set -u
rounds=$1; cj=$2; shift 2
lab=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/target/cli-commands.jar
[[ -f $lab ]] || echo "ab.sh: no $lab (./holdfast --help builds it); only a client jar with its own bench will run" >&2
COPTS=${COPTS:--Xmx1g -XX:+UseSerialGC}
DUR=${DUR:-10s}
SCEN=${SCEN:-"1 1 a;64 64 b;64 1 c"}
for r in $(seq 1 $rounds); do
 for v in "$@"; do
  IFS='|' read -r lj xc xs <<<"$v"; label=${lj%%=*}; jar=${lj#*=}; cjv=$cj; [[ $jar == *@* ]] && { cjv=${jar#*@}; jar=${jar%@*}; }
  d=$(mktemp -d /tmp/ab.XXXX)
  if [[ ${CLUSTER:-0} == 1 ]]; then
    peers=n1=127.0.0.1:34654,n2=127.0.0.1:35654,n3=127.0.0.1:36654; pids=
    for i in 1 2 3; do b=$((33+i))
      java ${SOPTS:--Xmx512m -XX:+UseSerialGC} $xs -jar $jar server --id n$i --peers $peers --client-port ${b}653 --raft-port ${b}654 --http-port ${b}655 --data-dir $d/n$i > $d/n$i.log 2>&1 &
      pids="$pids $!"; done
    be=holdfast://127.0.0.1:34653,127.0.0.1:35653,127.0.0.1:36653${CALLS:+?calls=$CALLS}
    for i in $(seq 1 150); do curl -s localhost:34655/status | grep -q '"leader":"' && break; sleep 0.2; done
    if [[ ${CALLS:-} == follower ]]; then # the client names one member that does not lead, its home
      ldr=$(curl -s localhost:34655/status | grep -o '"leader":"n[0-9]"' | grep -o 'n[0-9]')
      for i in 1 2 3; do [[ n$i != "$ldr" ]] && { be=holdfast://127.0.0.1:$((33+i))653; break; }; done
    fi
  else
    java ${SOPTS:--Xmx512m -XX:+UseSerialGC} $xs -jar $jar server --data-dir $d/data --client-port 24653 --raft-port 24654 --http-port 24655 > $d/server.log 2>&1 &
    pids=$!; be=holdfast://127.0.0.1:24653
    for i in $(seq 1 100); do curl -sf localhost:24655/ready >/dev/null && break; sleep 0.2; done
  fi
  java $COPTS $xc -cp "$cjv:$lab" io.holdfast.cli.Main bench --backend $be --clients 64 --locks 64 ${BARGS:-} --duration 20s --warmup 1s >/dev/null 2>&1
  IFS=';' read -ra scs <<<"$SCEN"
  for sc in "${scs[@]}"; do
    read -r nc nl tag <<<"$sc"
    out=$(java $COPTS $xc -cp "$cjv:$lab" io.holdfast.cli.Main bench --backend $be --clients $nc --locks $nl ${BARGS:-} --duration $DUR --warmup 3s --plot none \
      --server-pid "$(echo $pids | tr ' ' ',')" 2>&1)
    cpu=$(echo "$out" | awk '/cpu per pair/{print "server_ms/pair " $8 "\tclient_ms/pair " $5}')
    echo -e "round $r\t$label\t($tag)\t$(echo "$out" | awk '/throughput/{print $2}')/s\tp50 $(echo "$out" | awk '/^  pair /{print $2}')\tp99 $(echo "$out" | awk '/^  pair /{print $4}')\t$cpu\tload $(cut -d' ' -f1 /proc/loadavg)"
  done
  kill $pids; wait $pids 2>/dev/null; rm -rf $d
 done
done
