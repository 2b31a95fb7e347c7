#!/usr/bin/env bash
# holdfast-bench/e2e.sh: the end-to-end benchmark of the Holdfast server, over gRPC on loopback.
#
#   holdfast-bench/e2e.sh [--duration 20s] [--warmup 5s] [--server-warmup 30s] [--clients 64] [--no-fsync]
#                         [--only single|cluster] [--out FILE]
#
# Run from anywhere; it works in the repository root. In order:
#   1. Builds the CLI once (./holdfast builds holdfast-cli with the modules it needs, tests skipped);
#      every later ./holdfast runs with HOLDFAST_SKIP_BUILD=1.
#   2. Starts a durable single node (`./holdfast server`, fsync on unless --no-fsync) with its data in
#      a temporary directory, client/Raft/HTTP ports 14653/14654/14655, and waits for GET /ready.
#   3. Warms the servers up: --server-warmup of scenario (b), not measured, so that the servers' JIT has
#      compiled the request path before anything is measured (on 2 busy cores the C2 compiler of a fresh
#      server was still busy for a minute; a fresh cluster at 30 pairs/s spent most of its CPU in it).
#      Then runs `./holdfast bench` for the three end-to-end scenarios, one after the other:
#        (a) 1 client on 1 lock, (b) N clients on N locks, (c) N clients on one lock (handoffs)
#      each with --warmup then --duration; then stops the node.
#   4. Starts a 3-node cluster (three processes; ports 14653-14655, 15653-15655, 16653-16655) the
#      same way, waits until every member knows a leader, runs (a)(b)(c) with a backend URI naming
#      all three members, and stops it.
#   5. Prints one summary table (also kept as TSV in --out, default holdfast-bench/target/e2e-results.tsv),
#      the load generator's and the servers' CPU per pair of each scenario (measured by ./holdfast bench
#      --server-pid over the measured window) with the load average when it started (TSV next
#      to it, e2e-results-cpu.tsv: on a shared, noisy machine CPU per pair is steadier than the rate),
#      and the end-to-end goals next to the figures.
# Every process it starts is stopped on exit, Ctrl-C included (trap); the temporary data is removed.
#
# Environment:
#   SERVER_JAVA_OPTS   JVM options of each server (default: -Xmx512m -XX:+UseSerialGC; all share the machine)
#   BENCH_JAVA_OPTS    JVM options of the load generator (default: -Xmx1g -XX:+UseSerialGC)
#   JAVA_HOME          as for ./holdfast
set -euo pipefail

duration=20s
warmup=5s
server_warmup=30s
clients=64
fsync_flag=()
only=
root=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)
out="$root/holdfast-bench/target/e2e-results.tsv"

while (($#)); do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --server-warmup) server_warmup=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --no-fsync) fsync_flag=(--no-fsync); shift ;;
    --only) only=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "e2e.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
done
case $only in ''|single|cluster) ;; *) echo "e2e.sh: --only single or cluster" >&2; exit 64 ;; esac

server_opts=${SERVER_JAVA_OPTS:--Xmx512m -XX:+UseSerialGC}
bench_opts=${BENCH_JAVA_OPTS:--Xmx1g -XX:+UseSerialGC}
cd -- "$root"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/holdfast-e2e.XXXXXX")
pids=()

say() { printf '\n== %s\n' "$*" >&2; }

stop_servers() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}

cleanup() {
  stop_servers
  rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME CLIENT_PORT [server options...]: one ./holdfast server in the background.
start_server() {
  local name=$1 port=$2
  shift 2
  HOLDFAST_SKIP_BUILD=1 HOLDFAST_JAVA_OPTS="$server_opts" \
    ./holdfast server --client-port "$port" --http-port $((port + 2)) --data-dir "$tmp/$name" \
    "${fsync_flag[@]}" "$@" >"$tmp/$name.log" 2>&1 &
  pids+=($!)
}

# ports_free PORT...: stop with a message if anything listens on one of them already: another
# process there would answer /ready and the load for a server of ours that failed to start.
ports_free() {
  local port
  for port in "$@"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "e2e.sh: something already listens on 127.0.0.1:$port; stop it first" >&2
      exit 1
    fi
  done
}

# wait_ready HTTP_PORT...: until each answers 200 on /ready (a leader is known), at most 60 s, while
# every server started is still running.
wait_ready() {
  local port pid
  for port in "$@"; do
    for i in $(seq 600); do
      for pid in "${pids[@]}"; do
        if ! kill -0 "$pid" 2>/dev/null; then
          echo "e2e.sh: a server exited during startup; the logs:" >&2
          tail -n 30 "$tmp"/*.log >&2 || true
          exit 1
        fi
      done
      if curl -sf -o /dev/null "http://127.0.0.1:$port/ready"; then break; fi
      if ((i == 600)); then
        echo "e2e.sh: the server with HTTP port $port is not ready after 60 s; its log:" >&2
        tail -n 30 "$tmp"/*.log >&2 || true
        exit 1
      fi
      sleep 0.1
    done
  done
}

# scenarios SETUP BACKEND: the servers' warm-up, then (a), (b), (c) against BACKEND.
scenarios() {
  local setup=$1 backend=$2 s args
  if [[ $server_warmup != 0s && $server_warmup != 0 ]]; then
    say "$setup: warming the servers up for $server_warmup (scenario b, not measured)"
    HOLDFAST_SKIP_BUILD=1 HOLDFAST_JAVA_OPTS="$bench_opts" \
      ./holdfast bench --backend "$backend" --clients "$clients" --locks "$clients" --duration "$server_warmup" \
      --warmup 0s >/dev/null || echo "e2e.sh: the warm-up run exited $?" >&2
  fi
  for s in a b c; do
    case $s in
      a) args=(--clients 1 --locks 1) ;;
      b) args=(--clients "$clients" --locks "$clients") ;;
      c) args=(--clients "$clients" --locks 1) ;;
    esac
    say "$setup ($s): ${args[*]}"
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    HOLDFAST_SKIP_BUILD=1 HOLDFAST_JAVA_OPTS="$bench_opts" \
      ./holdfast bench --backend "$backend" "${args[@]}" --duration "$duration" --warmup "$warmup" \
      --tsv "$out" --label "$setup ($s)" --server-pid "$(IFS=,; echo "${pids[*]}")" ||
      echo "e2e.sh: ./holdfast bench exited $?" >&2
    cpu_line "$load"
  done
}

# cpu_line LOAD: the last run's CPU per pair (measured by ./holdfast bench over the measured window
# only: the load generator's own, and the servers' it was given with --server-pid) into $cpu_out.
cpu_line() {
  tail -n 1 "$out" | awk -F'\t' -v load="$1" '{ printf "%s\t%s\t%s\t%s\n", $1, $(NF - 1), $NF, load }' >>"$cpu_out"
}

say "building the CLI"
./holdfast --version >/dev/null
mkdir -p -- "$(dirname -- "$out")"
rm -f -- "$out"
cpu_out="${out%.tsv}-cpu.tsv"
printf 'label\tclient_cpu_ms_per_pair\tserver_cpu_ms_per_pair\tload_at_start\n' >"$cpu_out"
mode=fsync
((${#fsync_flag[@]} == 0)) || mode=no-fsync

if [[ $only != cluster ]]; then
  say "single node ($mode), data in $tmp/single"
  ports_free 14653 14654 14655
  start_server single 14653 --raft-port 14654
  wait_ready 14655
  scenarios "single $mode" holdfast://127.0.0.1:14653
  stop_servers
fi

if [[ $only != single ]]; then
  peers=n1=127.0.0.1:14654,n2=127.0.0.1:15654,n3=127.0.0.1:16654
  say "3-node cluster ($mode), data in $tmp/n1..n3"
  ports_free 14653 14654 14655 15653 15654 15655 16653 16654 16655
  start_server n1 14653 --id n1 --peers "$peers"
  start_server n2 15653 --id n2 --peers "$peers"
  start_server n3 16653 --id n3 --peers "$peers"
  wait_ready 14655 15655 16655
  scenarios "cluster $mode" holdfast://127.0.0.1:14653,127.0.0.1:15653,127.0.0.1:16653
  stop_servers
fi

say "summary ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), duration $duration after $warmup warmup, servers warmed $server_warmup; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
cut -f1,5-12,15 "$out" | column -t -s $'\t'
printf '\nCPU per pair in the measured window (load generator; all server processes; user + system):\n' >&2
column -t -s $'\t' "$cpu_out"
cat >&2 <<EOF

End-to-end goals, single durable node: (a) >= 3,000 pairs/s; (b) >= 20,000 pairs/s with p99 < 10 ms;
(c) >= 5,000 handoffs/s; a 3-node cluster within 60% of that (>= 1,800 / 12,000 / 3,000).
TSV: $out
EOF
