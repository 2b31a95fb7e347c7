#!/usr/bin/env bash
# Runs every procedure of docs/operations.md as written, on one machine (ports stand for machines).
# Usage: bash docs/operations-check.sh   (from the root of a clone; ports 4653-8655 and 14653-16655 free)
# Prints each command with its output and exit code, and "RUNBOOK: every step as expected" at the end.
set -u
H=./holdfast
D=/tmp/rb; rm -rf $D; mkdir -p $D
P3=n1=127.0.0.1:4654:4653,n2=127.0.0.1:5654:5653,n3=127.0.0.1:6654:6653
export HOLDFAST_BACKEND=holdfast://127.0.0.1:4653,127.0.0.1:5653,127.0.0.1:6653,127.0.0.1:7653,127.0.0.1:8653
declare -A PID
step() { echo; echo "=== $* ($(date -u +%T))"; }
start() { # id clientport peers datadir [key]
  local key=${5:-$1}
  $H server --id $1 --peers $3 --client-port $2 --http-port $(( $2 + 2 )) --data-dir $4 > $D/$key-$(date +%s%N).log 2>&1 &
  PID[$key]=$!
}
stop() { kill -TERM ${PID[$1]} 2>/dev/null; wait ${PID[$1]} 2>/dev/null; echo "stopped $1 (exit $?)"; }
expect() { # code command...
  local want=$1; shift
  out=$("$@" 2>&1); got=$?
  echo "\$ ${*}"; echo "$out" | sed 's/^/  /'
  if [ "$got" = "$want" ]; then echo "  -> exit $got as expected"; else echo "  -> UNEXPECTED exit $got (wanted $want)"; FAIL=1; fi
}
FAIL=0
until_ok() { for i in $(seq 1 60); do "$@" > /dev/null 2>&1 && return 0; sleep 1; done; echo "  -> TIMED OUT: $*"; FAIL=1; }
token() { $H lock "$1" --wait 10s -- sh -c 'echo $HOLDFAST_FENCING_TOKEN' 2>&1 | tail -1; }

step "Start a cluster of three"
for n in 1 2 3; do start n$n $((n+3))653 $P3 $D/n$n; done
until_ok $H members
expect 0 $H members
echo "token before: $(token rb/x)"

step "Add a member (grow 3 to 5)"
start n4 7653 $P3,n4=127.0.0.1:7654:7653 $D/n4
expect 0 $H members add n4=127.0.0.1:7654:7653
start n5 8653 $P3,n4=127.0.0.1:7654:7653,n5=127.0.0.1:8654:8653 $D/n5
expect 0 $H members add n5=127.0.0.1:8654:8653
expect 75 $H members add n6=127.0.0.1:9654:9653
expect 64 $H members add n4=127.0.0.1:7654:7653
echo "token with five: $(token rb/x)"

step "Remove a member (shrink 5 to 3)"
expect 0 $H members remove n5
stop n5
expect 0 $H members remove n4
stop n4
expect 64 $H members remove n9
expect 0 $H members
step "A removed node started again with its data"
expect 71 timeout 60 $H server --id n4 --peers $P3,n4=127.0.0.1:7654:7653 --client-port 7653 --http-port 7655 --data-dir $D/n4

step "Transfer the leadership"
expect 0 $H members transfer-leader n2
expect 0 $H members transfer-leader

step "Replace a member whose disk was lost"
stop n3; rm -rf $D/n3
echo "empty data directory under the old id:"
expect 71 timeout 60 $H server --id n3 --peers $P3 --client-port 6653 --http-port 6655 --data-dir $D/n3
rm -rf $D/n3
expect 0 $H members remove n3
start n3 6653 $P3 $D/n3
expect 0 $H members add --learner n3=127.0.0.1:6654:6653
sleep 3
expect 0 $H members
expect 0 $H members promote n3
expect 0 $H members
grep -a -h "after promoting n3" $D/*.log | sed 's/^/  log: /'
echo "token after replace: $(token rb/x)"

step "A change of the members that will not stick: an add interrupted by the leader's death"
leader() { $H members 2>/dev/null | head -1 | sed 's/.*leader: //'; }
rm -rf $D/n4
start n4 7653 $P3,n4=127.0.0.1:7654:7653 $D/n4
sleep 8
L=$(leader); echo "leader: $L"
($H members add n4=127.0.0.1:7654:7653 > $D/add-interrupted.out 2>&1; echo "  (exit $?)" >> $D/add-interrupted.out) &
ADD=$!
# kill the leader as soon as n4 has heard from it (it is being staged: sent the log or a snapshot)
for i in $(seq 1 400); do curl -s http://127.0.0.1:7655/status | grep -qE '"leader" ?: ?"n' && break; sleep 0.05; done
kill -KILL ${PID[$L]}; echo "SIGKILLed the leader $L as soon as n4 heard from it ($(curl -s http://127.0.0.1:7655/status | grep -oE '"appliedIndex" ?: ?[0-9-]+'))"
until_ok sh -c "$H members | head -1 | grep -v 'leader: none' | grep -qv 'leader: $L'"
echo "new leader: $(leader)"; T0=$(date +%s)
start $L $(( ${L#n} + 3 ))653 $P3 $D/$L
# the same command again until n4 is a member (it may be already, if the kill came late)
until_ok sh -c "$H members | grep -qE '^n4 ' || $H members add n4=127.0.0.1:7654:7653"
wait $ADD
echo "the first add said:"; sed 's/^/  /' $D/add-interrupted.out
echo "n4 a member $(( $(date +%s) - T0 )) s after the new leader was seen"
expect 0 $H members

step "Back up"
LAST=$(token rb/x); echo "last token of the old cluster: $LAST"
expect 0 $H backup --out $D/b.hfbk

step "Restore into a new cluster"
PR=n1=127.0.0.1:14654:14653,n2=127.0.0.1:15654:15653,n3=127.0.0.1:16654:16653
for n in 1 2 3; do expect 0 $H restore $D/b.hfbk --data-dir $D/r$n; done
expect 71 $H restore $D/b.hfbk --data-dir $D/r1
for n in 1 2 3; do start n$n 1$((n+3))653 $PR $D/r$n r$n; done
RB=holdfast://127.0.0.1:14653,127.0.0.1:15653,127.0.0.1:16653
until_ok $H members --backend $RB
expect 0 $H members --backend $RB
NEW=$(HOLDFAST_BACKEND=$RB token rb/x); echo "first token of the restored cluster: $NEW (old last: $LAST)"
[ "$NEW" -gt "$LAST" ] && echo "  -> above" || { echo "  -> NOT ABOVE"; FAIL=1; }
for n in 1 2 3; do stop r$n; done

step "Upgrade node by node (the same build: a rolling restart)"
for n in 1 2 3; do
  stop n$n
  start n$n $((n+3))653 $P3 $D/n$n
  until_ok sh -c "$H members --json | grep -q '\"id\" : \"n$n\"' && $H members | grep -E '^n$n ' | grep -qv unknown"
  expect 0 $H members
done
grep -a -h "handed its leadership\|reported protocol version" $D/*.log | sed 's/^/  log: /'
echo "token after upgrade: $(token rb/x)"

step "Stop"
for n in 1 2 3 4; do stop n$n; done

step "Backups on a schedule, and a node of another cluster refused (cluster identity)"
expect 64 timeout 60 $H server --id n9 --peers n9=127.0.0.1:19654:19653 --data-dir $D/n9 --backup-every 1h
for n in 1 2; do expect 0 $H restore $D/b.hfbk --data-dir $D/s$n; done
for n in 1 2; do
  $H server --id n$n --peers $P3 --client-port $((n+3))653 --http-port $((n+3))655 --data-dir $D/s$n \
      --backup-every 2s --backup-dir $D/sched --backup-keep 2 > $D/s$n.log 2>&1 &
  PID[s$n]=$!
done
until_ok $H members --backend holdfast://127.0.0.1:4653,127.0.0.1:5653
sleep 8
ls $D/sched | sed 's/^/  /'
[ "$(ls $D/sched | wc -l)" = 2 ] && echo "  -> 2 kept" || { echo "  -> NOT 2 KEPT"; FAIL=1; }
grep -a -h "Scheduled backup" $D/s1.log $D/s2.log | tail -2 | sed 's/^/  log: /'
echo "the old cluster's n3 (its data holds the old id) started with the same --peers:"
expect 71 timeout 60 $H server --id n3 --peers $P3 --client-port 6653 --http-port 6655 --data-dir $D/n3
for n in 1 2; do stop s$n; done
echo; [ $FAIL = 0 ] && echo "RUNBOOK: every step as expected" || echo "RUNBOOK: SOME STEP FAILED"
