#!/usr/bin/env bash
# holdfast-bench/http.sh: the HTTP port (dashboard reads, JSON API, metrics) with many locks held: N (default
# 10,000) locks taken over the JSON API by two HTTP sessions, then wrk (Debian package wrk) on each read the
# dashboard makes, 10 s each, 2 threads, 4 connections. Run from the repository root; the server runs with
# --no-fsync (only the setup writes) on ports 24653-24655. Server JVM options: HOLDFAST_JAVA_OPTS, e.g.
# HOLDFAST_JAVA_OPTS="-XX:+UseSerialGC -Dsun.net.httpserver.nodelay=false" for the comparison in
# docs/benchmarks-e2e.md.
set -euo pipefail
command -v wrk >/dev/null || { echo "http.sh: needs wrk (apt-get install wrk)"; exit 2; }
N=${N:-10000}
DATA=$(mktemp -d)
./holdfast server --data-dir "$DATA" --no-fsync --client-port 24653 --raft-port 24654 --http-port 24655 >"$DATA.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA" "$DATA.log"' EXIT
H=http://127.0.0.1:24655
until curl -sf $H/ready >/dev/null; do sleep 0.5; done
s1=$(curl -s -X POST -H 'Content-Type: application/json' -d '{"clientName":"bench-a@host-a:1","ttlMillis":600000}' $H/api/v1/sessions | sed 's/.*"sessionId":"\([^"]*\)".*/\1/')
s2=$(curl -s -X POST -H 'Content-Type: application/json' -d '{"clientName":"bench-b@host-b:2","ttlMillis":600000}' $H/api/v1/sessions | sed 's/.*"sessionId":"\([^"]*\)".*/\1/')
t0=$SECONDS
seq 1 "$N" | xargs -P 16 -I{} sh -c 'i={}; s='"$s1"'; [ $((i % 2)) -eq 0 ] && s='"$s2"'; curl -s -o /dev/null -X POST -H "Content-Type: application/json" -d "{\"session\":\"$s\",\"name\":\"load/$i\"}" '"$H"'/api/v1/acquire'
echo "acquired $N locks over HTTP in $((SECONDS - t0)) s"
# keep both sessions alive during the measurement
( while true; do for s in $s1 $s2; do curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d '{}' $H/api/v1/sessions/$s/keepalive; done; sleep 2; done ) &
KA=$!
trap 'kill $KA 2>/dev/null; kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA" "$DATA.log"' EXIT
echo "locks held: $(curl -s $H/metrics | grep '^holdfast_holds{' )"
for path in "/api/v1/locks?limit=100" "/api/v1/locks?prefix=load/99&limit=100" "/api/v1/locks?limit=1000" "/api/v1/locks/load/5000" "/api/v1/sessions" "/api/v1/status" "/metrics" "/assets/app.js"; do
  echo "== GET $path ($(curl -s -o /dev/null -w '%{size_download}' "$H$path") bytes)"
  wrk -t2 -c4 -d10s --latency "$H$path" | grep -E "Requests/sec|50%|99%"
done
