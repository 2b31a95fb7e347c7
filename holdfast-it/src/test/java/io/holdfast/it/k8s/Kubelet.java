package io.holdfast.it.k8s;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Runs {@link RenderedPod}s on this machine the way a kubelet would, inside the network namespace
 * of the process that uses it (the cluster's: see {@link RollingRestartRun}). A pod's sandbox is a
 * process holding a network namespace of its own, joined to the bridge {@code kube0} by a veth
 * pair, with the pod's IP (and a MAC made from it: {@link #mac}) on its {@code eth0}, and a mount namespace of its own in which {@code
 * /etc}, {@code /opt} and {@code /var} are copy-on-write (overlayfs) views of this machine's, so
 * that the container's paths exist as in the image: the image's two paths, bound from here, are the
 * whole mapping ({@code /opt/java} is this JDK, {@code /opt/holdfast/lib/holdfast.jar} the
 * distribution's jar); {@code /etc/hosts} holds the cluster's DNS names (the stand-in for the
 * cluster's DNS); the volumes are bound at their mount paths, ConfigMap and Secret files owned by
 * the pod's {@code fsGroup} with their {@code defaultMode}, a claim kept across the pod's restarts.
 * The container runs as the pod's user and groups ({@code setpriv}) with exactly the rendered
 * environment ({@code env -i}). Deleting a pod sends SIGTERM, waits its grace, then SIGKILL, and
 * drops its sandbox.
 */
final class Kubelet {
    /**
     * Appended to the pod's {@code JAVA_TOOL_OPTIONS}, the one change to what the manifests run: the JIT's first
     * tier only. The pods serve a test's light load for a few minutes on a machine whose two cores CI keeps busy,
     * where C2's compiles cost more CPU than its code saves them (this test alone: 111 CPU-s with C2, 2026-11-30).
     * Nothing the test checks depends on the JIT.
     */
    static final String C1_ONLY = " -XX:TieredStopAtLevel=1";

    /** A pod that runs: its sandbox and its container. */
    record Running(RenderedPod pod, Process sandbox, Process container, Path log) {}

    static final String BRIDGE = "kube0";

    private final Path work;
    private final Path jdk;
    private final Path jar;
    private final String clusterHosts;
    private final HttpClient http;
    private int sandboxes;

    Kubelet(Path work, Path jdk, Path jar, String clusterHosts) throws Exception {
        this.work = work;
        this.jdk = jdk;
        this.jar = jar;
        this.clusterHosts = clusterHosts;
        // The kubelet does not check the certificate of an HTTPS probe.
        SSLContext trustAll = SSLContext.getInstance("TLS");
        trustAll.init(null, new TrustManager[] {new TrustAny()}, null);
        this.http = HttpClient.newBuilder()
                .sslContext(trustAll)
                .connectTimeout(Duration.ofSeconds(2))
                .build();
    }

    /**
     * {@code sh -c script} with {@code args} as its {@code $0}, {@code $1}…, in a network namespace
     * and a mount namespace of its own whose mounts stay inside it ({@code unshare -n -m
     * --propagation private}): a pod's sandbox, and the cluster's node that holds the pods.
     */
    static ProcessBuilder inNamespaces(String script, String... args) {
        List<String> command =
                new ArrayList<>(List.of("unshare", "-n", "-m", "--propagation", "private", "--", "sh", "-c", script));
        command.addAll(List.of(args));
        return new ProcessBuilder(command);
    }

    /** The node's side of the pods' network: the bridge at {@code gateway}/24, and loopback. */
    static void network(String gateway) throws IOException, InterruptedException {
        sh("ip link set lo up && ip link add " + BRIDGE + " type bridge && ip addr add " + gateway + "/24 dev " + BRIDGE
                + " && ip link set " + BRIDGE + " up");
    }

    /** Starts {@code pod}: its sandbox, then its container. */
    synchronized Running start(RenderedPod pod) throws IOException, InterruptedException {
        int n = ++sandboxes;
        Path dir = work.resolve("pods").resolve(pod.name() + "-" + n);
        Files.createDirectories(dir);
        Process sandbox = inNamespaces("echo up && exec cat >/dev/null")
                .redirectErrorStream(true)
                .start();
        String up =
                new BufferedReader(new InputStreamReader(sandbox.getInputStream(), StandardCharsets.UTF_8)).readLine();
        if (!"up".equals(up)) {
            sandbox.destroyForcibly();
            throw new IOException("the sandbox of " + pod.name() + " did not start: " + up);
        }
        String pid = String.valueOf(sandbox.pid());
        String veth = "vh" + pod.ordinal() + "s" + n;
        sh("ip link add " + veth + " type veth peer name eth0 address " + mac(pod.ip()) + " netns " + pid
                + " && ip link set " + veth + " master "
                + BRIDGE + " up && nsenter -t " + pid + " -n sh -c 'ip link set lo up && ip addr add " + pod.ip()
                + "/24 dev eth0 && ip link set eth0 up'");
        StringBuilder mounts = new StringBuilder("set -e\n");
        for (String top : List.of("etc", "opt", "var")) {
            Path upper = Files.createDirectories(dir.resolve("upper-" + top));
            Path overlayWork = Files.createDirectories(dir.resolve("work-" + top));
            mounts.append("mount -t overlay overlay -o lowerdir=/%s,upperdir=%s,workdir=%s /%s\n"
                    .formatted(top, upper, overlayWork, top));
        }
        Path hosts = dir.resolve("hosts");
        Files.writeString(
                hosts, "127.0.0.1\tlocalhost\n::1\tlocalhost\n" + pod.ip() + "\t" + pod.name() + "\n" + clusterHosts);
        mounts.append("cat '%s' > /etc/hosts\n".formatted(hosts));
        mounts.append(bind(jdk, "/opt/java", true, true));
        mounts.append(bind(jar, "/opt/holdfast/lib/holdfast.jar", false, true));
        for (RenderedPod.Mount m : pod.mounts()) {
            mounts.append(bind(volume(pod, m), m.path(), true, m.readOnly()));
        }
        if (pod.security().readOnlyRoot()) {
            // readOnlyRootFilesystem: the root and the image's trees read-only in the pod's mount
            // namespace (per-mount flags: nothing outside it changes); the volumes, mounted on top,
            // keep their own.
            mounts.append("mount -o remount,bind,ro /\n");
            for (String top : List.of("etc", "opt", "var")) {
                mounts.append("mount -o remount,ro /%s\n".formatted(top));
            }
        }
        sh("nsenter -t " + pid + " -m sh -c " + quote(mounts.toString()));
        List<String> command = new ArrayList<>(List.of(
                "nsenter",
                "-t",
                pid,
                "-n",
                "-m",
                "--",
                "setpriv",
                "--reuid=" + pod.runAsUser(),
                "--regid=" + pod.runAsGroup(),
                "--groups=" + pod.fsGroup()));
        if (pod.security().noNewPrivileges()) {
            command.add("--no-new-privs"); // allowPrivilegeEscalation: false
        }
        if (pod.security().noCapabilities()) {
            command.addAll(List.of("--inh-caps=-all", "--bounding-set=-all")); // drop: [ALL]
        }
        command.addAll(List.of("--", "env", "-i"));
        pod.env().forEach((k, v) -> command.add(k + "=" + v + (k.equals("JAVA_TOOL_OPTIONS") ? C1_ONLY : "")));
        command.addAll(pod.command());
        Path log = work.resolve("logs").resolve(pod.name() + ".log");
        Files.createDirectories(log.getParent());
        Files.writeString(
                log,
                "=== " + pod.name() + " (sandbox " + n + "): " + String.join(" ", command) + "\n",
                java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND);
        Process container = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        return new Running(pod, sandbox, container, log);
    }

    /**
     * Deletes the pod: SIGTERM to its container, SIGKILL once its grace is over, then its sandbox.
     * Returns the container's exit code, or -1 if it had to be killed.
     */
    int delete(Running r) throws InterruptedException {
        r.container().destroy();
        int code = -1;
        if (r.container().waitFor(r.pod().graceSeconds(), TimeUnit.SECONDS)) {
            code = r.container().exitValue();
        } else {
            r.container().destroyForcibly().waitFor();
        }
        r.sandbox().destroyForcibly().waitFor();
        return code;
    }

    /**
     * The confinement the pod's container runs in, read from its process ({@code /proc/PID}):
     * {@code NoNewPrivs}, the capability bounding set, and whether its root is mounted read-only.
     *
     * @throws IllegalStateException if what the pod's {@code securityContext} asks is not in force
     */
    String checkConfinement(Running r) throws IOException {
        long pid = r.container().pid();
        String status = Files.readString(Path.of("/proc/" + pid + "/status"));
        String noNewPrivs = field(status, "NoNewPrivs");
        String bounding = field(status, "CapBnd");
        String rootOptions = Files.readAllLines(Path.of("/proc/" + pid + "/mountinfo")).stream()
                .map(l -> l.split(" "))
                .filter(f -> f.length > 5 && f[4].equals("/"))
                .reduce((a, b) -> b) // the last mount at / is the one in force
                .map(f -> f[5])
                .orElse("?");
        boolean rootReadOnly = List.of(rootOptions.split(",")).contains("ro");
        String seen = "NoNewPrivs " + noNewPrivs + ", CapBnd " + bounding + ", / " + rootOptions;
        RenderedPod.Security asked = r.pod().security();
        if ((asked.noNewPrivileges() && !"1".equals(noNewPrivs))
                || (asked.noCapabilities() && !bounding.matches("0+"))
                || (asked.readOnlyRoot() && !rootReadOnly)) {
            throw new IllegalStateException(r.pod().name() + " runs with " + seen + ", not as " + asked);
        }
        return seen;
    }

    private static String field(String status, String name) {
        return status.lines()
                .filter(l -> l.startsWith(name + ":"))
                .map(l -> l.substring(name.length() + 1).strip())
                .findFirst()
                .orElse("?");
    }

    /** Probes as the kubelet does: the startup probe until it passes, then readiness until it passes. */
    void awaitReady(Running r, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        awaitProbe(r, r.pod().startup(), within);
        awaitProbe(r, r.pod().readiness(), Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    }

    /** Probes {@code p} every period until it passes; an AssertionError after {@code within} or if the container exits. */
    void awaitProbe(Running r, RenderedPod.Probe p, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (p != null && !passes(r.pod(), p)) {
            if (!r.container().isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError(r.pod().name() + " did not pass " + p + " within " + within
                        + (r.container().isAlive()
                                ? ""
                                : " (it exited " + r.container().exitValue() + ")"));
            }
            Thread.sleep(TimeUnit.SECONDS.toMillis(p.periodSeconds()));
        }
    }

    /** One probe: an answer from 200 to 399 passes. */
    boolean passes(RenderedPod pod, RenderedPod.Probe p) throws InterruptedException {
        URI uri = URI.create(
                p.scheme().toLowerCase(java.util.Locale.ROOT) + "://" + pod.ip() + ":" + p.port() + p.path());
        try {
            int status = http.send(
                            HttpRequest.newBuilder(uri)
                                    .timeout(Duration.ofSeconds(2))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding())
                    .statusCode();
            return status >= 200 && status < 400;
        } catch (IOException e) {
            return false;
        }
    }

    /** The directory the kubelet binds at {@code m}'s path: the pod's claim, or the volume's files. */
    private Path volume(RenderedPod pod, RenderedPod.Mount m) throws IOException {
        Path dir;
        if (m.persistent()) {
            dir = work.resolve("claims").resolve(m.claim());
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir);
                Files.setAttribute(dir, "unix:gid", (int) pod.fsGroup());
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxr-x"));
            }
            return dir;
        }
        dir = work.resolve("volumes").resolve(pod.name() + "-" + sandboxes).resolve(m.volume());
        Files.createDirectories(dir);
        if (m.empty()) {
            // An emptyDir: new for each start of the pod, writable by any user (the kubelet's 0777).
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
            return dir;
        }
        for (Map.Entry<String, byte[]> f : m.files().entrySet()) {
            Path file = Files.write(dir.resolve(f.getKey()), f.getValue());
            Files.setAttribute(file, "unix:gid", (int) pod.fsGroup());
            Files.setPosixFilePermissions(file, permissions(m.mode()));
        }
        return dir;
    }

    /**
     * The MAC address of a pod's {@code eth0}, made from its IP: a pod started again at the same
     * IP has the same MAC, so its neighbours' ARP caches stay right. (With a new MAC at an old IP,
     * packets to it go to the old MAC until their cache entries go stale, tens of seconds.)
     */
    static String mac(String ip) {
        StringBuilder mac = new StringBuilder("02:00");
        for (String octet : ip.split("\\.")) {
            mac.append(':').append(String.format("%02x", Integer.parseInt(octet)));
        }
        return mac.toString();
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        StringBuilder s = new StringBuilder();
        String rwx = "rwx";
        for (int bit = 8; bit >= 0; bit--) {
            s.append((mode & (1 << bit)) != 0 ? rwx.charAt(2 - bit % 3) : '-');
        }
        return PosixFilePermissions.fromString(s.toString());
    }

    private static String bind(Path from, String to, boolean directory, boolean readOnly) {
        String make =
                directory ? "mkdir -p '" + to + "'" : "mkdir -p \"$(dirname '" + to + "')\" && touch '" + to + "'";
        return make + " && mount --bind '" + from + "' '" + to + "'"
                + (readOnly ? " && mount -o remount,bind,ro '" + to + "'" : "") + "\n";
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\"'\"'") + "'";
    }

    static void sh(String script) throws IOException, InterruptedException {
        Process p =
                new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("`" + script + "` failed (exit " + p.exitValue() + "): " + out.strip());
        }
    }

    private static final class TrustAny implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
