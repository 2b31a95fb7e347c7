#!/usr/bin/env bash
# The consensus engines side by side (io.holdfast.floors.Floors; docs/adr/0001-consensus-engine.md):
#   holdfast-floors/floors.sh [--engines a,b] [--nodes 1,3] [--rounds 2] [--cold 10s] [--prime 60s] [--duration 10s]
#   holdfast-floors/floors.sh --disk [--as-ratis]         # write + fdatasync alone
# Each engine runs in a child JVM with its own module's class path (holdfast-floors, holdfast-floors-sofajraft,
# holdfast-floors-jgroups). Builds them when a class path is missing. Nothing else should run on the machine.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
modules=(holdfast-floors holdfast-floors-sofajraft holdfast-floors-jgroups)
for m in "${modules[@]}"; do
  if [[ ! -f $root/$m/target/classpath.txt ]]; then
    (cd "$root" && ./mvnw -q -B -DskipTests -Dspotless.check.skip=true -pl "$(IFS=,; echo "${modules[*]}")" -am package >&2)
    break
  fi
done
main=io.holdfast.floors.Floors
if [[ ${1:-} == --disk ]]; then
  main=io.holdfast.floors.DiskFloor
  shift
fi
cd "$root"
exec java -Dfloors.root="$root" -cp "holdfast-floors/target/classes:$(cat holdfast-floors/target/classpath.txt)" "$main" "$@"
