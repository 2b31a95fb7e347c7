#!/usr/bin/env bash
# image-sbom.sh: a CycloneDX 1.5 SBOM (JSON, on stdout) of an image that build-image.sh made, read
# from the image itself: its manifest digest, the Debian packages of its C libraries (layer 1's
# /usr/share/doc/holdfast-image/packages) and of the JDK its runtime was jlink'ed from (.../runtime),
# each with its exact version as a pkg:deb purl; the runtime (layer 2's /opt/java/release: version
# and modules); the jar (/opt/holdfast/lib/holdfast.jar, its SHA-256); and, given the distribution's
# own SBOM (holdfast-X.Y.Z.cdx.json, cyclonedx-maven-plugin), every Java library in that jar.
#
#   image-sbom.sh IMAGE_TAR NAME [JAVA_SBOM]     NAME: the image's name without its tag,
#                                                e.g. ghcr.io/holdfast-io/holdfast
#
# Needs jq, tar, gzip, sha256sum. The output is the same for the same image and Java SBOM (its serial
# number is derived from the manifest digest; its time is the image's creation time).
set -euo pipefail

[[ $# -ge 2 && $# -le 3 ]] || { echo "usage: image-sbom.sh IMAGE_TAR NAME [JAVA_SBOM]" >&2; exit 64; }
image_tar=$(readlink -f -- "$1")
name=$2
java_sbom=${3:-}
for tool in jq tar gzip sha256sum; do
  command -v "$tool" >/dev/null || { echo "image-sbom.sh: $tool is missing" >&2; exit 69; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/holdfast-image-sbom.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

tar -xf "$image_tar" -C "$work" ./index.json
digest=$(jq -r '.manifests[0].digest' "$work/index.json")
tag=$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$work/index.json")
blob() { printf './blobs/%s/%s' "${1%%:*}" "${1#*:}"; }
manifest=$(tar -xOf "$image_tar" "$(blob "$digest")")
config=$(tar -xOf "$image_tar" "$(blob "$(jq -r .config.digest <<<"$manifest")")")
created=$(jq -r .created <<<"$config")
arch=$(jq -r .architecture <<<"$config")
# The files the SBOM reads, from whichever layer holds them (names in a layer may begin with ./).
mkdir -p "$work/fs"
while read -r layer; do
  tar -xOf "$image_tar" "$(blob "$layer")" | tar -xz -C "$work/fs" --no-same-owner --wildcards \
    '*usr/share/doc/holdfast-image/*' '*opt/java/release' '*opt/holdfast/lib/holdfast.jar' 2>/dev/null || true
done < <(jq -r '.layers[].digest' <<<"$manifest")
for f in usr/share/doc/holdfast-image/packages usr/share/doc/holdfast-image/runtime opt/java/release opt/holdfast/lib/holdfast.jar; do
  [[ -f $work/fs/$f ]] || { echo "image-sbom.sh: the image has no /$f (an image of build-image.sh has)" >&2; exit 65; }
done
# The Debian release, from the package versions' "debNN" (Debian's security and point releases), else none.
distro=$(grep -o 'deb[0-9][0-9]*u' "$work/fs/usr/share/doc/holdfast-image/packages" | head -n 1 | sed 's/^deb\([0-9]*\)u$/debian-\1/')
release_value() { sed -n "s/^$1=\"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p" "$work/fs/opt/java/release"; }
jar_sha=$(sha256sum "$work/fs/opt/holdfast/lib/holdfast.jar" | cut -d' ' -f1)
hex=${digest#sha256:}
serial="urn:uuid:${hex:0:8}-${hex:8:4}-${hex:12:4}-${hex:16:4}-${hex:20:12}"

# One component per Debian package line "NAME VERSION ARCH": layer 1's C libraries, then the JDK.
debs() { # FILE LAYER USE
  awk 'NF == 3' "$1" | jq -R --arg distro "$distro" --arg layer "$2" --arg use "$3" '
    split(" ") as [$n, $v, $a]
    | ("pkg:deb/debian/" + $n + "@" + ($v | @uri) + "?arch=" + $a + (if $distro != "" then "&distro=" + $distro else "" end)) as $purl
    | {type: "library", "bom-ref": $purl, name: $n, version: $v, purl: $purl,
       properties: [{name: "holdfast:image:layer", value: $layer}, {name: "holdfast:image:use", value: $use}]}' |
    jq -s .
}
debs "$work/fs/usr/share/doc/holdfast-image/packages" 1 "C libraries under /lib and /lib64, copied from the package" >"$work/libs.json"
debs "$work/fs/usr/share/doc/holdfast-image/runtime" 2 "the JDK whose jmods jlink made /opt/java from (a subset of its modules)" >"$work/jdk.json"
if [[ -n $java_sbom ]]; then
  jq '[.components[]?]' "$java_sbom" >"$work/java.json"
else
  echo '[]' >"$work/java.json"
fi

jq -n --arg serial "$serial" --arg created "$created" --arg name "$name" --arg tag "$tag" --arg digest "$digest" \
  --arg arch "$arch" --arg jar_sha "$jar_sha" \
  --arg java_version "$(release_value JAVA_RUNTIME_VERSION)" --arg java_modules "$(release_value MODULES)" \
  --arg implementor "$(release_value IMPLEMENTOR)" \
  --slurpfile libs "$work/libs.json" --slurpfile jdk "$work/jdk.json" --slurpfile java "$work/java.json" '
  ("pkg:oci/" + ($name | split("/") | last) + "@" + ($digest | @uri) + "?arch=" + $arch
    + "&repository_url=" + $name + "&tag=" + $tag) as $image_purl
  | {
    bomFormat: "CycloneDX", specVersion: "1.5", serialNumber: $serial, version: 1,
    metadata: {
      timestamp: $created,
      tools: {components: [{type: "application", name: "holdfast-dist/src/image/image-sbom.sh"}]},
      component: {type: "container", "bom-ref": $image_purl, name: $name, version: $tag, purl: $image_purl,
        hashes: [{alg: "SHA-256", content: ($digest | ltrimstr("sha256:"))}],
        description: "the Holdfast server image; the hash is its OCI manifest digest"}
    },
    components: (
      $libs[0] + $jdk[0]
      + [{type: "platform", "bom-ref": "image:/opt/java", name: "java-runtime", version: $java_version,
          description: ("a Java runtime made by jlink from " + ($jdk[0][0].name // "a JDK") + " " + ($jdk[0][0].version // "")),
          supplier: {name: $implementor},
          properties: [{name: "holdfast:image:layer", value: "2"}, {name: "holdfast:image:path", value: "/opt/java"},
                       {name: "holdfast:jlink:modules", value: $java_modules}]},
         {type: "file", "bom-ref": "image:/opt/holdfast/lib/holdfast.jar", name: "/opt/holdfast/lib/holdfast.jar",
          version: $tag, hashes: [{alg: "SHA-256", content: $jar_sha}],
          description: "the distribution jar: holdfast-cli and every library listed below it",
          properties: [{name: "holdfast:image:layer", value: "4"}]}]
      + ($java[0] | unique_by(."bom-ref"))
    )
  }'
