package io.holdfast.it.conformance;

import io.holdfast.it.ServerProcesses;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Whether the service goes on serving writes after it returned from {@link OutageTest}'s outage:
 * every {@value #PAUSE_MILLIS} ms, on a thread of its own until closed, the leader is asked to
 * open a session for the test (a Raft write; the session is ended at once, unwaited), and each
 * probe is kept with when it was sent, when it ended and whether it was served within the
 * timeout. A probe that finds no leader, is refused, or is not answered in time is a gap.
 *
 * <p>What it is for: the clients are held to coming back within 5 s of the service's return,
 * and a machine that runs the verifier's scenarios beside the test can take the service away
 * again right after it returned (stop 90's CI: a write served, then elections after stalls of the
 * restarted JVMs of up to 1.1 s, and no write acknowledged for 30 s). A client cannot register
 * while nothing is written; its 5 s then count from the service's last return before the
 * registration was seen ({@link #lastReturn}), never from a moment when the probes say it did not
 * serve. A client that does not come back while the service serves still fails: the gaps are
 * the probes', not the clients'.
 */
final class ServingProbe implements AutoCloseable {
    /** The pause between two probes. */
    static final long PAUSE_MILLIS = 250;

    /** One probe: sent and ended ({@link System#nanoTime}), and whether a write was served. */
    record Probe(long sent, long ended, boolean served, String outcome) {}

    private final HttpClient http = HttpClient.newHttpClient();
    private final ServerProcesses cluster;
    private final int ttlMillis;
    private final Duration timeout;
    private final List<Probe> probes = new ArrayList<>();
    private final Thread thread;
    private volatile boolean closed;

    /** Starts probing at once. */
    ServingProbe(ServerProcesses cluster, int ttlMillis, Duration timeout) {
        this.cluster = cluster;
        this.ttlMillis = ttlMillis;
        this.timeout = timeout;
        this.thread = new Thread(this::run, "outage-serving-probe");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        while (!closed) {
            long sent = System.nanoTime();
            String outcome = probe();
            long ended = System.nanoTime();
            if (closed) {
                return; // interrupted by close: no probe of the service
            }
            synchronized (probes) {
                probes.add(new Probe(sent, ended, outcome == null, outcome == null ? "served" : outcome));
            }
            try {
                TimeUnit.MILLISECONDS.sleep(PAUSE_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Null if the leader served a write within the timeout, else why not. */
    private String probe() {
        int node = cluster.leader();
        if (node < 0) {
            return "no leader";
        }
        try {
            HttpResponse<String> r = http.send(
                    HttpRequest.newBuilder(URI.create(cluster.httpUrl(node) + "/api/v1/sessions"))
                            .timeout(timeout)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(
                                    "{\"clientName\":\"outage-serving-probe\",\"ttlMillis\":" + ttlMillis + "}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200 && r.statusCode() != 201) {
                return "n" + (node + 1) + " answered " + r.statusCode();
            }
            String id = Driver.JSON.readTree(r.body()).path("sessionId").asText();
            http.sendAsync(
                    HttpRequest.newBuilder(URI.create(cluster.httpUrl(node) + "/api/v1/sessions/" + id + "/end"))
                            .timeout(timeout)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString("{}"))
                            .build(),
                    HttpResponse.BodyHandlers.discarding());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } catch (Exception e) {
            return "n" + (node + 1) + ": " + e.getClass().getSimpleName();
        }
    }

    private List<Probe> probes() {
        synchronized (probes) {
            return new ArrayList<>(probes);
        }
    }

    /**
     * When the service last returned before {@code seen}: {@code back}, unless a probe that ended
     * before {@code seen} was not served; then the end of the first served probe after the last
     * such gap, or {@code seen} if none was served after it before then.
     */
    long lastReturn(long back, long seen) {
        return lastReturn(probes(), back, seen);
    }

    /** {@link #lastReturn(long, long)} of these probes, in the order they were sent. */
    static long lastReturn(List<Probe> probes, long back, long seen) {
        long last = back;
        boolean inGap = false;
        for (Probe p : probes) {
            if (p.ended() - seen >= 0) {
                break; // the probes run one after the other: every later one ended later
            }
            if (!p.served()) {
                inGap = true;
            } else if (inGap) {
                last = p.ended();
                inGap = false;
            }
        }
        return inGap ? seen : last;
    }

    /**
     * The gaps in words, in ms from {@code from}: each run of probes that were not served, with
     * their count and their first outcome; "none" if every probe was served.
     */
    String gaps(long from) {
        List<String> out = new ArrayList<>();
        Probe first = null;
        int count = 0;
        List<Probe> all = probes();
        for (int i = 0; i <= all.size(); i++) {
            Probe p = i < all.size() ? all.get(i) : null;
            if (p != null && !p.served()) {
                if (first == null) {
                    first = p;
                }
                count++;
            } else if (first != null) {
                long end = p == null ? all.get(all.size() - 1).ended() : p.ended();
                out.add(String.format(
                        "%+d..%+d ms (%d probes, the first: %s)",
                        ms(first.sent() - from), ms(end - from), count, first.outcome()));
                first = null;
                count = 0;
            }
        }
        return (out.isEmpty() ? "none" : String.join(", ", out)) + " in " + all.size() + " probes";
    }

    private static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        thread.interrupt();
        thread.join(timeout.toMillis() + 1_000);
    }
}
