package io.holdfast.it.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.holdfast.Keys;
import io.holdfast.LockClient;
import io.holdfast.Txn;
import io.holdfast.it.ServerProcesses;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The conformance scenario of a large prefix ({@code clients/CONFORMANCE.md}, scenario 12): 1,000
 * keys of 64 KiB (64 MB, more than any client takes in one answer) list and watch through every
 * client, and through the CLI with the Java client. The keys are written once, by the first client's
 * run; each run checks every page it is given fits {@link Keys#MAX_PAGE_BYTES}, that the pages
 * together are every key in order, and that a watch's first state holds them all, then a change.
 */
final class PageScenarios {
    static final String PREFIX = "conf/pages/";
    static final int KEYS = 1_000;

    private static final Duration SLOW = Duration.ofSeconds(30);

    private final ServerProcesses cluster;
    private final KeyScenarios.Drivers drivers;
    private final Path dir;
    private boolean written;

    /** @param dir where the CLI's output goes */
    PageScenarios(ServerProcesses cluster, KeyScenarios.Drivers drivers, Path dir) {
        this.cluster = cluster;
        this.drivers = drivers;
        this.dir = dir;
    }

    static String key(int i) {
        return PREFIX + String.format("%04d", i);
    }

    /** Key {@code i}'s value: 64 KiB of one ASCII letter, the same text in every language. */
    static byte[] value(int i) {
        byte[] v = new byte[Keys.MAX_VALUE_BYTES];
        Arrays.fill(v, (byte) ('a' + i % 26));
        return v;
    }

    /**
     * Writes the keys once: three to a transaction (the most that fit its 256 KiB), by eight
     * clients at a time, each its own session.
     */
    synchronized void write() throws Exception {
        if (written) {
            return;
        }
        int writers = 8;
        ExecutorService threads = Executors.newFixedThreadPool(writers);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int first = w;
                done.add(threads.submit(() -> {
                    try (LockClient client = LockClient.open(cluster.clientUri())) {
                        for (int i = first * 3; i < KEYS; i += writers * 3) {
                            List<Txn.Op> puts = new ArrayList<>();
                            for (int n = i; n < Math.min(i + 3, KEYS); n++) {
                                puts.add(Txn.put(key(n), value(n)));
                            }
                            client.keys().commit(Txn.when().then(puts.toArray(Txn.Op[]::new)));
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> d : done) {
                d.get(2, TimeUnit.MINUTES);
            }
        } finally {
            threads.shutdownNow();
        }
        written = true;
    }

    /**
     * The client lists the prefix page by page ({@code keyList}, following {@code more} from the
     * last key): each page fits {@link Keys#MAX_PAGE_BYTES}, together they are every key in order
     * with its value. Its watch of the prefix starts with one state of every key, then tells a
     * write. For the Java client, the CLI's {@code kv ls} and {@code kv watch} do the same.
     */
    void largePrefix(String client) throws Exception {
        write();
        try (Driver d = drivers.of(client)) {
            KeyScenarios.open(d, "c", cluster.httpUrls());
            List<JsonNode> listed = new ArrayList<>();
            String after = "";
            int pages = 0;
            while (true) {
                JsonNode page = KeyScenarios.ok(d.call(
                        Driver.op("keyList")
                                .put("client", "c")
                                .put("prefix", PREFIX)
                                .put("after", after)
                                .put("limit", Keys.MAX_PAGE),
                        60));
                pages++;
                long bytes = 0;
                for (JsonNode k : page.path("keys")) {
                    bytes += k.path("key").asText().getBytes(StandardCharsets.UTF_8).length
                            + k.path("value").asText().length();
                    listed.add(k);
                }
                assertThat(bytes)
                        .as(
                                "page %d of %d keys fits a frame",
                                pages, page.path("keys").size())
                        .isLessThanOrEqualTo(Keys.MAX_PAGE_BYTES);
                if (!page.path("more").asBoolean()) {
                    break;
                }
                assertThat(page.path("keys"))
                        .as("a page that says more holds a key")
                        .isNotEmpty();
                after = listed.get(listed.size() - 1).path("key").asText();
            }
            assertEveryKey(listed, client + "'s listing");
            assertThat(pages).as("pages").isGreaterThan(KEYS * Keys.MAX_VALUE_BYTES / Keys.MAX_PAGE_BYTES);

            KeyScenarios.ok(d.call(
                    Driver.op("watch").put("client", "c").put("watch", "big").put("keys", PREFIX), 120));
            JsonNode state = next(d);
            assertThat(state.path("type").asText()).isEqualTo("state");
            List<JsonNode> stated = new ArrayList<>();
            state.path("keys").forEach(stated::add);
            assertEveryKey(stated, client + "'s watch's state");
            try (LockClient writer = LockClient.open(cluster.clientUri())) {
                writer.keys().put(key(7), value(7));
            }
            JsonNode set = next(d);
            assertThat(set.path("type").asText() + " " + set.path("name").asText())
                    .as("the write after the state")
                    .isEqualTo("registerSet " + key(7));
            KeyScenarios.ok(d.call(Driver.op("unwatch").put("watch", "big"), 30));
        }
        if (client.equals("java")) {
            cli();
        }
    }

    /** {@code holdfast kv ls PREFIX --limit 100000} and {@code kv watch PREFIX --count 1}: a line per key. */
    private void cli() throws Exception {
        String backend = "--backend=" + cluster.clientUri();
        assertCliLines(List.of("kv", "ls", PREFIX, "--limit", "100000", backend), "", "kv ls");
        assertCliLines(List.of("kv", "watch", PREFIX, "--count", "1", backend), "STATE ", "kv watch");
    }

    private void assertCliLines(List<String> args, String lead, String what) throws Exception {
        Path out = dir.resolve(what.replace(' ', '-') + ".out");
        Process p = new ProcessBuilder(ServerProcesses.java(List.of(), args.toArray(String[]::new)))
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).as("%s exits", what).isTrue();
        List<String> lines;
        try (Stream<String> all = Files.lines(out)) {
            lines = all.map(l -> l.length() > 200 ? l.substring(0, 200) : l).toList();
        }
        assertThat(p.exitValue())
                .as("%s: %s", what, lines.subList(0, Math.min(3, lines.size())))
                .isZero();
        List<String> keys = lines.stream()
                .filter(l -> l.startsWith(lead + PREFIX))
                .map(l -> l.substring(lead.length(), l.indexOf(' ', lead.length())))
                .toList();
        assertThat(keys).as("%s prints every key once, in order", what).hasSize(KEYS);
        for (int i = 0; i < KEYS; i++) {
            assertThat(keys.get(i)).isEqualTo(key(i));
        }
    }

    private static void assertEveryKey(List<JsonNode> keys, String what) {
        assertThat(keys).as("%s: every key", what).hasSize(KEYS);
        for (int i = 0; i < KEYS; i++) {
            JsonNode k = keys.get(i);
            assertThat(k.path("key").asText()).as(what).isEqualTo(key(i));
            String text = k.path("value").asText();
            int letter = 'a' + i % 26;
            assertThat(text.length() == Keys.MAX_VALUE_BYTES && text.chars().allMatch(c -> c == letter))
                    .as("%s: %s holds its 64 KiB", what, key(i))
                    .isTrue();
        }
    }

    private static JsonNode next(Driver d) throws InterruptedException {
        Driver.Report report = d.reports().poll(SLOW.toSeconds(), TimeUnit.SECONDS);
        assertThat(report).as("a watch line within %s", SLOW).isNotNull();
        JsonNode line = report.line();
        assertThat(line.path("event").asText()).as(line.toString()).isEqualTo("watch");
        return line;
    }
}
