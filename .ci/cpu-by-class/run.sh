#!/usr/bin/env bash
# .ci/cpu-by-class/run.sh [MAVEN ARGS...]: where the test build's CPU goes, by test class.
#
# CI's two cores are busy from end to end (96% in step 1), so its length is its CPU: this finds the
# classes that cost the most. It builds CpuByClass (a JUnit listener, see its javadoc) into
# target/cpu-by-class/, runs `./mvnw -B verify` (or the Maven arguments given) with the listener on
# every module's test class path, and prints the 40 costliest test classes and the totals by module:
# CPU seconds of the test JVM and of the child processes it reaped, and wall seconds.
#
#   .ci/cpu-by-class/run.sh                                   # the whole build, as CI's step 1
#   .ci/cpu-by-class/run.sh -o -pl holdfast-it verify         # one module
#   M2_REPO=/path/to/repo .ci/cpu-by-class/run.sh -o -Dmaven.repo.local=/path/to/repo -pl holdfast-lease test
#
# Servers the tests start as daemons (PostgreSQL through pg_ctl) are not children: their CPU counts
# for no class. Outside the tests, Maven's own CPU (javac, the shaded jar) is not counted either.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
out=target/cpu-by-class
mkdir -p "$out/classes"
# The JUnit Platform jars to compile against: the local repository's (M2_REPO, else ~/.m2/repository),
# at the platform version of the POM's JUnit (5.x.y -> 1.x.y), which Surefire has downloaded.
repo=${M2_REPO:-$HOME/.m2/repository}
platform=$(sed -n 's:.*<junit.version>5\.\(.*\)</junit.version>.*:1.\1:p' pom.xml)
cp=""
for a in junit-platform-launcher junit-platform-engine junit-platform-commons; do
  jar=$(ls "$repo/org/junit/platform/$a/$platform/$a-$platform.jar")
  cp="$cp:$jar"
done
javac -nowarn --release 17 -d "$out/classes" -cp "${cp#:}:$(ls "$repo"/org/opentest4j/opentest4j/*/opentest4j-*.jar | tail -n 1)" \
  .ci/cpu-by-class/CpuByClass.java 2>/dev/null
mkdir -p "$out/classes/META-INF/services"
echo cpubyclass.CpuByClass >"$out/classes/META-INF/services/org.junit.platform.launcher.TestExecutionListener"
(cd "$out/classes" && jar cf ../cpu-by-class.jar .)
tsv=$root/$out/classes.tsv
rm -f -- "$tsv"
(($# > 0)) || set -- -B verify
./mvnw "$@" "-Dmaven.test.additionalClasspath=$root/$out/cpu-by-class.jar" "-Dcpubyclass.out=$tsv" || status=$?
# Top-level classes only: a nested class's time is in its outer class's line too.
printf '\n==> the costliest test classes: CPU s (test JVM + children), wall s, module, class\n'
awk -F'\t' '$2 !~ /\$/ { m = $1; sub(".*/", "", m); printf "%7.0f %6.0f %6.0f  %6.0f  %s %s\n", $4 + $5, $4, $5, $3, m, $2 }' "$tsv" |
  sort -rn | head -n 40
printf '\n==> by module: CPU s\n'
awk -F'\t' '$2 !~ /\$/ { m = $1; sub(".*/", "", m); c[m] += $4 + $5; t += $4 + $5 } END { for (k in c) printf "%7.0f %s\n", c[k], k; printf "%7.0f in all\n", t }' "$tsv" |
  sort -rn
echo "(every class: $tsv)"
exit "${status:-0}"
