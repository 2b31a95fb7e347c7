package io.holdfast.bench.population;

import io.holdfast.bench.population.Nodes.Node;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Many held locks on a live cluster of real server processes ({@link Nodes}), and what they cost the members:
 * heap per held lock on the leader and the followers (after a full GC), the snapshot (its size on disk and the
 * time to write it, from the nodes' logs), a follower's restart with that state (process start to ready, and to
 * the leader's applied index), and a follower's catch-up from the leader's snapshot (it is stopped while the
 * leader's log moves on past a snapshot, so that the leader must send it one).
 *
 * <p>The locks are taken as the population benchmark takes them ({@link Crowd}): sessions of the real Java client
 * share connections, held lock {@code i} is taken by session {@code i mod sessions}, 256 acquires in flight; each
 * connection at a home member, or, to read apart what forwarding costs, every call at the leader.
 * While the follower is down, a few clients write ({@link Disruptions}) until the leader has purged its log past
 * what the follower applied.
 *
 * <p>Guaranteed: it prints what it measured as it goes, ends with the counts the cluster holds ({@link
 * Report}), and stops every process it started. It stops early, and says why, when a step fails: a node dies,
 * sessions expire, the leader does not purge its log past the follower within the time given, a node does not catch
 * up within it. Not guaranteed: steady figures on a shared machine (the load average is printed before and
 * after). Failure story: at a size the follower cannot load, its restart or catch-up is reported as not done
 * within the limit, and its log's last error is printed.
 */
public final class HeldLocksBench {
    /** How long one request of the crowd may take: hundreds of acquires are in flight on a loaded machine. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

    /** The run's settings. */
    public record Settings(
            int sessions,
            int locks,
            Path dir,
            int basePort,
            List<String> serverJvmOptions,
            List<String> serverOptions,
            Duration sessionTtl,
            int sessionsPerConnection,
            Duration limit,
            boolean secured,
            boolean atLeader) {}

    /** What the cluster holds at the end: the checkable outcome of a run. */
    public record Report(int sessionsOpen, long sessionsExpired, int held, boolean restarted, boolean caughtUp) {}

    private final Settings settings;
    private final PrintWriter out;

    public HeldLocksBench(Settings settings, PrintWriter out) {
        this.settings = settings;
        this.out = out;
    }

    /**
     * Runs every step; returns the report, or why it stopped early.
     *
     * @throws IOException if the cluster cannot be started
     */
    public Result run() throws IOException, InterruptedException {
        Files.createDirectories(settings.dir());
        List<String> ids = List.of("n1", "n2", "n3");
        Secured secured = settings.secured() ? Secured.create(settings.dir().resolve("certs"), ids) : null;
        print("load before: %s", loadAverage());
        try (Nodes nodes = new Nodes(
                settings.dir(),
                ids.size(),
                settings.basePort(),
                settings.serverJvmOptions(),
                settings.serverOptions(),
                secured)) {
            nodes.startAll(Duration.ofSeconds(120));
            print(
                    "cluster: 3 nodes, server JVM %s, %s, data in %s",
                    settings.serverJvmOptions(),
                    secured == null ? "plaintext, no access rules" : "TLS and access rules lifting the quotas",
                    settings.dir());
            String uri = nodes.backendUri();
            if (settings.atLeader()) {
                uri += (uri.contains("?") ? "&" : "?") + "calls=leader"; // no home member: nothing forwarded
            }
            print("clients: %s", settings.atLeader() ? "every call to the leader" : "each connection at a home member");
            try (Crowd crowd =
                    new Crowd(uri, settings.sessionTtl(), settings.sessionsPerConnection(), REQUEST_TIMEOUT)) {
                return measure(nodes, crowd);
            } catch (RuntimeException e) {
                print("load at the failure: %s", loadAverage());
                return Result.stopped(e.getMessage() + "; " + nodes.deadNodes());
            }
        }
    }

    /** The outcome: a report, or why the run stopped. */
    public record Result(Optional<Report> report, Optional<String> stopped) {
        static Result stopped(String why) {
            return new Result(Optional.empty(), Optional.of(why));
        }
    }

    private Result measure(Nodes nodes, Crowd crowd) throws InterruptedException {
        long t0 = System.nanoTime();
        crowd.growSessions(settings.sessions());
        print("sessions: %,d opened in %.1f s", crowd.sessionCount(), seconds(t0));
        Optional<Node> leader = settledLeader(nodes);
        if (leader.isEmpty()) {
            return Result.stopped("no leader with every member caught up after the sessions: " + nodes.deadNodes());
        }
        long[] before = heaps(nodes);
        print("heap after a full GC with the sessions, MB: %s (leader %s)", mbs(before), leader.get());

        t0 = System.nanoTime();
        crowd.growHeld(settings.locks());
        double took = seconds(t0);
        print(
                "held locks: %,d taken in %.1f s (%,.0f acquires/s), %d per session",
                crowd.heldCount(), took, crowd.heldCount() / took, settings.locks() / Math.max(1, settings.sessions()));
        leader = settledLeader(nodes);
        if (leader.isEmpty()) {
            return Result.stopped("no leader with every member caught up after the locks: " + nodes.deadNodes());
        }
        long[] after = heaps(nodes);
        print("heap after a full GC with the locks, MB: %s (leader %s)", mbs(after), leader.get());
        print("heap per held lock, bytes: %s", perLock(before, after, nodes, leader.get()));
        if (crowd.expiredSessions() > 0) {
            return Result.stopped(crowd.expiredSessions() + " sessions expired while the locks were taken");
        }

        List<Node> followers = nodes.all().stream()
                .filter(n -> n != nodes.leader().orElse(null))
                .toList();
        if (followers.size() < 2) {
            return Result.stopped("fewer than two followers: " + nodes.deadNodes());
        }
        boolean restarted = new Disruptions(nodes, out, settings.limit())
                .restart(followers.get(0))
                .isPresent();
        Optional<String> caughtUp = new Disruptions(nodes, out, settings.limit()).catchUpFromSnapshot(followers.get(1));
        caughtUp.ifPresent(why -> print("catch-up: %s", why));

        long[] end = heaps(nodes);
        print("heap after a full GC at the end, MB: %s", mbs(end));
        print("snapshot files on disk, bytes: %s", snapshotFiles(nodes));
        Report report = new Report(
                crowd.sessionCount() - (int) crowd.expiredSessions(),
                crowd.expiredSessions(),
                crowd.heldCount(),
                restarted,
                caughtUp.isEmpty());
        print(
                "held: %,d over %,d sessions (%,d open, %,d expired); follower restarted: %s; caught up from a"
                        + " snapshot: %s",
                report.held(),
                crowd.sessionCount(),
                report.sessionsOpen(),
                report.sessionsExpired(),
                restarted ? "yes" : "no",
                report.caughtUp() ? "yes" : "no");
        print("load after: %s", loadAverage());
        List<String> dead = nodes.deadNodes();
        if (!dead.isEmpty()) {
            return new Result(Optional.of(report), Optional.of("a node died: " + dead));
        }
        return new Result(Optional.of(report), caughtUp.map(why -> "catch-up: " + why));
    }

    /** The leader, once every live member applied what it had applied (empty if none within the limit). */
    private Optional<Node> settledLeader(Nodes nodes) throws InterruptedException {
        long end = System.nanoTime() + settings.limit().toNanos();
        while (System.nanoTime() < end) {
            Optional<Node> leader = nodes.leader();
            if (leader.isPresent()) {
                long target = nodes.status(leader.get())
                        .map(Nodes.Status::appliedIndex)
                        .orElse(Long.MAX_VALUE);
                boolean all = true;
                for (Node n : nodes.all()) {
                    all &= nodes.status(n).map(Nodes.Status::appliedIndex).orElse(-1L) >= target;
                }
                if (all) {
                    return leader;
                }
            }
            Thread.sleep(100);
        }
        return Optional.empty();
    }

    private static long[] heaps(Nodes nodes) throws InterruptedException {
        long[] heap = new long[nodes.all().size()];
        for (int i = 0; i < heap.length; i++) {
            heap[i] = Nodes.liveHeapBytes(nodes.all().get(i).pid());
        }
        return heap;
    }

    private String perLock(long[] before, long[] after, Nodes nodes, Node leader) {
        List<String> each = new ArrayList<>();
        for (int i = 0; i < before.length; i++) {
            Node n = nodes.all().get(i);
            each.add(String.format(
                    Locale.ROOT,
                    "%s %s %,.0f",
                    n,
                    n == leader ? "(leader)" : "(follower)",
                    (after[i] - before[i]) / (double) Math.max(1, settings.locks())));
        }
        return String.join(" / ", each);
    }

    private static String snapshotFiles(Nodes nodes) {
        List<String> each = new ArrayList<>();
        for (Node n : nodes.all()) {
            each.add(String.format(Locale.ROOT, "%s %,d", n, Nodes.snapshotBytesOnDisk(n)));
        }
        return String.join(" / ", each);
    }

    private static String mbs(long[] bytes) {
        List<String> each = new ArrayList<>();
        for (long b : bytes) {
            each.add(b < 0 ? "?" : String.format(Locale.ROOT, "%.0f", b / 1048576.0));
        }
        return String.join(" / ", each);
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    private void print(String format, Object... args) {
        out.printf(Locale.ROOT, format + "%n", args);
        out.flush();
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "?";
        }
    }
}
