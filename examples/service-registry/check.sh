#!/usr/bin/env bash
# examples/service-registry/check.sh: the service registry in four languages against a real server.
#
#   examples/service-registry/check.sh          (from anywhere; about 90 s on a busy 2-core machine)
#
# Starts one `holdfast server` node (a temporary data directory, ports chosen free on loopback),
# then per language (Python, Node, Go, Java) one watcher of the group `services/check` and one
# instance registered under a session of HOLDFAST_TTL_MS (default 3000). Once every watcher has
# seen every instance join, it SIGKILLs the four instances and checks that every watcher prints
# `leave INSTANCE sessionExpired` for each of them within the TTL of the kill, plus
# REGISTRY_CHECK_SLACK_MS (default 500) for the watch's answer to reach the watcher and its line
# to be stamped on a busy machine: the cluster ends a session at most a TTL after its last
# heartbeat, which came before the kill. Prints each watcher's delays; exit 0 when all are within
# it, 1 when one is not, 2 when something could not start (its log's tail says why). Every process
# it starts is killed on exit.
#
# Needs: a JDK 17+, python3, node 20+ with npm (the Node client is built with `npm ci` and
# `npm run build` when clients/node/dist is missing), go.
#
# Environment: REGISTRY_CHECK_LANGS (default "python node go java") picks the languages;
# REGISTRY_CHECK_MEMBERS (HTTP addresses) and REGISTRY_CHECK_URI (holdfast://, for Java) use a
# cluster that is already running instead of starting a node.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ttl=${HOLDFAST_TTL_MS:-3000}
slack=${REGISTRY_CHECK_SLACK_MS:-500}
work=$(mktemp -d "${TMPDIR:-/tmp}/holdfast-registry.XXXXXX")
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() { # CODE MESSAGE
  echo "check.sh: $2" >&2
  exit "$1"
}

now_ms() { date +%s%3N; }

# --- build ----------------------------------------------------------------------------------------
"$root/holdfast" --version >/dev/null || fail 2 "the CLI does not build"
if [[ ! -f "$root/clients/node/dist/index.js" ]]; then
  (cd "$root/clients/node" && npm ci --no-audit --no-fund >/dev/null && npm run build >/dev/null) ||
    fail 2 "the Node client does not build"
fi
(cd "$root/clients/go" && go build -o "$work/go-registry" ./examples/service-registry) ||
  fail 2 "the Go example does not build"

# --- one server node ------------------------------------------------------------------------------
start_node() {
  read -r client_port raft_port http_port < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
  HOLDFAST_SKIP_BUILD=1 "$root/holdfast" server --id n1 --bind 127.0.0.1 --data-dir "$work/data" \
    --client-port "$client_port" --raft-port "$raft_port" --http-port "$http_port" --no-fsync \
    >"$work/server.log" 2>&1 &
  pids+=($!)
  export HOLDFAST_MEMBERS="http://127.0.0.1:$http_port" HOLDFAST_URI="holdfast://127.0.0.1:$client_port"
  for _ in $(seq 1 300); do
    curl -sf "$HOLDFAST_MEMBERS/ready" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf "$HOLDFAST_MEMBERS/ready" >/dev/null || { tail -5 "$work/server.log" >&2; fail 2 "the server is not ready"; }
}
if [[ -n ${REGISTRY_CHECK_MEMBERS:-} ]]; then
  export HOLDFAST_MEMBERS=$REGISTRY_CHECK_MEMBERS HOLDFAST_URI=${REGISTRY_CHECK_URI:-holdfast://127.0.0.1:4653}
else
  start_node
fi

# --- the programs ---------------------------------------------------------------------------------
read -r -a langs <<<"${REGISTRY_CHECK_LANGS:-python node go java}"
command_of() { # LANG ARGS...: the example's command line
  local lang=$1
  shift
  case $lang in
    python) echo python3 "$root/clients/python/examples/service_registry.py" "$@" ;;
    node) echo node "$root/clients/node/examples/service-registry.js" "$@" ;;
    go) echo "$work/go-registry" "$@" ;;
    java) echo java -XX:+UseSerialGC -cp "$root/holdfast-cli/target/holdfast.jar" \
      "$root/examples/service-registry/ServiceRegistry.java" "$@" ;;
  esac
}

start() { # NAME TTL ARGS...: runs the example (its pid in NAME.pid), each line it prints stamped with the time (ms)
  local name=$1 ttl_ms=$2
  shift 2
  # shellcheck disable=SC2046
  (echo "$BASHPID" >"$work/$name.pid"; exec env HOLDFAST_TTL_MS="$ttl_ms" $(command_of "$@") 2>"$work/$name.err") |
    while IFS= read -r line; do echo "$(now_ms) $line"; done >"$work/$name.out" &
  pids+=($!)
  disown $! # no "Killed" notice from the shell when it goes
  until [[ -s "$work/$name.pid" ]]; do sleep 0.01; done
  pids+=("$(cat "$work/$name.pid")")
}

await_line() { # NAME PATTERN SECONDS: until NAME's output has a line matching PATTERN; fails at the deadline or once NAME has exited
  local deadline=$(($(now_ms) + $3 * 1000)) pid
  pid=$(cat "$work/$1.pid")
  until grep -qE "$2" "$work/$1.out" 2>/dev/null; do
    (($(now_ms) < deadline)) && kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
}

for lang in "${langs[@]}"; do start "watch-$lang" 10000 "$lang" check; done
for lang in "${langs[@]}"; do
  await_line "watch-$lang" ' ready$' 60 || { tail -5 "$work/watch-$lang.err" >&2; fail 2 "the $lang watcher did not start"; }
done
for lang in "${langs[@]}"; do start "instance-$lang" "$ttl" "$lang" check "$lang-1" "127.0.0.1:${#lang}000"; done
for w in "${langs[@]}"; do
  for i in "${langs[@]}"; do
    await_line "watch-$w" " join $i-1 " 60 ||
      { tail -5 "$work/instance-$i.err" "$work/watch-$w.err" >&2; fail 2 "the $w watcher did not see $i-1 join"; }
  done
done

# --- kill the instances, time the leaves ----------------------------------------------------------
instance_pids=()
for lang in "${langs[@]}"; do instance_pids+=("$(cat "$work/instance-$lang.pid")"); done
killed=$(now_ms)
kill -9 "${instance_pids[@]}"
status=0
printf '%-8s %s (ms from the SIGKILL; the TTL is %d ms, the slack %d ms)\n' watcher "${langs[*]}" "$ttl" "$slack"
for w in "${langs[@]}"; do
  row=""
  for i in "${langs[@]}"; do
    if await_line "watch-$w" " leave $i-1 sessionExpired$" $((ttl / 1000 + 5)); then
      at=$(grep -E " leave $i-1 sessionExpired$" "$work/watch-$w.out" | head -1 | cut -d' ' -f1)
      delay=$((at - killed))
      row+=" $delay"
      ((delay <= ttl + slack)) || status=1
    else
      row+=" never"
      status=1
    fi
  done
  printf '%-8s%s\n' "$w" "$row"
done
((status == 0)) && echo "every watcher saw every instance leave within the session's TTL (and the slack)" ||
  echo "check.sh: an instance's leave came late or never (see above)" >&2
exit $status
