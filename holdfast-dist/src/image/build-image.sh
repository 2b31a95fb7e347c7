#!/usr/bin/env bash
# build-image.sh: the Holdfast server's OCI image, built from the distribution tarball without a
# container runtime or a daemon, as an OCI image layout in one tar file (skopeo's `oci-archive:`).
#
#   build-image.sh DIST_TARBALL OUT_TAR [TAG]      (./mvnw -Pimage -pl holdfast-dist package runs it)
#
# Needs GNU tar, gzip, sha256sum, unshare and a JDK (JAVA_HOME, else the one on PATH) whose jlink
# makes the image's runtime: the JRE is the JDK that builds the image. Runs as any user that may
# make user and mount namespaces (Debian lets every user; the class-data archive needs them). The image
# (docs/container.md):
#
#   layer 1  /lib, /lib64               the C libraries the runtime links (glibc, libstdc++, zlib),
#                                       copied from the build host's Debian packages, with their
#                                       copyright files and /usr/share/doc/holdfast-image/packages
#                                       (and .../runtime: the Debian package of the JDK below)
#   layer 2  /opt/java                  a runtime of the modules below (jlink), nothing else
#
# The Debian packages are pinned: debian-packages.txt (beside this script) lists each one with its
# exact version and architecture. With HOLDFAST_IMAGE_PINS=strict (release/stage.sh sets it: a
# release is made only of the pinned versions) the build stops with one line (exit 70) when the host
# has another version installed, when the runtime needs a package the list lacks, or when a listed
# one of this architecture is no longer needed; otherwise (CI's test of the image, a developer's
# build) it says the same in one WARNING line and builds from what the host has: the host's
# packages move with Debian's security updates (a machine updated by hand had another JDK than a
# fresh one, 2026-11-30), and a test of the image should not fail on that. The image's own record
# (/usr/share/doc/holdfast-image) and its SBOM always name the versions it holds. The JDK must be a
# Debian package's (its jmods are).
#   layer 3  /etc/passwd, /etc/group    user and group `holdfast` (10001); /etc/nsswitch.conf; /tmp
#            (1777); /etc/holdfast/holdfast.properties (comments only); /var/lib/holdfast (10001, 0700)
#   layer 4  /opt/holdfast              lib/holdfast.jar and LICENSE from the distribution, and
#                                       lib/holdfast.jsa: a class-data-sharing archive made here
#                                       by the runtime of layer 2 (every JVM of the image maps it)
#   config   entrypoint /opt/java/bin/java -jar /opt/holdfast/lib/holdfast.jar, cmd server,
#            user 10001:10001, env HOLDFAST_*, volume /var/lib/holdfast, ports 4653-4655/tcp
#
# The layers change in that order of frequency: a new build of Holdfast changes only layer 4.
# Entries carry the time of the jar (SOURCE_DATE_EPOCH if set), names sorted, owners fixed, gzip
# without names or times: meant to make the same jar, JDK and host packages give the same digests
# for layers 1-3 (not checked by a test); layer 4's archive is made by a training run, whose
# classes and their order may differ from one build to the next.
#
# Why not umoci or Jib: Debian 12's umoci 0.4.7 (`umoci insert`) wrote both large layers truncated
# here (the tar stream ends inside the last file: `tar: Unexpected EOF in archive`); Jib builds
# images of a jar module's classes and dependencies, while this image is the distribution's jar,
# a jlink runtime and a data directory owned by 10001. The layout is three tars, three JSON files
# and their SHA-256 sums (test-image.sh checks every digest).
set -euo pipefail

usage() { echo "usage: build-image.sh DIST_TARBALL OUT_TAR [TAG]" >&2; exit 64; }
[[ $# -ge 2 && $# -le 3 ]] || usage
dist=$(readlink -f -- "$1")
out=$(readlink -f -- "$2")
tag=${3:-latest}
for tool in tar gzip sha256sum ldd dpkg-query unshare; do
  command -v "$tool" >/dev/null || { echo "build-image.sh: $tool is missing (apt-get install $tool)" >&2; exit 69; }
done
java_home=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}
[[ -x $java_home/bin/jlink ]] || { echo "build-image.sh: no jlink in $java_home (JAVA_HOME must be a JDK)" >&2; exit 69; }
[[ -r $dist ]] || { echo "build-image.sh: $dist is missing: build holdfast-dist first" >&2; exit 66; }

# The modules of holdfast.jar, as `jdeps --ignore-missing-deps --print-module-deps --multi-release 17
# lib/holdfast.jar` lists them (it takes minutes on the 86 MB jar, so its answer is kept here; run it
# again after adding a dependency), plus jdk.crypto.ec, which the JDK loads as a provider (TLS with
# EC keys), on JDKs that still have it as a module of its own. Left out: jdk.jcmd (thread dumps:
# kill -QUIT, to stdout), jdk.localedata (English only). java.desktop (18 MB of 82) is kept for
# java.beans, which Jackson's databind (ext) and Micrometer's logging binder use (jdeps
# -verbose:package; H2's tools use AWT too, never run here).
modules=java.base,java.compiler,java.desktop,java.instrument,java.naming,java.net.http,java.scripting
modules+=,java.security.jgss,java.security.sasl,java.sql,jdk.httpserver,jdk.jfr,jdk.management,jdk.net
modules+=,jdk.unsupported
# java.xml: the AWS SDK's S3 client (backups to an object store) parses S3's answers with StAX
# (jdeps on its jars: java.base,java.xml). java.desktop and java.sql bring it too; named here so
# that dropping them does not break s3:// backups.
modules+=,java.xml
if "$java_home/bin/java" --list-modules | grep -q '^jdk.crypto.ec@'; then
  modules+=,jdk.crypto.ec
fi
# Options every JVM of the image starts with, baked into the runtime so that JAVA_TOOL_OPTIONS and
# JDK_JAVA_OPTIONS stay free for the user (and override these): the heap sized by the container's
# memory limit, and an out-of-memory error ends the process for the orchestrator to restart.
# Headless: java.desktop is there for java.beans, not for AWT (whose X11 libraries are not).
jvm_options='-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true'
# And the class-data-sharing archive of layer 4 (below): every JVM of the image that runs
# /opt/holdfast/lib/holdfast.jar (the server, the health probes, `holdfast` commands in the
# container) maps the classes a server loads instead of parsing and verifying them from the jar.
# A JVM that runs anything else, or finds the file missing or made for another jar, starts
# without it, silently (-Xshare:auto, the default).
archive=/opt/holdfast/lib/holdfast.jsa
jvm_options+=" -XX:SharedArchiveFile=$archive"
# java.desktop's native libraries for graphics and sound: never loaded headless, so their libraries
# (X11, ALSA, freetype) are not copied.
desktop_natives='libawt_xawt|libawt\.so|libfontmanager|libjawt|libsplashscreen|libjsound|liblcms|libmlib_image|libjavajpeg'

work=$(mktemp -d "${TMPDIR:-/tmp}/holdfast-image.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

tar -xzf "$dist" -C "$work"
home=$(echo "$work"/holdfast-*)
[[ -r $home/lib/holdfast.jar ]] || { echo "build-image.sh: $dist has no lib/holdfast.jar" >&2; exit 65; }
epoch=${SOURCE_DATE_EPOCH:-$(stat -c %Y "$home/lib/holdfast.jar")}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)

# Layer 2: the runtime.
mkdir -p "$work/jre/opt"
"$java_home/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
  --add-options="$jvm_options" --output "$work/jre/opt/java"
# Layer 1, made once the runtime is: the C libraries that the runtime's binaries and libraries
# link, and the loader, found with ldd; glibc's compatibility stubs (libpthread, libdl, librt) and
# libresolv too, which native libraries in holdfast.jar (Netty's) may link. Copied to the path ldd
# names (/lib/...), with each Debian package's copyright file.
sys=$work/sys
mapfile -t needed < <(find "$work/jre" -type f \( -name '*.so' -o -path '*/bin/*' \) | grep -v -E "$desktop_natives" |
  xargs ldd 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/.*ld-linux/ {print $1}' |
  grep -v -F "$work" | sort -u)
libc=$(printf '%s\n' "${needed[@]}" | grep '/libc\.so\.' | head -n 1)
[[ -n $libc ]] || { echo "build-image.sh: ldd found no libc for $java_home's runtime" >&2; exit 70; }
for extra in libpthread.so.0 libdl.so.2 librt.so.1 libresolv.so.2; do
  [[ -e ${libc%/*}/$extra ]] && needed+=("${libc%/*}/$extra")
done
packages=()
for lib in "${needed[@]}"; do
  mkdir -p "$sys${lib%/*}"
  cp -L -- "$lib" "$sys$lib"
  pkg=$(dpkg-query -S "$lib" 2>/dev/null || dpkg-query -S "/usr$lib" 2>/dev/null || dpkg-query -S "$(readlink -f "$lib")") ||
    { echo "build-image.sh: no Debian package owns $lib" >&2; exit 70; }
  packages+=("${pkg%%:*}")
done
mkdir -p "$sys/usr/share/doc/holdfast-image"
mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
for pkg in "${packages[@]}"; do
  mkdir -p "$sys/usr/share/doc/$pkg"
  cp -- "/usr/share/doc/$pkg/copyright" "$sys/usr/share/doc/$pkg/copyright"
  dpkg-query -W -f='${Package} ${Version} ${Architecture}\n' "$pkg" >>"$sys/usr/share/doc/holdfast-image/packages"
done
# The JDK that jlink took the runtime's modules from (its jmods), a Debian package too.
runtime_pkg=$(dpkg-query -S "$(readlink -f "$java_home/jmods/java.base.jmod")" 2>/dev/null) ||
  { echo "build-image.sh: no Debian package owns $java_home/jmods/java.base.jmod: the image's runtime is jlink'ed from Debian's JDK at the version debian-packages.txt pins (JAVA_HOME=/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture))" >&2; exit 70; }
runtime_pkg=${runtime_pkg%%:*}
dpkg-query -W -f='${Package} ${Version} ${Architecture}\n' "$runtime_pkg" >"$sys/usr/share/doc/holdfast-image/runtime"
# Every package at the version debian-packages.txt pins, and nothing pinned for this architecture unused.
host_arch=$(dpkg --print-architecture)
pinned_file=$here/debian-packages.txt
mismatches=()
for pkg in "${packages[@]}" "$runtime_pkg"; do
  have=$(dpkg-query -W -f='${Version}' "$pkg")
  pinned=$(awk -v p="$pkg" -v a="$host_arch" '$1 == p && $2 == a { print $3 }' "$pinned_file")
  if [[ -z $pinned ]]; then
    mismatches+=("$pkg $have is needed but not pinned")
  elif [[ $pinned != "$have" ]]; then
    mismatches+=("$pkg is $have on this host, pinned $pinned")
  fi
done
while read -r pkg _; do
  [[ " ${packages[*]} $runtime_pkg " == *" $pkg "* ]] || mismatches+=("$pkg is pinned but no longer needed")
done < <(awk -v a="$host_arch" '!/^#/ && NF == 3 && $2 == a' "$pinned_file")
if ((${#mismatches[@]} > 0)); then
  differ="the Debian packages differ from $pinned_file ($host_arch): $(IFS=';'; echo "${mismatches[*]}" | sed 's/;/; /g')"
  if [[ ${HOLDFAST_IMAGE_PINS:-warn} == strict ]]; then
    echo "build-image.sh: $differ; install the pinned versions (apt-get install PACKAGE=VERSION) or update the list in a commit of its own (docs/container.md)" >&2
    exit 70
  fi
  echo "build-image.sh: WARNING: $differ; building from the host's (a release, HOLDFAST_IMAGE_PINS=strict, would stop here)" >&2
fi
chmod -R a+rX,go-w "$sys"
# Layer 3: the user, the data directory, the default configuration file, /tmp.
base=$work/base
mkdir -p "$base/etc/holdfast" "$base/var/lib/holdfast" "$base/tmp"
cp "$here/rootfs/etc/passwd" "$here/rootfs/etc/group" "$here/rootfs/etc/nsswitch.conf" "$base/etc/"
cp "$here/rootfs/etc/holdfast/holdfast.properties" "$base/etc/holdfast/"
chmod 0644 "$base/etc/passwd" "$base/etc/group" "$base/etc/nsswitch.conf" "$base/etc/holdfast/holdfast.properties"
chmod 1777 "$base/tmp"
chmod 0700 "$base/var/lib/holdfast"
# Layer 4: the distribution's jar.
app=$work/app
mkdir -p "$app/opt/holdfast/lib"
cp "$home/lib/holdfast.jar" "$app/opt/holdfast/lib/"
cp "$home/LICENSE" "$app/opt/holdfast/"
# The jar's time as the layer's tar will write it: the JVM maps the archive only for the jar of the
# size and modification time it was made with.
touch -d "@$epoch" "$app/opt/holdfast/lib/holdfast.jar"
# Layer 4's class-data-sharing archive (JDK 17: a static archive; the JDK's own classes and the
# server's): the classes that `holdfast server-training` loads (three nodes in one JVM under a
# short load through the Java client, on free loopback ports, data in a temporary directory), run
# by the image's runtime, then dumped by it. CPU until a node answers /ready, measured on the
# image (docs/container.md, "The class-data archive"): 5.2-6.5 s without it, 2.5-3.3 s with it. The
# JVM records the jar by its absolute path and will not map the archive for a jar elsewhere (JDK
# 17 cannot relocate an app class path), so the dump runs in a private mount namespace (unshare
# -rm: any user with user namespaces, which Debian allows) in which layer 4 sits at /opt/holdfast.
[[ $work != /opt/* ]] || { echo "build-image.sh: TMPDIR must not be under /opt (the archive is made with /opt hidden): $work" >&2; exit 64; }
"$work/jre/opt/java/bin/java" -Xshare:off -XX:DumpLoadedClassList="$work/classes.txt" \
  -Xlog:disable -Xlog:all=error:stderr -cp "$app/opt/holdfast/lib/holdfast.jar" \
  io.holdfast.cli.Main server-training --duration 2s >"$work/training.log" 2>&1 ||
  { tail -n 20 "$work/training.log" >&2; echo "build-image.sh: the training run for the class-data archive failed (its log above)" >&2; exit 70; }
unshare -rm sh -c 'mount -t tmpfs -o mode=0755 tmpfs /opt && mkdir /opt/holdfast && mount --bind "$1" /opt/holdfast &&
  exec "$2" -Xshare:dump -XX:SharedClassListFile="$3" -XX:SharedArchiveFile="$4" -cp /opt/holdfast/lib/holdfast.jar' \
  dump "$app/opt/holdfast" "$work/jre/opt/java/bin/java" "$work/classes.txt" "$archive" >"$work/dump.log" 2>&1 ||
  { grep -v -e 'Skipping ' -e 'Preload Warning' "$work/dump.log" | tail -n 20 >&2; echo "build-image.sh: the class-data archive could not be made (unshare -rm and -Xshare:dump; their output above)" >&2; exit 70; }
[[ -s $app$archive ]] || { echo "build-image.sh: -Xshare:dump wrote no $archive" >&2; exit 70; }
chmod -R a+rX,go-w "$work/jre" "$app"

# The OCI image layout (github.com/opencontainers/image-spec: image-layout.md, manifest.md,
# config.md), written here with tar, gzip and sha256sum: each layer is a tar of its directory
# (GNU format, names sorted, owner root but for /var/lib/holdfast, times $epoch), gzipped
# without a name or time.
layout=$work/layout
blobs=$layout/blobs/sha256
mkdir -p "$blobs"
sha() { sha256sum "$1" | cut -d' ' -f1; }
# Puts a file among the blobs; prints its digest (sha256:...).
put_blob() {
  local digest
  digest=$(sha "$1")
  mv -f -- "$1" "$blobs/$digest"
  echo "sha256:$digest"
}
layer_digests=() layer_sizes=() diff_ids=()
# add_layer DIR [OWNED_PATH...]: DIR's contents as one layer at /, OWNED_PATHs owned by 10001.
add_layer() {
  local dir=$1 digest
  shift
  local names
  mapfile -t names < <(cd -- "$dir" && ls -A)
  local owned excludes=()
  for owned in "$@"; do excludes+=("--exclude=$owned"); done
  tar --format=gnu --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner "${excludes[@]}" \
    -C "$dir" -cf "$work/layer.tar" "${names[@]}"
  if (($# > 0)); then
    tar --format=gnu --mtime="@$epoch" --owner=10001 --group=10001 --numeric-owner --no-recursion \
      -C "$dir" -rf "$work/layer.tar" "$@"
  fi
  diff_ids+=("sha256:$(sha "$work/layer.tar")")
  gzip -n -6 <"$work/layer.tar" >"$work/layer.tar.gz"
  rm -f -- "$work/layer.tar"
  layer_sizes+=("$(stat -c %s "$work/layer.tar.gz")")
  digest=$(put_blob "$work/layer.tar.gz")
  layer_digests+=("$digest")
}
add_layer "$sys"
add_layer "$work/jre"
add_layer "$base" var/lib/holdfast
add_layer "$app"

arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
case $arch in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
json_list() { local sep='' x; printf '['; for x in "$@"; do printf '%s"%s"' "$sep" "$x"; sep=','; done; printf ']'; }
history() { printf '{"created":"%s","created_by":"%s"%s}' "$created" "$1" "${2:+,\"empty_layer\":true}"; }
cat >"$work/config.json" <<JSON
{"created":"$created","architecture":"$arch","os":"linux",
"config":{"User":"10001:10001","WorkingDir":"/var/lib/holdfast",
"Env":$(json_list PATH=/opt/java/bin JAVA_HOME=/opt/java HOLDFAST_DATA_DIR=/var/lib/holdfast \
  HOLDFAST_CONFIG=/etc/holdfast/holdfast.properties HOLDFAST_BIND=0.0.0.0),
"Entrypoint":$(json_list /opt/java/bin/java -jar /opt/holdfast/lib/holdfast.jar),"Cmd":["server"],
"Volumes":{"/var/lib/holdfast":{}},"ExposedPorts":{"4653/tcp":{},"4654/tcp":{},"4655/tcp":{}},
"StopSignal":"SIGTERM",
"Labels":{"org.opencontainers.image.title":"Holdfast",
"org.opencontainers.image.description":"Holdfast lock service node (holdfast server)",
"org.opencontainers.image.version":"$tag","org.opencontainers.image.licenses":"Apache-2.0"}},
"rootfs":{"type":"layers","diff_ids":$(json_list "${diff_ids[@]}")},
"history":[$(history "C libraries from Debian: ${packages[*]}"),$(history "jlink --add-modules $modules"),$(history "user holdfast (10001), /var/lib/holdfast"),
$(history "the distribution's lib/holdfast.jar, its class-data archive"),$(history "holdfast server" empty)]}
JSON
config_size=$(stat -c %s "$work/config.json")
config_digest=$(put_blob "$work/config.json")
layers_json=
for i in "${!layer_digests[@]}"; do
  layers_json+="${layers_json:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
  layers_json+="\"digest\":\"${layer_digests[$i]}\",\"size\":${layer_sizes[$i]}}"
done
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",%s,%s}' \
  "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"$config_digest\",\"size\":$config_size}" \
  "\"layers\":[$layers_json]" >"$work/manifest.json"
manifest_size=$(stat -c %s "$work/manifest.json")
manifest_digest=$(put_blob "$work/manifest.json")
printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}' \
  "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"$manifest_digest\",\"size\":$manifest_size,\"annotations\":{\"org.opencontainers.image.ref.name\":\"$tag\"}}" \
  >"$layout/index.json"

mkdir -p "$(dirname -- "$out")"
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner -C "$layout" -cf "$out.tmp" .
mv -f -- "$out.tmp" "$out"
unpacked=$(du -sb "$sys" "$work/jre" "$base" "$app" | awk '{s += $1} END {print s}')
jre=$(du -sb "$work/jre" | awk '{print $1}')
echo "build-image.sh: $out ($tag): $(stat -c %s "$out") bytes compressed, $unpacked unpacked (runtime $jre)"
