package io.holdfast.verify.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the run's nodes say of themselves on their HTTP ports ({@code /status}, {@code /digest}),
 * which the harness reaches directly, not through the proxies: each node's own view, and the
 * leader among them. A node that does not answer in time is empty, never an error: it may be down,
 * paused or starting, and {@link Nodes} knows which.
 */
final class NodeReports {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long {@link #awaitLeader} gives a node to answer one look. */
    private static final int LEADER_LOOK_MILLIS = 2000;

    private final Nodes nodes;
    /** Every slot, member or spare, in slot order. */
    private final List<String> slots;

    NodeReports(Nodes nodes, List<String> slots) {
        this.nodes = nodes;
        this.slots = List.copyOf(slots);
    }

    /** The node's own view, or empty if it does not answer (down, paused, starting). */
    Optional<Nodes.Status> status(String id) {
        return status(id, 500);
    }

    /** The node's own view, or empty if it does not answer within {@code readTimeoutMillis}. */
    private Optional<Nodes.Status> status(String id, int readTimeoutMillis) {
        return getJson(id, "/status", readTimeoutMillis)
                .map(n -> new Nodes.Status(
                        n.path("id").asText(),
                        n.path("role").asText(),
                        n.path("leader").isNull() ? null : n.path("leader").asText(),
                        n.path("term").asLong(),
                        n.path("appliedIndex").asLong(),
                        n.path("commitIndex").asLong()));
    }

    /** The node's {@code /digest}: "appliedIndex:crc", or empty if it does not answer. */
    Optional<String> digest(String id) {
        return getJson(id, "/digest", 2000).map(n -> n.path("digest").asText());
    }

    /** GET a path of the node's HTTP port as JSON; empty if the node does not answer in time. */
    private Optional<JsonNode> getJson(String id, String path, int readTimeoutMillis) {
        try {
            HttpURLConnection http = (HttpURLConnection)
                    new URL("http://127.0.0.1:" + nodes.spec(id).httpPort() + path).openConnection();
            http.setConnectTimeout(300);
            http.setReadTimeout(readTimeoutMillis);
            try (InputStream in = http.getInputStream()) {
                return Optional.of(JSON.readTree(in));
            } finally {
                http.disconnect();
            }
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The node that says it leads, with the highest term if several do (a stale one may still think so). */
    Optional<String> leader() {
        return leader(500, new LinkedHashMap<>());
    }

    /**
     * {@link #leader()} with each status read allowed {@code readTimeoutMillis}; what each node
     * said (or why it said nothing) goes into {@code seen}.
     */
    private Optional<String> leader(int readTimeoutMillis, Map<String, String> seen) {
        Nodes.Status best = null;
        for (String id : slots) {
            if (!nodes.isUp(id) || nodes.isPaused(id)) {
                seen.put(id, nodes.isUp(id) ? "paused" : "down");
                continue;
            }
            Optional<Nodes.Status> st = status(id, readTimeoutMillis);
            seen.put(
                    id,
                    st.map(x -> x.role() + " term " + x.term() + (x.leader() == null ? "" : " leader " + x.leader())
                                    + " applied " + x.appliedIndex() + "/" + x.commitIndex())
                            .orElse("no answer in " + readTimeoutMillis + " ms"));
            if (st.isPresent()
                    && "leader".equals(st.get().role())
                    && (best == null || st.get().term() > best.term())) {
                best = st.get();
            }
        }
        return best == null ? Optional.empty() : Optional.of(best.id());
    }

    /**
     * Waits for a leader that serves ({@code /status} says "leader", not "leader-not-ready"). A
     * node is given 2 s to answer each look: on a machine at a load of ten times its cores (CI's
     * planted bugs and soak side by side) a 500 ms read may time out where the node is merely slow
     * (suspected in one soak round that found no leader, never shown).
     *
     * @throws IOException if none appears in time, naming what each node said at the last look
     */
    String awaitLeader(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, String> seen = new LinkedHashMap<>();
        while (System.nanoTime() < deadline) {
            seen.clear();
            Optional<String> l = leader(LEADER_LOOK_MILLIS, seen);
            if (l.isPresent()) {
                return l.get();
            }
            Thread.sleep(100);
        }
        throw new IOException("no leader within " + Durations.format(timeout) + " (last seen: " + describe(seen) + ")");
    }

    /** "n1 follower term 2 leader n3 …; n2 no answer in 2000 ms". */
    static String describe(Map<String, String> seen) {
        StringBuilder b = new StringBuilder();
        seen.forEach((id, what) ->
                b.append(b.length() == 0 ? "" : "; ").append(id).append(' ').append(what));
        return b.length() == 0 ? "no node" : b.toString();
    }
}
