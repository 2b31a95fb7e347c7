package io.holdfast.it.k8s;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The Kubernetes manifests' pods run on this machine and restarted as a StatefulSet's rolling
 * update does, with clients holding and waiting throughout. Runs as root in a network namespace
 * and mount namespace of its own, whose {@code /etc/hosts} is the file {@code HOSTS} (see {@link
 * KubernetesRollingRestartTest}): it adds the cluster's DNS names there, for its clients.
 *
 * <ol>
 *   <li>The Secrets, by {@code deploy/kubernetes/make-secrets.sh default DIR}, as docs/kubernetes.md
 *       has them made.
 *   <li>Pods holdfast-0..2 rendered from the manifests and those Secrets ({@link Manifests}), started
 *       at once ({@code podManagementPolicy: Parallel}) by the {@link Kubelet}, each until ready.
 *   <li>Two clients of the clients' Service (its name resolves to every pod: the Service's
 *       endpoints), each taking {@code jobs/k8s} in turn, holding it 100 ms, releasing it.
 *   <li>Each pod from the highest ordinal down: deleted (SIGTERM, its grace), started again on its
 *       claim, ready before the next; the clients must have been granted again in between.
 *   <li>With the argument {@code grow}: the cluster grown to five as docs/kubernetes.md says ({@link
 *       #grow}), the clients going on.
 *   <li>Checked: no grant lost or refused, no two holders at once, fencing tokens rising, and a
 *       leader handed its leadership over on SIGTERM at least once.
 * </ol>
 *
 * <p>Arguments: MANIFESTS-DIR JAR WORK-DIR HOSTS [grow]. Prints what it does; exits 0 when every check
 * holds, 1 naming the first that did not. Its pods end with it.
 */
public final class RollingRestartRun {
    static final String NAMESPACE = "default";
    static final int REPLICAS = 3;
    /** The members after "Grow from 3 to 5" in docs/kubernetes.md. */
    static final int GROWN = 5;

    static final Manifests.Image IMAGE = new Manifests.Image(
            List.of("/opt/java/bin/java", "-jar", "/opt/holdfast/lib/holdfast.jar"), List.of("server"));

    /**
     * The clients' session TTL: it must cover a leader's stop when its hand-over does not finish and
     * the others elect one. Idle, that is a second or two; on a machine whose CPUs are shared many
     * times over, an election took 8 s and 10 s (the default) expired a session once in three runs.
     */
    static final Duration SESSION_TTL = Duration.ofSeconds(30);

    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private final Object history = new Object();
    private String holder;
    private long lastToken;
    private int grants;
    private final AtomicBoolean stop = new AtomicBoolean();

    private final boolean growing;

    private RollingRestartRun(boolean grow) {
        this.growing = grow;
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("jdk.internal.httpclient.disableHostnameVerification", "true");
        RollingRestartRun run = new RollingRestartRun(args.length > 4 && args[4].equals("grow"));
        String failure = run.run(Path.of(args[0]), Path.of(args[1]), Path.of(args[2]), Path.of(args[3]));
        if (failure != null) {
            System.out.println("FAILED: " + failure);
            System.exit(1);
        }
        System.out.println("OK");
        System.exit(0);
    }

    private String run(Path manifests, Path jar, Path work, Path hostsFile) throws Exception {
        long t0 = System.nanoTime();
        Path secrets = work.resolve("secrets");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder makeSecrets = new ProcessBuilder(
                        "bash", manifests.resolve("make-secrets.sh").toString(), NAMESPACE, secrets.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.INHERIT);
        makeSecrets.environment().put("HOLDFAST", java + " -jar " + jar);
        Process make = makeSecrets.start();
        if (make.waitFor() != 0) {
            return "make-secrets.sh exited " + make.exitValue();
        }
        Manifests m = Manifests.read(manifests, secrets.resolve("secrets.yaml"));
        List<RenderedPod> pods = new ArrayList<>();
        StringBuilder hosts = new StringBuilder("127.0.0.1\tlocalhost\n");
        StringBuilder service = new StringBuilder();
        for (int i = 0; i < GROWN; i++) {
            RenderedPod pod = m.pod("holdfast", i, NAMESPACE, ip(i), IMAGE);
            hosts.append(pod.ip())
                    .append('\t')
                    .append(pod.peerName("holdfast-peers"))
                    .append('\n');
            if (i < REPLICAS) {
                pods.add(pod);
                service.append(pod.ip()).append("\tholdfast.").append(NAMESPACE).append(".svc.cluster.local\n");
            }
        }
        String clusterHosts = hosts.append(service).toString();
        Files.writeString(hostsFile, clusterHosts);
        Kubelet.network("10.244.0.1");
        Kubelet kubelet = new Kubelet(work, Path.of(System.getProperty("java.home")), jar, clusterHosts);
        RenderedPod first = pods.get(0);
        System.out.println("pod " + first.name() + ": " + String.join(" ", first.command()));
        first.env().forEach((k, v) -> System.out.println("  " + k + "=" + v));
        first.mounts()
                .forEach(x -> System.out.println("  mount " + x.path() + " <- " + x.volume() + " "
                        + x.files().keySet()));
        List<Kubelet.Running> running = new ArrayList<>();
        List<Thread> clients = new ArrayList<>();
        try {
            for (RenderedPod pod : pods) {
                running.add(kubelet.start(pod));
            }
            for (Kubelet.Running r : running) {
                kubelet.awaitReady(r, Duration.ofSeconds(120));
            }
            System.out.printf("3 pods ready after %.1fs%n", seconds(t0));
            for (Kubelet.Running r : running) {
                System.out.println(r.pod().name() + " runs with " + kubelet.checkConfinement(r));
            }
            String uri = "holdfast://holdfast." + NAMESPACE + ".svc.cluster.local:4653?ca=" + secrets.resolve("ca.pem")
                    + "&token-file=" + secrets.resolve("app.token") + "&connectTimeout=30s";
            for (String name : List.of("c1", "c2")) {
                Thread t = new Thread(() -> client(name, uri), name);
                t.start();
                clients.add(t);
            }
            awaitGrants(5, Duration.ofSeconds(60));
            Path logs = work.resolve("logs");
            int leaderStops = 0;
            for (int i = REPLICAS - 1; i >= 0 && failures.isEmpty(); i--) {
                leaderStops += restart(kubelet, running, i, logs);
            }
            if (leaderStops == 0 && failures.isEmpty()) {
                // Leadership moved between the restarts (a slow machine's election) so that no pod was
                // stopped while it led: restart the leader once more, as a rollout of a changed pod would.
                String leader = leader(logs, pods);
                System.out.println("no pod led when it was stopped; the leader " + leader + " is restarted once more");
                for (int i = 0; i < REPLICAS; i++) {
                    if (pods.get(i).name().equals(leader)) {
                        restart(kubelet, running, i, logs);
                    }
                }
            }
            if (growing && failures.isEmpty()) {
                grow(manifests, secrets, kubelet, running, java + " -jar " + jar);
            }
            awaitGrants(grants() + 3, Duration.ofSeconds(60));
        } catch (AssertionError e) {
            failures.add(e.getMessage());
        } finally {
            stop.set(true);
            for (Thread t : clients) {
                t.join(TimeUnit.SECONDS.toMillis(90));
            }
            for (Kubelet.Running r : running) {
                kubelet.delete(r);
            }
        }
        int handOvers = 0;
        List<String> outcomes = new ArrayList<>();
        for (RenderedPod pod : pods) {
            for (String l : lines(work.resolve("logs"), pod)) {
                if (l.contains("LeaderHandOver")) {
                    outcomes.add(pod.name() + ": " + l);
                    handOvers += l.contains("handed its leadership") ? 1 : 0;
                }
            }
        }
        System.out.printf(
                "%d grants, last fencing token %d, %d hand-overs on SIGTERM, %.1fs in all%n",
                grants(), lastToken(), handOvers, seconds(t0));
        if (!failures.isEmpty()) {
            return failures.peek() + " (logs in " + work.resolve("logs") + ")";
        }
        return handOvers == 0
                ? "no leader handed its leadership over on SIGTERM; the stopping leaders logged " + outcomes
                        + " (logs in " + work.resolve("logs") + ")"
                : null;
    }

    /**
     * "Grow from 3 to 5" in docs/kubernetes.md, steps 1 and 2: the StatefulSet with {@code replicas:
     * 5} and two more peers; pods holdfast-3 and holdfast-4 started from it; each added with {@code
     * holdfast members add} once it serves, then ready. (Step 3, the first pods restarted with the new
     * list, is the rolling restart above.)
     */
    private void grow(Path manifests, Path secrets, Kubelet kubelet, List<Kubelet.Running> running, String holdfast)
            throws Exception {
        Path edited = Files.createDirectories(secrets.resolveSibling("grown"));
        String last = "holdfast-2=holdfast-2.holdfast-peers.$(POD_NAMESPACE).svc.cluster.local:4654";
        String set = Files.readString(manifests.resolve("statefulset.yaml"));
        if (!set.contains(last) || !set.contains("replicas: 3")) {
            throw new AssertionError("statefulset.yaml has no '" + last + "' or 'replicas: 3' to grow from");
        }
        Files.writeString(
                edited.resolve("statefulset.yaml"),
                set.replace("replicas: 3", "replicas: 5")
                        .replace(
                                last,
                                last + ",holdfast-3=holdfast-3.holdfast-peers.$(POD_NAMESPACE).svc.cluster.local:4654"
                                        + ",holdfast-4=holdfast-4.holdfast-peers.$(POD_NAMESPACE).svc.cluster.local:4654"));
        Manifests grown = Manifests.read(
                edited,
                manifests.resolve("services.yaml"),
                manifests.resolve("config.yaml"),
                secrets.resolve("secrets.yaml"));
        String admin = "holdfast://holdfast." + NAMESPACE + ".svc.cluster.local:4653?ca=" + secrets.resolve("ca.pem")
                + "&token-file=" + secrets.resolve("admin.token") + "&connectTimeout=30s";
        for (int i = REPLICAS; i < GROWN; i++) {
            long t0 = System.nanoTime();
            RenderedPod pod = grown.pod("holdfast", i, NAMESPACE, ip(i), IMAGE);
            Kubelet.Running r = kubelet.start(pod);
            running.add(r);
            kubelet.awaitProbe(r, pod.startup(), Duration.ofSeconds(120));
            String member = pod.name() + "=" + pod.peerName("holdfast-peers") + ":4654:4653";
            Process add = new ProcessBuilder(
                            "sh", "-c", holdfast + " members add \"$0\" --backend \"$1\"", member, admin)
                    .redirectErrorStream(true)
                    .start();
            String out = new String(add.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (add.waitFor() != 0 || !out.contains(pod.name())) {
                throw new AssertionError("holdfast members add " + member + " exited " + add.exitValue() + ": " + out);
            }
            kubelet.awaitReady(r, Duration.ofSeconds(120));
            awaitGrants(grants() + 3, Duration.ofSeconds(60));
            System.out.printf("%s: added and ready %.1fs after it started%n%s%n", pod.name(), seconds(t0), out.strip());
        }
    }

    private static String ip(int ordinal) {
        return "10.244.0." + (10 + ordinal);
    }

    /**
     * Deletes pod {@code i} (SIGTERM, its grace), starts it again on its claim and waits until it is
     * ready and the clients have been granted 3 more times.
     *
     * @return 1 when the pod led when it was stopped, as its log had it; else 0
     */
    private int restart(Kubelet kubelet, List<Kubelet.Running> running, int i, Path logs) throws Exception {
        Kubelet.Running old = running.get(i);
        List<RenderedPod> three =
                running.subList(0, REPLICAS).stream().map(Kubelet.Running::pod).toList();
        boolean led = old.pod().name().equals(leader(logs, three));
        long d0 = System.nanoTime();
        int code = kubelet.delete(old);
        long d1 = System.nanoTime();
        Kubelet.Running fresh = kubelet.start(old.pod());
        running.set(i, fresh);
        kubelet.awaitReady(fresh, Duration.ofSeconds(120));
        int before = grants();
        awaitGrants(before + 3, Duration.ofSeconds(60));
        System.out.printf(
                "%s%s: stopped in %.1fs (exit %d) after SIGTERM, ready again and 3 more grants %.1fs later (%d in all)%n",
                old.pod().name(), led ? " (the leader)" : "", (d1 - d0) / 1e9, code, seconds(d1), grants());
        if (code < 0) {
            failures.add(old.pod().name() + " was still running " + old.pod().graceSeconds()
                    + "s after SIGTERM (its grace) and was killed");
        }
        return led ? 1 : 0;
    }

    /**
     * The pod that leads, as the logs have it: the one whose line "Node … leads: …" is the latest.
     * The pods log one JSON object per line ({@code log-format = json} in config.yaml), stamped with
     * this machine's clock in milliseconds, which every pod shares.
     */
    static String leader(Path logs, List<RenderedPod> pods) throws java.io.IOException {
        String leader = null;
        long at = Long.MIN_VALUE;
        for (RenderedPod pod : pods) {
            for (String l : lines(logs, pod)) {
                java.util.regex.Matcher stamp = TIMESTAMP.matcher(l);
                if (l.contains("LeaderDuties") && l.contains(" leads: ") && stamp.find()) {
                    long t = Long.parseLong(stamp.group(1));
                    if (t >= at) {
                        at = t;
                        leader = pod.name();
                    }
                }
            }
        }
        return leader;
    }

    private static final java.util.regex.Pattern TIMESTAMP = java.util.regex.Pattern.compile("\"timestamp\":(\\d+)");

    private static List<String> lines(Path logs, RenderedPod pod) throws java.io.IOException {
        Path log = logs.resolve(pod.name() + ".log");
        return Files.exists(log) ? Files.readAllLines(log, java.nio.charset.StandardCharsets.ISO_8859_1) : List.of();
    }

    /** One client: takes the lock in turn with the other, holds it, releases it, until stopped; records every grant. */
    private void client(String name, String uri) {
        try (LockClient client = LockClient.open(
                uri, ClientOptions.builder().sessionTtl(SESSION_TTL).build())) {
            while (!stop.get()) {
                Lease lease = client.lock("jobs/k8s").acquire(Duration.ofSeconds(60));
                lease.onLost(e -> failures.add(name + " lost its grant (token " + lease.fencingToken() + "): " + e));
                synchronized (history) {
                    if (holder != null) {
                        failures.add(
                                name + " was granted token " + lease.fencingToken() + " while " + holder + " held");
                    }
                    if (lease.fencingToken() <= lastToken) {
                        failures.add(name + " was granted token " + lease.fencingToken() + " after " + lastToken);
                    }
                    holder = name;
                    lastToken = lease.fencingToken();
                    grants++;
                }
                Thread.sleep(100);
                lease.checkValid();
                synchronized (history) {
                    holder = null;
                }
                lease.release();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            failures.add(name + ": " + e);
        }
    }

    private void awaitGrants(int count, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (grants() < count) {
            if (!failures.isEmpty()) {
                throw new AssertionError(failures.peek());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        "the clients were granted " + grants() + " times, not " + count + ", within " + within);
            }
            Thread.sleep(50);
        }
    }

    private int grants() {
        synchronized (history) {
            return grants;
        }
    }

    private long lastToken() {
        synchronized (history) {
            return lastToken;
        }
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
