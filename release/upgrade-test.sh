#!/usr/bin/env bash
# release/upgrade-test.sh: an upgrade node by node between two releases, run for real (issue 71, item 5;
# docs/operations.md, "Upgrades node by node: the cluster version").
#
#   release/upgrade-test.sh [--from N.tar.gz] [--to N+1.tar.gz] [--keep] [-- MAVEN_ARGS...]
#
# Release N is this tree (its tracked and untracked files, as release/stage.sh copies them); release
# N+1 is a copy of it with the next minor version in its POMs and one new protocol command: the
# patch release/upgrade/n-plus-one.patch, applied to the copy only, which logs an operator's end of a
# session (`holdfast sessions end`) as a new command type 27 of protocol version 11, so that the cluster
# version gates it. Each is built into its server tarball (./mvnw -pl holdfast-dist -am package, tests
# skipped; MAVEN_ARGS are added, e.g. -o -Dmaven.repo.local=...); --from and --to take tarballs built
# before instead (--to must then carry the patch).
#
# Then, in a private network namespace (unshare -n: root needed; loopback only):
#   1. three nodes of N (n1, n2, n3 on 127.0.0.1, client ports 4653/5653/6653, Raft 4654/5654/6654,
#      HTTP 4655/5655/6655) form a cluster; each reports N's protocol version;
#   2. a load (release/upgrade/Load.java on N's client): a holder keeps upgrade/long through the whole
#      run while a waiter waits for it, four workers take turns on upgrade/w0 and upgrade/w1, and a
#      victim holds upgrade/victim;
#   3. each member in turn, n1 then n2 then n3, as docs/operations.md says: SIGTERM (a leader hands
#      over first), the N+1 build started with the same --id, --data-dir and --peers, and wait until
#      the leader shows it with the new version; the load must have been granted locks since. While
#      one member still speaks N, with the leadership moved to n1 (N+1), `holdfast sessions end` of the
#      victim's session must be refused ("needs protocol version" of N+1, naming the members holding the
#      cluster back), the victim keeping its lock;
#   4. once every member reports N+1, the cluster version moves up and the same command is served
#      (the victim's lock taken back); the load then stops and must report no lost grant, no two
#      holders at once, tokens rising on every name, and the waiter served after the holder with a
#      higher token; no node stopped on an entry it could not read.
# Prints one line per step with its time, then PASSED or FAILED with the cause; exits 0 or 1. The
# work directory (trees, logs) is removed when the run passes, kept when it fails (or with --keep).
# Needs: a JDK 17+ (java runs Load.java as a source file), curl, jq, unshare, patch, and what the build needs.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
from=
to=
keep=
inner=
maven_args=()
while (($#)); do
  case $1 in
    --from) from=$(readlink -f -- "$2"); shift 2 ;;
    --to) to=$(readlink -f -- "$2"); shift 2 ;;
    --keep) keep=1; shift ;;
    --in-namespace) inner=$2; shift 2 ;;
    --) shift; maven_args=("$@"); break ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "release/upgrade-test.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

started=$SECONDS
say() { printf 'upgrade-test: [%4ss] %s\n' "$((SECONDS - started))" "$*"; }
fail() {
  say "FAILED: $*" >&2
  exit 1
}

# ---------------------------------------------------------------- inside the network namespace
if [[ -n $inner ]]; then
  work=$inner
  N=$(echo "$work"/n/holdfast-*/)
  N1=$(echo "$work"/n1/holdfast-*/)
  peers=n1=127.0.0.1:4654:4653,n2=127.0.0.1:5654:5653,n3=127.0.0.1:6654:6653
  backend=holdfast://127.0.0.1:4653,127.0.0.1:5653,127.0.0.1:6653
  declare -A pid
  load_pid=
  cleanup_inner() {
    local p
    [[ -z $load_pid ]] || kill -KILL "$load_pid" 2>/dev/null || true
    for p in "${pid[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
  }
  trap cleanup_inner EXIT
  export HOLDFAST_JAVA_OPTS='-XX:+UseSerialGC -Xmx256m'

  http() { echo $((${1#n} + 3))655; } # n1 -> 4655, n2 -> 5655, n3 -> 6655
  start() { # start ID HOME: a node of the build in HOME, logs appended to $work/ID.log
    echo "=== $(date -u +%T) start $1 from ${2%/}" >>"$work/$1.log"
    "$2/bin/holdfast" server --id "$1" --peers "$peers" --data-dir "$work/data/$1" \
      --client-port "$((${1#n} + 3))653" --http-port "$(http "$1")" >>"$work/$1.log" 2>&1 &
    pid[$1]=$!
  }
  # status: /api/v1/status of the first member that answers (a follower's includes the members).
  status() {
    local id out
    for id in n1 n2 n3; do
      out=$(curl -sf --max-time 3 "http://127.0.0.1:$(http $id)/api/v1/status" 2>/dev/null) &&
        [[ $(jq -r '.leader // empty' <<<"$out") =~ ^n ]] && { echo "$out"; return 0; }
    done
    return 1
  }
  # until SECONDS WHAT COMMAND...: runs COMMAND every second until it succeeds, or fails the run.
  until_ok() {
    local within=$1 what=$2 deadline=$((SECONDS + $1)) m
    shift 2
    until "$@"; do
      ((SECONDS < deadline)) || fail "$what: not within $within s"
      for m in n1 n2 n3; do
        [[ -z ${pid[$m]:-} ]] || kill -0 "${pid[$m]}" 2>/dev/null ||
          { tail -n 5 "$work/$m.log" >&2; fail "$m exited while waiting for: $what"; }
      done
      sleep 1
    done
  }
  # versions_are "n1=8 n2=8 n3=8": the members and the versions they reported, as a member sees them.
  versions_are() {
    local s
    s=$(status) || return 1
    [[ $(jq -r '[.members[] | "\(.id)=\(.version)"] | sort | join(" ")' <<<"$s") == "$1" ]]
  }
  # reports_above ID V: the member ID has reported a version above V.
  reports_above() {
    local s
    s=$(status) && jq -e --arg id "$1" --argjson v "$2" 'any(.members[]; .id == $id and (.version // 0) > $v)' <<<"$s" >/dev/null
  }
  cluster_version_is() { local s; s=$(status) && [[ $(jq -r .clusterVersion <<<"$s") == "$1" ]]; }
  leader_is() { local s; s=$(status) && [[ $(jq -r .leader <<<"$s") == "$1" ]]; }
  grants() { sed -n 's/^grants=\([0-9]*\) .*/\1/p' "$work/load/progress" 2>/dev/null || echo 0; }
  grants_above() { (($(grants) > $1)); }
  load_ok() {
    kill -0 "$load_pid" 2>/dev/null || { cat "$work/load.log" >&2; fail "the load stopped early"; }
    if grep -Eq 'lost=[1-9]|overlaps=[1-9]|falling=[1-9]' "$work/load/progress" 2>/dev/null; then
      fail "the load saw a problem: $(cat "$work/load/progress"); $(grep '^load:' "$work/load.log" | tail -n 3)"
    fi
  }
  # cli BUILD ARGS...: the CLI of that build against the cluster.
  cli() { local home=$1; shift; "$home/bin/holdfast" "$@"; }

  for id in n1 n2 n3; do start "$id" "$N"; done
  until_ok 300 "a leader, and every member's report" eval 'status >/dev/null && [[ $(status | jq "[.members[] | select(.version > 0)] | length") == 3 ]]'
  vN=$(status | jq -r '.members[0].version')
  versions_are "n1=$vN n2=$vN n3=$vN" || fail "the members of N do not all speak one version: $(status | jq -c '[.members[] | {id, version}]')"
  until_ok 60 "cluster version $vN recorded" cluster_version_is "$vN"
  say "cluster of N formed: leader $(status | jq -r .leader), every member and the cluster at protocol version $vN"
  token_before=$(status | jq -r .lastToken)

  mkdir -p "$work/load"
  java -XX:+UseSerialGC -Xmx256m -cp "$N/lib/holdfast.jar" "$root/release/upgrade/Load.java" "$backend" "$work/load" >"$work/load.log" 2>&1 &
  load_pid=$!
  until_ok 180 "the load's first grants" grants_above 10
  load_ok
  victim=$(curl -sf "http://127.0.0.1:$(http "$(status | jq -r .leader)")/api/v1/sessions?limit=100" |
    jq -r '.sessions[] | select(.clientName == "upgrade-victim") | .id')
  [[ -n $victim ]] || fail "no session of the load's victim in /api/v1/sessions"
  say "load running: $(cat "$work/load/progress"); victim session $victim"

  for id in n1 n2 n3; do
    before=$(grants)
    kill -TERM "${pid[$id]}"
    rc=0
    wait "${pid[$id]}" || rc=$?
    [[ $rc == 0 || $rc == 143 ]] || { tail -n 5 "$work/$id.log" >&2; fail "$id (N) exited $rc after SIGTERM"; }
    unset "pid[$id]"
    start "$id" "$N1"
    until_ok 300 "$id back as N+1, reporting a newer version than $vN" reports_above "$id" "$vN"
    vN1=$(status | jq -r ".members[] | select(.id == \"$id\") | .version")
    until_ok 120 "grants after $id's restart" grants_above "$before"
    load_ok
    say "$id: N -> N+1 (protocol version $vN1); members $(status | jq -r '[.members[] | "\(.id)=\(.version)"] | join(" ")'), cluster version $(status | jq -r .clusterVersion); load: $(cat "$work/load/progress")"
    if [[ $id != n3 ]]; then
      # The leader gates new commands: make it an N+1 member, which knows the new one.
      until_ok 120 "n1 leading" eval 'leader_is n1 || { cli "$N1" members transfer-leader n1 --backend "$backend" >>"$work/cli.log" 2>&1; leader_is n1; }'
      cluster_version_is "$vN" || fail "the cluster version is $(status | jq -r .clusterVersion) while a member still speaks $vN"
      rc=0
      out=$(cli "$N1" sessions end "$victim" --backend "$backend" 2>&1) || rc=$?
      echo "$out" >>"$work/cli.log"
      ((rc != 0)) || fail "sessions end was served while a member speaks $vN: $out"
      grep -q "needs protocol version $vN1" <<<"$out" || fail "sessions end refused, but not for the version (exit $rc): $out"
      say "refused while a member speaks $vN (exit $rc): $out"
    fi
  done

  until_ok 60 "cluster version $vN1" cluster_version_is "$vN1"
  say "every member reports $vN1: the cluster version is $(status | jq -r .clusterVersion)"
  until_ok 120 "n1 leading" eval 'leader_is n1 || { cli "$N1" members transfer-leader n1 --backend "$backend" >>"$work/cli.log" 2>&1; leader_is n1; }'
  out=$(cli "$N1" sessions end "$victim" --backend "$backend" 2>&1) || fail "sessions end refused once every member speaks $vN1: $out"
  echo "$out" >>"$work/cli.log"
  grep -q "^Ended session $victim" <<<"$out" || fail "sessions end answered, but not as served: $out"
  say "served: $out"
  until_ok 60 "the victim told of its loss" grep -q 'upgrade/victim lost' "$work/load.log"

  before=$(grants)
  until_ok 60 "grants after the upgrade" grants_above $((before + 5))
  load_ok
  touch "$work/load/stop"
  rc=0
  wait "$load_pid" || rc=$?
  load_pid=
  result=$(head -n 1 "$work/load/result" 2>/dev/null || true)
  ((rc == 0)) || { cat "$work/load/result" >&2 || true; fail "the load failed (exit $rc): $result"; }
  token_after=$(status | jq -r .lastToken)
  ((token_after > token_before)) || fail "the last token $token_after does not exceed $token_before, the one before the roll"
  say "load: $result"
  grep -h 'cannot read' "$work"/n?.log && fail "a node stopped on an entry it could not read"
  for id in n1 n2 n3; do
    kill -0 "${pid[$id]}" 2>/dev/null || fail "$id is not running at the end"
  done
  say "fencing tokens rose from $token_before (before the roll) to $token_after; no node stopped"
  exit 0
fi

# ---------------------------------------------------------------- outside: builds, then the namespace
for tool in java curl jq unshare patch; do
  command -v "$tool" >/dev/null || fail "$tool is not on PATH"
done
unshare -n true 2>/dev/null || fail "no private network namespace here (unshare -n needs root)"
work=$(mktemp -d "${TMPDIR:-/tmp}/holdfast-upgrade.XXXXXX")
finish() {
  local status=$?
  if ((status == 0)) && [[ -z $keep ]]; then
    rm -rf -- "$work"
  else
    echo "release/upgrade-test.sh: its files are kept in $work (node logs n1.log..n3.log, load.log, cli.log)" >&2
  fi
}
trap finish EXIT

snapshot=$(sed -n 's|^  <version>\(.*\)</version>$|\1|p' "$root/pom.xml" | head -n 1)
release=${snapshot%-SNAPSHOT}
IFS=. read -r major minor _ <<<"$release"
next="$major.$((minor + 1)).0-SNAPSHOT"

# build NAME VERSION [PATCH]: a copy of the tree at VERSION (PATCH applied), built into its tarball.
build() {
  local name=$1 version=$2 patch_file=${3:-} src=$work/src-$1 t0=$SECONDS
  mkdir -p "$src"
  (cd "$root" && git ls-files -z --cached --others --exclude-standard |
    tar --null --files-from=- --ignore-failed-read -cf - | tar -C "$src" -xf -)
  if [[ $version != "$snapshot" ]]; then
    find "$src" -name pom.xml -not -path '*/node_modules/*' -print0 |
      xargs -0 sed -i "s|<version>$snapshot</version>|<version>$version</version>|"
  fi
  [[ -z $patch_file ]] || (cd "$src" && patch -s -p1 <"$patch_file") || fail "$patch_file does not apply to the tree"
  (cd "$src" && ./mvnw -B -q -pl holdfast-dist -am package -Dmaven.test.skip=true -Dspotless.check.skip=true \
    -Dmaven.install.skip=true "${maven_args[@]}") >"$work/build-$name.log" 2>&1 ||
    { tail -n 30 "$work/build-$name.log" >&2; fail "the build of $name failed (log: $work/build-$name.log)"; }
  built=$src/holdfast-dist/target/holdfast-$version.tar.gz
  say "built $name ($version) in $((SECONDS - t0)) s"
}
if [[ -z $from ]]; then
  build n "$snapshot"
  from=$built
fi
if [[ -z $to ]]; then
  build n1 "$next" "$root/release/upgrade/n-plus-one.patch"
  to=$built
fi
mkdir -p "$work/n" "$work/n1"
tar -xzf "$from" -C "$work/n"
tar -xzf "$to" -C "$work/n1"
say "N: $(basename "$from"), N+1: $(basename "$to")"
unshare -n -- bash -c 'ip link set lo up && exec "$@"' upgrade "${BASH_SOURCE[0]}" --in-namespace "$work"
say "PASSED: N -> N+1 node by node under load; the new command refused until every member spoke N+1, then served"
