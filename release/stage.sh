#!/usr/bin/env bash
# release/stage.sh: stages a release of every Holdfast artifact into a local directory, signed with a
# throwaway key made for the run. Nothing is uploaded anywhere (docs/releasing.md says what would be).
#
#   release/stage.sh [--out DIR] [--version X.Y.Z] [--key ID] [-- MAVEN_ARGS...]
#
#   --out DIR        where to stage (default: target/staging; emptied first). Never commit it.
#   --key ID         sign with this key of the releaser's own GNUPGHOME (a real release) instead of
#                    a throwaway key made for the run and deleted after it (the default).
#   --version X.Y.Z  the release's version (default: the parent POM's, less -SNAPSHOT). The Python and
#                    Node clients must already carry it (the version bump is a commit: docs/releasing.md).
#   MAVEN_ARGS       passed to Maven. Not -o: the SBOM's plugin skips itself when Maven is offline.
#
# It builds a copy of the tree (tracked and untracked files, without what git ignores) in a
# temporary directory whose POMs carry the release version, so the work tree and ~/.m2 are left
# alone (Maven deploys to a file repository, with a local repository of its own; nothing is
# installed). DIR then holds:
#
#   maven/               a Maven repository: every published module's jar, sources and javadoc jars
#                        and POM, the parent POM and the BOM, each with .md5, .sha1, .sha256, .sha512
#                        and a detached .asc signature (./mvnw deploy -Prelease,sign)
#   python/              holdfast-X.Y.Z.tar.gz (sdist) and holdfast-X.Y.Z-py3-none-any.whl
#   node/                holdfast-client-X.Y.Z.tgz (npm pack: the compiled JavaScript and its .d.ts)
#   go/                  a Go module proxy directory: github.com/holdfast-io/holdfast/clients/go/@v/
#                        vX.Y.Z.{info,mod,zip} and list (GOPROXY=file://DIR/go)
#   server/              holdfast-X.Y.Z.tar.gz, its .sha256, its CycloneDX SBOM holdfast-X.Y.Z.cdx.json
#   image/               the server's OCI image, built from that tarball (holdfast-dist/src/image/
#                        build-image.sh): holdfast-image-X.Y.Z.tar (an OCI layout), .digest (its
#                        manifest digest), .cdx.json (its CycloneDX SBOM: the pinned Debian packages,
#                        the jlink'ed runtime, the jar and its libraries) and .sig (a signature of the
#                        manifest digest for ghcr.io/holdfast-io/holdfast:X.Y.Z in the containers'
#                        "simple signing" format, made with the release key: docs/container.md)
#   SHA256SUMS           the SHA-256 of every file under python/, node/, go/, server/ and image/
#   *.asc                a detached signature beside each of those files and SHA256SUMS
#   release-key.asc      the public key that made every signature
#
# release/verify.sh DIR checks the signatures and checksums and installs each artifact into a fresh
# project of its language that takes a lock from a server started from the staged tarball.
# Needs: a JDK 17+ (Debian's, at the version holdfast-dist/src/image/debian-packages.txt pins), gpg, jq, zip, node and npm (the npm registry or npm's cache, for TypeScript), and
# Debian's python3-build, python3-wheel and python3-venv under /usr/bin/python3.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/target/staging
version=
key=
maven_args=()
# The image's name in the registry a release pushes to (docs/container.md); the manifests name it.
image_name=ghcr.io/holdfast-io/holdfast
while (($#)); do
  case $1 in
    --out) out=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --key) key=$2; shift 2 ;;
    --) shift; maven_args=("$@"); break ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "release/stage.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

started=$SECONDS
fail() {
  echo "release/stage.sh: $*" >&2
  exit 1
}
step() { printf '==> %s\n' "$*"; }

# The everyday version, as the parent POM and every module's <parent> carry it.
snapshot=$(sed -n 's|^  <version>\(.*\)</version>$|\1|p' "$root/pom.xml" | head -n 1)
[[ -n $snapshot ]] || fail "no <version> found in $root/pom.xml"
version=${version:-${snapshot%-SNAPSHOT}}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "the version must be X.Y.Z, not '$version'"
python_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/clients/python/pyproject.toml")
node_version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$root/clients/node/package.json")
[[ $python_version == "$version" ]] || fail "clients/python/pyproject.toml is at '$python_version', the release at $version: bump it first (docs/releasing.md)"
[[ $node_version == "$version" ]] || fail "clients/node/package.json is at '$node_version', the release at $version: bump it first (docs/releasing.md)"
/usr/bin/python3 -c 'import build, wheel' 2>/dev/null ||
  fail "Debian's python3-build and python3-wheel are missing under /usr/bin/python3 (apt-get install python3-build python3-wheel python3-venv)"
manifest_image=$(sed -n 's/^ *image: *//p' "$root/deploy/kubernetes/statefulset.yaml" | head -n 1)
[[ $manifest_image == "$image_name:$version" ]] ||
  fail "deploy/kubernetes/statefulset.yaml names the image '$manifest_image', the release is $image_name:$version: set it first (docs/releasing.md)"
chart_versions=$(sed -n 's/^\(version\|appVersion\): *"\{0,1\}\([^"]*\)"\{0,1\}$/\2/p' "$root/deploy/helm/holdfast/Chart.yaml" | sort -u)
[[ $chart_versions == "$version" ]] ||
  fail "deploy/helm/holdfast/Chart.yaml's version and appVersion are '$(echo $chart_versions)', the release is $version: set both first (docs/releasing.md)"
for tool in gpg jq zip npm sha256sum; do
  command -v "$tool" >/dev/null || fail "$tool is not on PATH"
done
if [[ -n $(git -C "$root" status --porcelain 2>/dev/null) ]]; then
  echo "note: the tree has uncommitted changes, which are staged too; a real release is staged from its tag"
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
find "$out" -mindepth 1 -delete
work=$(mktemp -d "${TMPDIR:-/tmp}/holdfast-release.XXXXXX")
cleanup() {
  local status=$?
  # the throwaway key's agent, then the key and the copy of the tree
  [[ ! -d $work/gnupg ]] || GNUPGHOME=$work/gnupg gpgconf --kill gpg-agent 2>/dev/null || true
  if ((status == 0)); then
    rm -rf -- "$work"
  else
    rm -rf -- "$work/gnupg"
    echo "release/stage.sh: failed; the tree it built is kept in $work/src" >&2
  fi
}
trap cleanup EXIT

step "a copy of the tree at version $version: $work/src"
mkdir -p "$work/src"
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
  tar --null --files-from=- --ignore-failed-read -cf - | tar -C "$work/src" -xf -)
src=$work/src
# Every POM names the everyday version exactly where the release's goes (its own and its parent's).
find "$src" -name pom.xml -not -path '*/node_modules/*' -print0 |
  xargs -0 sed -i "s|<version>$snapshot</version>|<version>$version</version>|"
if grep -rl --include=pom.xml -- "$snapshot" "$src" >/dev/null; then
  fail "a POM still names $snapshot after the version was set: $(grep -rl --include=pom.xml -- "$snapshot" "$src" | head -n 3)"
fi

if [[ -z $key ]]; then
  step "a throwaway signing key, valid one day (GNUPGHOME=$work/gnupg, deleted at the end)"
  export GNUPGHOME=$work/gnupg
  mkdir -m 700 "$GNUPGHOME"
  gpg --batch --passphrase '' --quick-gen-key \
    "Holdfast release staging (throwaway key) <release-staging@holdfast.invalid>" ed25519 sign 1d 2>"$work/gpg.log" ||
    fail "gpg could not make a key: $(tail -n 1 "$work/gpg.log")"
  key=$(gpg --batch --with-colons --list-secret-keys 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')
else
  step "signing with key $key"
  gpg --batch --list-secret-keys "$key" >/dev/null 2>&1 || fail "gpg has no secret key $key"
fi
gpg --batch --armor --export "$key" >"$out/release-key.asc"
echo "key $key (public key: $out/release-key.asc)"

step "Maven: every published module, the parent and the BOM, signed, into $out/maven"
# Modules that are not published set maven.deploy.skip (docs/releasing.md lists them); those below are
# left out of the build as well, since nothing published needs them. holdfast-dist is built: the tarball.
# Into a local repository of its own whose read-only tail is ~/.m2/repository (Maven 3.9's
# maven.repo.local.tail): what the builds here fetched is read from there, and nothing this build
# makes or fetches is written there (nor installed: deploy's lifecycle includes install).
(cd "$src" && ./mvnw -B -Prelease,sign deploy \
  -Dmaven.repo.local="$work/m2" -Dmaven.repo.local.tail="$HOME/.m2/repository" -Dmaven.install.skip=true \
  -pl '!holdfast-it,!holdfast-architecture,!holdfast-bench,!holdfast-floors,!holdfast-floors-sofajraft,!holdfast-floors-jgroups,!examples/coupons' \
  -Dmaven.test.skip=true -Dspotless.check.skip=true -Dgpg.keyname="$key" \
  -DaltDeploymentRepository="staging::file://$out/maven" \
  -Daether.checksums.algorithms=SHA-512,SHA-256,SHA-1,MD5 \
  "${maven_args[@]}") >"$work/maven.log" 2>&1 || {
  grep -E '^\[(ERROR|WARNING)\]' "$work/maven.log" | head -n 40 >&2
  fail "the Maven build failed (full log: $work/maven.log)"
}
echo "$(find "$out/maven" -name '*.jar' | wc -l) jars, $(find "$out/maven" -name '*.pom' | wc -l) POMs"

step "the server tarball and its SBOM into $out/server"
mkdir -p "$out/server"
[[ -f $src/holdfast-dist/target/holdfast-$version.cdx.json ]] ||
  fail "no SBOM was made (cyclonedx-maven-plugin skips itself when Maven runs offline, with -o)"
cp "$src/holdfast-dist/target/holdfast-$version.tar.gz" "$src/holdfast-dist/target/holdfast-$version.cdx.json" "$out/server/"
(cd "$out/server" && sha256sum "holdfast-$version.tar.gz" >"holdfast-$version.tar.gz.sha256")

step "the OCI image, its SBOM, digest and signature into $out/image"
mkdir -p "$out/image"
image=$out/image/holdfast-image-$version
HOLDFAST_IMAGE_PINS=strict bash "$src/holdfast-dist/src/image/build-image.sh" "$out/server/holdfast-$version.tar.gz" "$image.tar" "$version" \
  >"$work/image.log" 2>&1 || { tail -n 5 "$work/image.log" >&2; fail "the image was not built (log: $work/image.log)"; }
bash "$src/holdfast-dist/src/image/image-sbom.sh" "$image.tar" "$image_name" "$out/server/holdfast-$version.cdx.json" \
  >"$image.cdx.json" 2>"$work/image-sbom.log" || { cat "$work/image-sbom.log" >&2; fail "no SBOM of the image"; }
digest=$(tar -xOf "$image.tar" ./index.json | jq -r '.manifests[0].digest')
echo "$digest" >"$image.digest"
# The containers' "simple signing" payload (github.com/containers/image, docs/containers-signature.5.md),
# signed, not detached, with the release key: what `skopeo standalone-sign` writes and podman, CRI-O and
# `skopeo standalone-verify` check (a policy's signedBy). No cosign here: docs/container.md says why.
printf '{"critical":{"identity":{"docker-reference":"%s:%s"},"image":{"docker-manifest-digest":"%s"},"type":"atomic container signature"},"optional":{"creator":"holdfast release/stage.sh"}}' \
  "$image_name" "$version" "$digest" >"$work/image-payload.json"
gpg --batch --quiet --local-user "$key" --output "$image.sig" --sign "$work/image-payload.json"
echo "$image_name:$version@$digest: $(($(stat -c %s "$image.tar") / 1000000)) MB; SBOM of $(jq '.components | length' "$image.cdx.json") components"

step "Python: sdist and wheel into $out/python"
# Debian's build and setuptools, without an isolated environment (which would fetch setuptools from PyPI).
(cd "$src/clients/python" && /usr/bin/python3 -m build --no-isolation --sdist --wheel --outdir "$out/python" .) \
  >"$work/python.log" 2>&1 || {
  tail -n 20 "$work/python.log" >&2
  fail "python3 -m build failed (full log: $work/python.log)"
}

step "Node: npm pack into $out/node"
mkdir -p "$out/node"
(cd "$src/clients/node" && npm ci --no-audit --no-fund --loglevel=error &&
  npx --no-install tsc -p tsconfig.json &&
  npm pack --silent --pack-destination "$out/node") >"$work/node.log" 2>&1 || {
  tail -n 20 "$work/node.log" >&2
  fail "the Node package failed (full log: $work/node.log)"
}
grep -qx 'package/dist/index.d.ts' <<<"$(tar -tzf "$out/node/holdfast-client-$version.tgz")" ||
  fail "holdfast-client-$version.tgz has no package/dist/index.d.ts (its types)"

step "Go: module github.com/holdfast-io/holdfast/clients/go v$version into $out/go"
module=github.com/holdfast-io/holdfast/clients/go
[[ $(sed -n 's/^module //p' "$src/clients/go/go.mod") == "$module" ]] || fail "clients/go/go.mod does not declare module $module"
proxy=$out/go/$module/@v
mkdir -p "$proxy" "$work/gozip/$module@v$version"
# A module zip holds the module's files under MODULE@VERSION/ (the layout `go mod download` checks).
(cd "$root" && git ls-files -z --cached --others --exclude-standard -- clients/go) |
  (cd "$src" && tar --null --files-from=- -cf -) | tar -C "$work/gozip/$module@v$version" --strip-components=2 -xf -
(cd "$work/gozip" && find "$module@v$version" -type f | LC_ALL=C sort | TZ=UTC zip -q -X "$proxy/v$version.zip" -@)
cp "$src/clients/go/go.mod" "$proxy/v$version.mod"
printf '{"Version":"v%s","Time":"%s"}\n' "$version" "$(git -C "$root" log -1 --format=%cI 2>/dev/null || date -u +%FT%TZ)" >"$proxy/v$version.info"
echo "v$version" >"$proxy/list"

step "SHA256SUMS and a signature for each file outside maven/"
(cd "$out" && find python node go server image -type f | LC_ALL=C sort | xargs sha256sum >SHA256SUMS)
(cd "$out" && find python node go server image -type f -not -name '*.asc' | LC_ALL=C sort) >"$work/to-sign"
echo SHA256SUMS >>"$work/to-sign"
while read -r file; do
  gpg --batch --quiet --local-user "$key" --armor --detach-sign --output "$out/$file.asc" "$out/$file"
done <"$work/to-sign"

echo "staged $version in $out: $(find "$out" -type f | wc -l) files, $(du -sh "$out" | cut -f1), in $((SECONDS - started)) s"
echo "check it: release/verify.sh $out"
