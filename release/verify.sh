#!/usr/bin/env bash
# release/verify.sh: checks a directory staged by release/stage.sh as a user of each artifact would
# meet it, and takes a lock with each language's artifact from a server started from the staged
# tarball.
#
#   release/verify.sh [DIR]        DIR: the staging directory (default: target/staging)
#
# 1. Every signature (.asc) verifies with release-key.asc alone (in an empty GNUPGHOME); every Maven
#    file's .md5, .sha1, .sha256 and .sha512 match it; SHA256SUMS and the tarball's .sha256 match.
# 2. Every module the staged BOM lists has its jar, sources jar, javadoc jar and POM, each signed, and
#    the POMs carry what Central requires (name, description; url, licenses, scm, developers from the
#    staged parent); the SBOM names holdfast-cli.
# 3. Java: a fresh Maven project (release/fresh/java) importing the BOM and depending on
#    holdfast-client is built with a settings.xml that adds the staging repository (id "staging") to
#    Central, into an empty local repository whose read-only tail is ~/.m2/repository (Maven 3.9's
#    maven.repo.local.tail: what the builds here already fetched from Central is not fetched again;
#    what is missing is fetched from Central, the one step that may use the network). Every
#    io.holdfast file it resolves must lie in the new local repository and be recorded as coming from
#    "staging" (Maven's _remote.repositories), and every other file there from "central".
# 4. Then, in a private network namespace (unshare -n: root needed; no network at all, and the
#    server's default ports collide with nothing), a server from the staged tarball, and four fresh
#    applications (release/fresh/) each take the lock release/verify and print its fencing token,
#    which must rise from one to the next: the Java one on the class path resolved in 3; Python from
#    the wheel installed by pip --no-index into a new venv of Debian's /usr/bin/python3 (and a wheel
#    built from the sdist, without isolation, must hold the same files); Node from npm install --offline of
#    the tarball into a new package (its .d.ts must type-check lock.ts: clients/node needs TypeScript,
#    `npm ci` there, or the check fails); Go from a new module requiring the client at the staged version through
#    GOPROXY=file://DIR/go (GOFLAGS=-mod=mod, GOSUMDB=off, an empty module cache).
# 5. The image (image/): holdfast-image-VERSION.tar is an OCI layout whose every blob matches its digest
#    and every layer its diff_id; .digest names its manifest; .sig (containers' simple signing, gpg)
#    verifies with release-key.asc and names that digest and ghcr.io/holdfast-io/holdfast:VERSION;
#    the SBOM (.cdx.json) names the manifest digest and every Debian package of the image at the
#    version holdfast-dist/src/image/debian-packages.txt pins (the image's own list must be that one).
#    Then, in the namespace of 4, the image runs: its layers unpacked into a root, its entrypoint and
#    Cmd (`server`) started as the image says (its Env, its user 10001, chrooted, in private mount and
#    PID namespaces), its own health command answers, the Java application of 3 takes a lock from it,
#    and SIGTERM stops it. (The whole image test, three hosts and a leader killed, is
#    holdfast-dist/src/image/test-image.sh IMAGE_TAR, as root.)
# Prints each part's time and the total; exits 1 on the first failure, with one line naming it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=$root/target/staging
# Set when this script runs itself inside the network namespace: the work directory of the outer run.
inner=
while (($#)); do
  case $1 in
    --in-namespace) inner=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "release/verify.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) dir=$1; shift ;;
  esac
done
fail() {
  echo "release/verify.sh: $*" >&2
  exit 1
}
[[ -f $dir/release-key.asc ]] || fail "$dir is not a staging directory (no release-key.asc): run release/stage.sh first"
dir=$(cd "$dir" && pwd)
version=$(sed -n 's/^holdfast-\(.*\)\.tar\.gz$/\1/p' <(ls "$dir/server"))
[[ -n $version ]] || fail "no server/holdfast-VERSION.tar.gz in $dir"

# timed NAME FUNCTION: runs FUNCTION under a heading, then says how long it took.
timed() {
  local t0=$SECONDS
  printf '==> %s\n' "$1"
  "$2"
  printf '    (%s s)\n' $((SECONDS - t0))
}

signatures_and_checksums() {
  export GNUPGHOME=$work/gnupg
  mkdir -m 700 "$GNUPGHOME"
  gpg --batch --quiet --import "$dir/release-key.asc" 2>/dev/null
  local signed=0 sums=0 asc file algorithm
  while IFS= read -r -d '' asc; do
    gpg --batch --quiet --verify "$asc" "${asc%.asc}" 2>/dev/null || fail "bad signature: ${asc#"$dir"/}"
    signed=$((signed + 1))
  done < <(find "$dir" -name '*.asc' -not -name release-key.asc -print0)
  while IFS= read -r -d '' file; do
    for algorithm in md5 sha1 sha256 sha512; do
      [[ -f $file.$algorithm ]] || fail "no .$algorithm beside ${file#"$dir"/}"
      [[ $(cut -d ' ' -f 1 <"$file.$algorithm") == $("${algorithm}sum" "$file" | cut -d ' ' -f 1) ]] ||
        fail "the .$algorithm of ${file#"$dir"/} does not match it"
      sums=$((sums + 1))
    done
    [[ $file == */maven-metadata.xml || -f $file.asc ]] || fail "no signature beside ${file#"$dir"/}"
  done < <(find "$dir/maven" -type f -not -name '*.md5' -not -name '*.sha1' -not -name '*.sha256' \
    -not -name '*.sha512' -not -name '*.asc' -print0)
  (cd "$dir" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match the staged files"
  (cd "$dir/server" && sha256sum --quiet -c "holdfast-$version.tar.gz.sha256") || fail "the tarball's .sha256 does not match it"
  echo "$signed signatures verified with release-key.asc alone; $sums Maven checksums matched; SHA256SUMS matched"
}

published_modules() {
  local repo=$dir/maven/io/holdfast module base file element count=0 modules
  local bom=$repo/holdfast-bom/$version/holdfast-bom-$version.pom
  local parent=$repo/holdfast-parent/$version/holdfast-parent-$version.pom
  [[ -f $bom && -f $parent ]] || fail "the BOM or the parent POM is not staged"
  for element in url licenses scm developers; do
    grep -q "<$element[ >]" "$parent" || fail "the staged parent POM has no <$element>"
  done
  modules=$(sed -n '/<dependencyManagement>/,/<\/dependencyManagement>/s|^ *<artifactId>\(holdfast-[a-z-]*\)</artifactId>$|\1|p' "$bom")
  for module in $modules; do
    base=$repo/$module/$version/$module-$version
    for file in "$base.jar" "$base-sources.jar" "$base-javadoc.jar" "$base.pom"; do
      [[ -f $file && -f $file.asc ]] || fail "$module: no ${file##*/} (or its .asc) in the staging repository"
    done
    grep -q '<name>' "$base.pom" && grep -q '<description>' "$base.pom" || fail "$module's POM has no <name> or <description>"
    grep -q "<artifactId>holdfast-parent</artifactId>" "$base.pom" || fail "$module's POM does not inherit the staged parent's metadata"
    count=$((count + 1))
  done
  ((count > 10)) || fail "the BOM lists $count modules; expected every published one"
  local sbom=$dir/server/holdfast-$version.cdx.json
  grep -q '"name" : "holdfast-cli"' "$sbom" || fail "the SBOM does not name holdfast-cli"
  echo "$count modules, each with jar, sources, javadoc and POM; the SBOM lists $(grep -c '"bom-ref"' "$sbom") components"
}

image_name=ghcr.io/holdfast-io/holdfast
image_check() {
  local image=$dir/image/holdfast-image-$version f oci=$work/oci digest d n status
  for f in "$image.tar" "$image.digest" "$image.cdx.json" "$image.sig"; do
    [[ -f $f && -f $f.asc ]] || fail "no ${f#"$dir"/} (or its .asc): the image is not staged"
  done
  mkdir -p "$oci"
  tar -xf "$image.tar" -C "$oci"
  digest=$(jq -r '.manifests[0].digest' "$oci/index.json")
  [[ $(<"$image.digest") == "$digest" ]] || fail "image/${image##*/}.digest says $(<"$image.digest"), the layout's index $digest"
  [[ $(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$oci/index.json") == "$version" ]] ||
    fail "the image is not tagged $version"
  for f in "$oci"/blobs/sha256/*; do
    [[ $(sha256sum "$f" | cut -d' ' -f1) == "${f##*/}" ]] || fail "image blob ${f##*/} does not match its digest"
  done
  local manifest=$oci/blobs/sha256/${digest#sha256:}
  local config=$oci/blobs/sha256/$(jq -r '.config.digest | ltrimstr("sha256:")' "$manifest")
  mapfile -t layers < <(jq -r '.layers[].digest | ltrimstr("sha256:")' "$manifest")
  mapfile -t diff_ids < <(jq -r '.rootfs.diff_ids[] | ltrimstr("sha256:")' "$config")
  ((${#layers[@]} == ${#diff_ids[@]} && ${#layers[@]} > 0)) || fail "the image has ${#layers[@]} layers and ${#diff_ids[@]} diff_ids"
  for n in "${!layers[@]}"; do
    [[ $(gzip -dc "$oci/blobs/sha256/${layers[$n]}" | sha256sum | cut -d' ' -f1) == "${diff_ids[$n]}" ]] ||
      fail "image layer ${layers[$n]} does not unpack to its diff_id"
  done
  # The simple signing signature: made by the release key (GNUPGHOME holds it alone), over the digest.
  status=$(gpg --batch --status-fd 1 --output "$work/image-payload.json" --decrypt "$image.sig" 2>/dev/null) ||
    fail "bad signature: image/${image##*/}.sig"
  grep -q '^\[GNUPG:\] VALIDSIG ' <<<"$status" || fail "image/${image##*/}.sig is not validly signed by release-key.asc"
  [[ $(jq -r '.critical.image["docker-manifest-digest"]' "$work/image-payload.json") == "$digest" ]] ||
    fail "image/${image##*/}.sig signs another digest than the image's $digest"
  [[ $(jq -r '.critical.identity["docker-reference"]' "$work/image-payload.json") == "$image_name:$version" ]] ||
    fail "image/${image##*/}.sig names $(jq -r '.critical.identity["docker-reference"]' "$work/image-payload.json"), not $image_name:$version"
  [[ $(jq -r '.critical.type' "$work/image-payload.json") == "atomic container signature" ]] || fail "image/${image##*/}.sig is no simple signing payload"
  # As podman and CRI-O check it (a signedBy policy), where skopeo is installed (Debian's skopeo).
  local also="skopeo is not installed: the gpg check alone"
  if command -v skopeo >/dev/null; then
    local fpr
    fpr=$(gpg --batch --with-colons --list-keys 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')
    skopeo standalone-verify "$manifest" "$image_name:$version" "$fpr" "$image.sig" >"$work/skopeo.out" 2>&1 ||
      { cat "$work/skopeo.out" >&2; fail "skopeo standalone-verify refused image/${image##*/}.sig"; }
    also="skopeo standalone-verify too"
  fi
  # The image's Debian packages (layer 1's lists) are the pinned ones, and the SBOM names each.
  mkdir -p "$work/image-root"
  for n in "${layers[@]}"; do
    tar -xzf "$oci/blobs/sha256/$n" -C "$work/image-root" --numeric-owner --same-owner --same-permissions
  done
  local pinned=$root/holdfast-dist/src/image/debian-packages.txt arch
  arch=$(jq -r .architecture "$config")
  diff <(cat "$work/image-root/usr/share/doc/holdfast-image/packages" "$work/image-root/usr/share/doc/holdfast-image/runtime" |
    awk '{ print $1, $3, $2 }' | LC_ALL=C sort) \
    <(awk -v a="$arch" '!/^#/ && NF == 3 && $2 == a' "$pinned" | LC_ALL=C sort) >&2 ||
    fail "the image's Debian packages (above: <) are not those holdfast-dist/src/image/debian-packages.txt pins (>)"
  [[ $(jq -r '.metadata.component.hashes[0].content' "$image.cdx.json") == "${digest#sha256:}" ]] ||
    fail "the image's SBOM describes another image than $digest"
  local name pkg_version count=0
  while read -r name _ pkg_version; do
    jq -e --arg n "$name" --arg v "$pkg_version" '.components[] | select(.name == $n and .version == $v and (.purl | startswith("pkg:deb/debian/")))' \
      "$image.cdx.json" >/dev/null || fail "the image's SBOM does not name $name $pkg_version"
    count=$((count + 1))
  done < <(awk -v a="$arch" '!/^#/ && NF == 3 && $2 == a' "$pinned")
  jq -e '.components[] | select(.type == "platform" and .name == "java-runtime")' "$image.cdx.json" >/dev/null ||
    fail "the image's SBOM does not name its Java runtime"
  jq -e '.components[] | select(.name == "holdfast-cli")' "$image.cdx.json" >/dev/null || fail "the image's SBOM does not name holdfast-cli"
  echo "$image_name:$version@$digest: ${#layers[@]} layers match their digests; signed by the release key ($also); the SBOM ($(jq '.components | length' "$image.cdx.json") components) names the $count pinned Debian packages"
}

java_resolve() {
  local java=$work/java m2=$work/m2 from_elsewhere others holdfast_jars
  cp -r "$root/release/fresh/java" "$java"
  mkdir -p "$java/.mvn"
  cp -r "$root/.mvn/wrapper" "$java/.mvn/"
  cp "$root/mvnw" "$java/"
  # Central is Maven's own (the super POM's); the staging repository is the only one added.
  printf '%s\n' '<settings>' '  <profiles>' '    <profile>' '      <id>staging</id>' '      <repositories>' \
    "        <repository><id>staging</id><url>file://$dir/maven</url><snapshots><enabled>false</enabled></snapshots></repository>" \
    '      </repositories>' '    </profile>' '  </profiles>' '  <activeProfiles><activeProfile>staging</activeProfile></activeProfiles>' \
    '</settings>' >"$java/settings.xml"
  (cd "$java" && ./mvnw -B -q -s settings.xml -Dmaven.repo.local="$m2" -Dmaven.repo.local.tail="$HOME/.m2/repository" \
    -Dholdfast.version="$version" compile) >"$work/java-build.log" 2>&1 ||
    { tail -n 30 "$work/java-build.log" >&2; fail "the Java project did not build from the staged artifacts (log: $work/java-build.log)"; }
  # Where each io.holdfast jar of the class path came from: the new local repository, from staging.
  holdfast_jars=$(tr ':' '\n' <"$java/target/classpath.txt" | grep '/io/holdfast/' || true)
  [[ -n $holdfast_jars ]] || fail "the class path has no io.holdfast jar"
  ! grep -v "^$m2/io/holdfast/" <<<"$holdfast_jars" >/dev/null ||
    fail "io.holdfast jars from outside the new local repository: $(grep -v "^$m2/" <<<"$holdfast_jars" | head -n 3)"
  from_elsewhere=$(find "$m2/io/holdfast" -name _remote.repositories -exec grep -H '>' {} + | grep -v '>staging=$' || true)
  [[ -z $from_elsewhere ]] || fail "io.holdfast files not from the staging repository: $(head -n 3 <<<"$from_elsewhere")"
  others=$(find "$m2" -path "$m2/io/holdfast" -prune -o -name _remote.repositories -exec grep -H '>' {} + | grep -v '>central=$' || true)
  [[ -z $others ]] || fail "files from neither staging nor central: $(head -n 3 <<<"$others")"
  echo "class path: $(wc -l <<<"$holdfast_jars") io.holdfast jars, from staging; $(tr ':' '\n' <"$java/target/classpath.txt" | grep -vc '/io/holdfast/') others, from Central ($(find "$m2" -path "$m2/io/holdfast" -prune -o -name '*.jar' -print | wc -l) of them fetched by this run, the rest already in ~/.m2)"
}

server_from_the_tarball() {
  tar -xzf "$dir/server/holdfast-$version.tar.gz" -C "$work"
  "$work/holdfast-$version/bin/holdfast" server --data-dir "$work/data" >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 120); do
    curl -fsS -o /dev/null http://127.0.0.1:4655/ready 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { tail -n 20 "$work/server.log" >&2; fail "the staged server exited before it was ready"; }
    sleep 0.5
  done
  curl -fsS -o /dev/null http://127.0.0.1:4655/ready || fail "the staged server was not ready within 60 s (log: $work/server.log)"
  echo "ready: client port 4653, HTTP 4655 (in this namespace only)"
}

tokens=()
# token LANGUAGE OUTPUT-FILE: the fencing token the application printed, which must beat the last.
token() {
  local t
  t=$(sed -n "s/^$1: holding release\/verify with fencing token \([0-9][0-9]*\)$/\1/p" "$2")
  [[ -n $t ]] || { tail -n 20 "$2" >&2; fail "the $1 application took no lock (output: $2)"; }
  if ((${#tokens[@]} > 0)) && ((t <= tokens[${#tokens[@]} - 1])); then
    fail "$1's fencing token $t does not exceed the one before, ${tokens[${#tokens[@]} - 1]}"
  fi
  tokens+=("$t")
  echo "$1: fencing token $t"
}

java_lock() {
  java -cp "$work/java/target/classes:$(cat "$work/java/target/classpath.txt")" Main holdfast://127.0.0.1:4653 >"$work/java.out" 2>&1 || true
  token java "$work/java.out"
}

python_lock() {
  /usr/bin/python3 -m venv "$work/venv" || fail "/usr/bin/python3 -m venv failed (Debian's python3-venv)"
  "$work/venv/bin/pip" install -q --no-index --no-cache-dir "$dir/python/holdfast-$version-py3-none-any.whl" \
    >"$work/pip.log" 2>&1 || { cat "$work/pip.log" >&2; fail "pip could not install the staged wheel"; }
  (cd "$work" && "$work/venv/bin/python" "$root/release/fresh/python/lock.py" http://127.0.0.1:4655) >"$work/python.out" 2>&1 || true
  token python "$work/python.out"
  # The sdist holds what the wheel is built from: a wheel built from it (Debian's build, setuptools
  # and wheel, no isolation, no index) has the same files as the staged one.
  mkdir -p "$work/sdist"
  tar -xzf "$dir/python/holdfast-$version.tar.gz" -C "$work/sdist"
  /usr/bin/python3 -m build --no-isolation --wheel --outdir "$work/sdist/wheel" "$work/sdist/holdfast-$version" \
    >"$work/sdist.log" 2>&1 || { tail -n 20 "$work/sdist.log" >&2; fail "no wheel could be built from the staged sdist"; }
  diff <(unzip -Z1 "$work/sdist/wheel/holdfast-$version-py3-none-any.whl" | sort) \
    <(unzip -Z1 "$dir/python/holdfast-$version-py3-none-any.whl" | sort) >&2 ||
    fail "the wheel built from the sdist holds other files than the staged wheel"
  echo "a wheel built from the sdist holds the same files"
}

node_lock() {
  local node=$work/node tsc=$root/clients/node/node_modules/typescript/bin/tsc
  mkdir -p "$node"
  cp "$root/release/fresh/node/lock.js" "$root/release/fresh/node/lock.ts" "$node/"
  (cd "$node" && npm init -y >/dev/null && npm install --offline --no-audit --no-fund --loglevel=error \
    "$dir/node/holdfast-client-$version.tgz") >"$work/npm.log" 2>&1 || { cat "$work/npm.log" >&2; fail "npm could not install the staged tarball"; }
  if [[ -f $tsc ]]; then
    # The libraries the client's own tsconfig.json names: its .d.ts use Symbol.asyncDispose and DOM's
    # AbortSignal, so an application needs them too (or skipLibCheck, which this check does not use).
    (cd "$node" && node "$tsc" --strict --noEmit --target es2022 --module commonjs --moduleResolution node \
      --lib es2022,dom,esnext.disposable lock.ts) >"$work/tsc.log" 2>&1 || { cat "$work/tsc.log" >&2; fail "lock.ts does not type-check against the staged package's .d.ts"; }
    echo "lock.ts type-checks against the installed package's types"
  else
    # A check this script claims must run: without TypeScript it would pass with the types unchecked.
    fail "no TypeScript in clients/node/node_modules: run 'npm ci' in clients/node first (the staged .d.ts must be type-checked)"
  fi
  (cd "$node" && node lock.js http://127.0.0.1:4655) >"$work/node.out" 2>&1 || true
  token node "$work/node.out"
}

go_lock() {
  local app=$work/go
  mkdir -p "$app"
  cp "$root/release/fresh/go/main.go" "$app/"
  printf 'module example.org/fresh\n\ngo 1.19\n\nrequire github.com/holdfast-io/holdfast/clients/go v%s\n' "$version" >"$app/go.mod"
  (cd "$app" && GOPROXY=file://$dir/go GOSUMDB=off GOFLAGS='-mod=mod -modcacherw' GOMODCACHE=$work/gomod GOTOOLCHAIN=local \
    go build -o fresh .) >"$work/go-build.log" 2>&1 || { cat "$work/go-build.log" >&2; fail "the Go module did not build from the staged module"; }
  grep -q "^github.com/holdfast-io/holdfast/clients/go v$version h1:" "$app/go.sum" || fail "go.sum has no hash of the staged module"
  "$app/fresh" http://127.0.0.1:4655 >"$work/go.out" 2>&1 || true
  token go "$work/go.out"
}

image_run() {
  local root=$work/image-root oci=$work/oci config manifest env_list=() entrypoint cmd jvm i t status=0
  manifest=$oci/blobs/sha256/$(jq -r '.manifests[0].digest | ltrimstr("sha256:")' "$oci/index.json")
  config=$oci/blobs/sha256/$(jq -r '.config.digest | ltrimstr("sha256:")' "$manifest")
  mapfile -t env_list < <(jq -r '.config.Env[]' "$config")
  mapfile -t entrypoint < <(jq -r '.config.Entrypoint[]' "$config")
  mapfile -t cmd < <(jq -r '.config.Cmd[]' "$config")
  local user
  user=$(jq -r .config.User "$config")
  mkdir -p "$root/proc"
  # Other ports than the tarball's server, which still runs in this namespace.
  env_list+=(HOLDFAST_CLIENT_PORT=5653 HOLDFAST_RAFT_PORT=5654 HOLDFAST_HTTP_PORT=5655)
  # The image's Env alone (its PATH is /opt/java/bin): the host's tools by their full paths.
  local unshare_bin chroot_bin
  unshare_bin=$(command -v unshare)
  chroot_bin=$(command -v chroot)
  env -i "${env_list[@]}" "$unshare_bin" -m -p -f --mount-proc="$root/proc" -- "$chroot_bin" --userspec="$user" "$root" \
    "${entrypoint[@]}" "${cmd[@]}" >"$work/image-server.log" 2>&1 &
  image_pid=$!
  for i in $(seq 1 240); do
    curl -fsS -o /dev/null http://127.0.0.1:5655/ready 2>/dev/null && break
    kill -0 "$image_pid" 2>/dev/null || { tail -n 20 "$work/image-server.log" >&2; fail "the image's server exited before it was ready"; }
    sleep 0.5
  done
  # The JVM: PID 1 of its namespaces, the child of unshare (which ignores SIGTERM and waits for it).
  jvm=$(pgrep -P "$image_pid" | head -n 1)
  [[ -n $jvm ]] || fail "the image's server has no process under unshare"
  # The image's own health command, in the server's mount and PID namespaces and root (with its
  # /proc: the loader finds the runtime's libjli.so through /proc/self/exe), as its user, as an exec
  # probe runs it.
  env -i "${env_list[@]}" "$(command -v nsenter)" -t "$jvm" -m -p --root --wd -S "${user%%:*}" -G "${user#*:}" -- \
    "${entrypoint[@]}" health --ready >"$work/image-health.out" 2>&1 ||
    { cat "$work/image-health.out" >&2; fail "the image's health --ready did not answer (log: $work/image-server.log)"; }
  java -cp "$work/java/target/classes:$(cat "$work/java/target/classpath.txt")" Main holdfast://127.0.0.1:5653 >"$work/image-java.out" 2>&1 || true
  t=$(sed -n 's/^java: holding release\/verify with fencing token \([0-9][0-9]*\)$/\1/p' "$work/image-java.out")
  [[ -n $t ]] || { cat "$work/image-java.out" >&2; fail "no lock from the image's server"; }
  kill -TERM "$jvm"
  wait "$image_pid" || status=$?
  image_pid=
  # unshare -f passes on the JVM's status: 143 after SIGTERM, once the node has stopped.
  [[ $status == 0 || $status == 143 ]] || { tail -n 20 "$work/image-server.log" >&2; fail "the image's server exited $status after SIGTERM"; }
  grep -q 'stopped' "$work/image-server.log" || fail "the image's server did not log its stop"
  echo "the image's server (user $user, chrooted) was ready; its health --ready: $(head -n 1 "$work/image-health.out"); a lock from it with token $t; SIGTERM: exit $status"
}

if [[ -n $inner ]]; then
  # Inside the namespace, in the outer run's work directory (which the outer run removes).
  work=$inner
  server_pid=
  image_pid=
  trap '[[ -z $image_pid ]] || { pkill -KILL -P "$image_pid"; kill -KILL "$image_pid"; } 2>/dev/null; [[ -z $server_pid ]] || { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; } || true' EXIT
  timed "a server from the staged tarball" server_from_the_tarball
  timed "Java: the class path resolved from staging" java_lock
  timed "Python: the wheel into a venv (pip --no-index)" python_lock
  timed "Node: npm install --offline of the tarball" node_lock
  timed "Go: the module through GOPROXY=file://" go_lock
  echo "fencing tokens ${tokens[*]}: rising"
  timed "the image: its server from its unpacked layers, as the image says" image_run
  exit 0
fi

started=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/holdfast-verify.XXXXXX")
finish() {
  local status=$?
  # The agent that gpg started for the empty GNUPGHOME, whichever way the run ended.
  [[ ! -d $work/gnupg ]] || GNUPGHOME=$work/gnupg gpgconf --kill gpg-agent 2>/dev/null || true
  if ((status == 0)); then
    chmod -R u+w "$work" 2>/dev/null || true
    rm -rf -- "$work"
  else
    echo "release/verify.sh: failed; its files are kept in $work" >&2
  fi
}
trap finish EXIT
echo "staged version $version in $dir"
timed "signatures and checksums" signatures_and_checksums
timed "the published modules and their POMs" published_modules
timed "the image: digests, signature, pinned packages, SBOM" image_check
timed "Java: a fresh Maven project from staging + Central" java_resolve
command -v unshare >/dev/null || fail "unshare is not on PATH (util-linux)"
unshare -n true 2>/dev/null || fail "no private network namespace here (unshare -n needs root)"
echo "==> in a private network namespace (unshare -n): no network, loopback only"
unshare -n -- bash -c 'ip link set lo up && exec "$@"' verify "${BASH_SOURCE[0]}" "$dir" --in-namespace "$work"
echo "release/verify.sh: $version verified in $((SECONDS - started)) s"
