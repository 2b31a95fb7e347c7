#!/usr/bin/env bash
# holdfast-bench/providers.sh: every backend measured with the same three cases, in one run, so that
# the figures compare (the machine is small and shared: only figures of the same run compare).
#
#   holdfast-bench/providers.sh [--duration 10s] [--warmup 3s] [--only "holdfast file redis ..."]
#
# For each backend it starts the store on loopback from Debian's packages (redis-server, postgresql,
# zookeeper, etcd-server: install them first, e.g. `apt-get install -y redis-server postgresql
# zookeeper etcd-server`), with its data in a temporary directory, runs `./holdfast bench` for
#   (a) 1 client on 1 lock, (b) 64 clients on 64 locks, (c) 64 clients on one lock (handoffs),
# stops the store, and prints one table (TSV in holdfast-bench/target/providers-results.tsv).
# Durability as each store ships, stated in the table: the Holdfast node, PostgreSQL, ZooKeeper,
# etcd and the file provider flush to disk before they answer; Redis runs without persistence (as
# it is usually run for locks, and as it was run for the Redisson figures that the end-to-end goals
# were set against).
# A backend whose store is not installed is reported as skipped, not measured.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

duration=10s
warmup=3s
only="holdfast file jdbc-postgresql redis zookeeper etcd"
while (($#)); do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "usage: $0 [--duration 10s] [--warmup 3s] [--only \"holdfast file jdbc-postgresql redis zookeeper etcd\"]" >&2; exit 64 ;;
  esac
done

./holdfast --version >/dev/null # builds the CLI once
export HOLDFAST_SKIP_BUILD=1
work=$(mktemp -d "${TMPDIR:-/tmp}/holdfast-providers.XXXXXX")
mkdir -p holdfast-bench/target
out=holdfast-bench/target/providers-results.tsv
printf 'backend\tdurability\tcase\trate\tunit\tp50_ms\tp99_ms\terrors\tload\n' >"$out"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [[ -n ${pg_started:-} ]]; then pg_ctlcluster --skip-systemctl-redirect 15 main stop >/dev/null 2>&1 || true; fi
  rm -rf -- "$work"
}
trap cleanup EXIT

wait_port() { # host port seconds
  for ((i = 0; i < $3 * 10; i++)); do
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on $1:$2 after $3 s" >&2
  return 1
}

bench() { # backend-label durability uri
  local label=$1 durable=$2 uri=$3 case clients locks unit res
  for case in a b c; do
    case $case in
      a) clients=1 locks=1 unit=pairs/s ;;
      b) clients=64 locks=64 unit=pairs/s ;;
      c) clients=64 locks=1 unit=handoffs/s ;;
    esac
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    res=$(./holdfast bench --backend "$uri" --clients $clients --locks $locks --duration "$duration" --warmup "$warmup" 2>&1) || {
      echo "$res" | tail -5 >&2
      printf '%s\t%s\t(%s)\tFAILED\t\t\t\t\t%s\n' "$label" "$durable" "$case" "$load" >>"$out"
      continue
    }
    local rate p50 p99 errors
    rate=$(echo "$res" | awk '/throughput/ {gsub(",", "", $2); print $2}')
    p50=$(echo "$res" | awk '$1 == "pair" {print $2}')
    p99=$(echo "$res" | awk '$1 == "pair" {print $4}')
    errors=$(echo "$res" | awk '/errors/ {print $2}')
    printf '%s\t%s\t(%s)\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$durable" "$case" "$rate" "$unit" "$p50" "$p99" "$errors" "$load" >>"$out"
    echo "  $label ($case): $rate $unit, p50 $p50 ms, p99 $p99 ms, errors $errors, load $load"
  done
}

have() { command -v "$1" >/dev/null 2>&1 || [[ -e $1 ]]; }

for b in $only; do
  echo "== $b"
  case $b in
    holdfast)
      HOLDFAST_JAVA_OPTS="-Xmx512m -XX:+UseSerialGC" ./holdfast server --client-port 17653 --raft-port 17654 --http-port 17655 --data-dir "$work/holdfast" >"$work/holdfast.log" 2>&1 &
      pids+=($!)
      wait_port 127.0.0.1 17653 60
      # the server's JIT warms up first, unmeasured (see docs/benchmarks-e2e.md)
      ./holdfast bench --backend holdfast://127.0.0.1:17653 --clients 64 --locks 64 --duration 20s --warmup 1s >/dev/null 2>&1 || true
      bench holdfast "fsync" holdfast://127.0.0.1:17653
      kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
      ;;
    file)
      bench file "fdatasync per grant" "file://$work/file"
      ;;
    jdbc-postgresql)
      if ! have pg_ctlcluster; then echo "  skipped: postgresql not installed"; continue; fi
      pg_ctlcluster --skip-systemctl-redirect 15 main start && pg_started=1
      wait_port 127.0.0.1 5432 30
      su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'holdfast'\"" >/dev/null
      bench jdbc-postgresql "fsync (PostgreSQL 15 defaults)" "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres&password=holdfast"
      pg_ctlcluster --skip-systemctl-redirect 15 main stop && pg_started=
      ;;
    redis)
      if ! have redis-server; then echo "  skipped: redis-server not installed"; continue; fi
      redis-server --port 16379 --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
      pids+=($!)
      wait_port 127.0.0.1 16379 20
      bench redis "none (no AOF, no RDB)" redis://127.0.0.1:16379
      kill "${pids[-1]}"
      ;;
    zookeeper)
      if ! have /usr/share/java/zookeeper.jar; then echo "  skipped: zookeeper not installed"; continue; fi
      mkdir -p "$work/zk/data"
      printf 'tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=12181\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\nminSessionTimeout=1000\nmaxSessionTimeout=600000\nmaxClientCnxns=0\n' "$work/zk/data" >"$work/zk/zoo.cfg"
      java -Xmx512m -cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar org.apache.zookeeper.server.quorum.QuorumPeerMain "$work/zk/zoo.cfg" >"$work/zk.log" 2>&1 &
      pids+=($!)
      wait_port 127.0.0.1 12181 30
      bench zookeeper "fsync (ZooKeeper default)" zookeeper://127.0.0.1:12181/holdfast
      kill "${pids[-1]}"
      ;;
    etcd)
      if ! have etcd; then echo "  skipped: etcd not installed"; continue; fi
      etcd --data-dir "$work/etcd" --listen-client-urls http://127.0.0.1:12379 --advertise-client-urls http://127.0.0.1:12379 \
        --listen-peer-urls http://127.0.0.1:12380 --initial-advertise-peer-urls http://127.0.0.1:12380 \
        --initial-cluster default=http://127.0.0.1:12380 >"$work/etcd.log" 2>&1 &
      pids+=($!)
      wait_port 127.0.0.1 12379 30
      bench etcd "fsync (etcd default)" etcd://127.0.0.1:12379
      kill "${pids[-1]}"
      ;;
    *) echo "unknown backend $b" >&2; exit 64 ;;
  esac
done

echo
echo "== all backends, same run ($(nproc) cores, $(date -u +%FT%TZ)); TSV: $out"
column -t -s $'\t' "$out"
