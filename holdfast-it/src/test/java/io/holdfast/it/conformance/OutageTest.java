package io.holdfast.it.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.holdfast.it.ServerProcesses;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The outage scenario of ADR 0004 (docs/adr/0004-clients-outlive-their-session.md, "The conformance
 * suite"; {@code clients/CONFORMANCE.md}, scenario 12): the service is gone for longer than the
 * clients' session TTL, and comes back. Once with a single server SIGKILLed and started again,
 * once with a 3-node cluster whose majority (the leader and one follower) is SIGKILLed and
 * started again; each time every client at once, each with a registrant (a group member, and a
 * lock held before the outage) and a watcher of the group's keys, all with a TTL of half the
 * outage, at most 10 s (3 s for the default 6 s outage, 10 s for CI's 30 s: three TTLs down).
 *
 * <p>Checked, per client: every registration is back (the member's key, attached to the
 * registrant's new session, with its value) within 5 s of the service returning (its leader
 * serving a write: the test opens a session of its own there; if the service stops serving
 * again before the registration is back, which a loaded machine can make it do, from its last
 * return: {@link ServingProbe}); every watcher
 * is still running and its view, built from its {@code state} and change lines, shows the
 * registration again; the lease held before the outage was reported lost ({@code
 * sessionExpired}), is not valid, and the lock is not held again (nobody holds it once the lost
 * session expired at the service); each client's session listener heard {@code lost} of its first
 * session, then {@code reestablished} with a new id (a renewed session lost in turn on a loaded
 * machine adds a pair, each naming its predecessor).
 *
 * <p>The TTL is bounded at 10 s because a TTL of 3 s is shorter than the stalls of a machine that
 * runs the verifier's scenarios beside the test, as CI does: there sessions were lost before the
 * outage began, while the four clients were still being set up (stop 84's CI). The property is
 * the same at any TTL the outage outlasts.
 *
 * <p>The outage lasts 6 s by default (twice the TTL), which keeps the test short;
 * {@code -Dholdfast.conformance.outageSeconds=30} runs the 30 s outage, as CI does after
 * its {@code ./mvnw verify} ({@code .ci/run}, beside the verifier's scenarios).
 * {@code -Dholdfast.conformance.clients=python,go} picks clients, as in {@link ConformanceTest}.
 */
class OutageTest {
    private static final List<String> CLIENTS =
            List.of(System.getProperty("holdfast.conformance.clients", "java,python,node,go")
                    .split(","));
    private static final long OUTAGE_SECONDS = Long.getLong("holdfast.conformance.outageSeconds", 6);
    private static final int TTL_MILLIS = (int) Math.min(10_000, OUTAGE_SECONDS * 500);
    private static final Duration SLOW = Duration.ofSeconds(60);
    /** How long a majority started again may take to elect a leader (see where it is used). */
    private static final Duration RESTART_LEADER = ServerProcesses.FIRST_LEADER.plusSeconds(60);
    /** How long one read of a registration waits for the node's answer. */
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(3);

    @RegisterExtension
    final ServerProcesses.PerTest servers = new ServerProcesses.PerTest();

    private final ServiceQuestions service = new ServiceQuestions(SLOW);

    @Test
    void clientsOutliveASingleServerKilledAndStartedAgain(@TempDir Path dir) throws Exception {
        ServerProcesses cluster = servers.start(dir, 1);
        outage(cluster, "single", List.of(0));
    }

    @Test
    void clientsOutliveAMajorityDownLongerThanTheirTtl(@TempDir Path dir) throws Exception {
        ServerProcesses cluster = servers.start(dir, 3);
        int leader = cluster.awaitLeader(SLOW);
        outage(cluster, "majority", List.of(leader, (leader + 1) % 3));
    }

    /** The clients that can run here: Java always, the others where their runtime is. */
    private static List<String> clients() {
        List<String> out = new ArrayList<>();
        for (String client : CLIENTS) {
            if (client.equals("java")) {
                out.add(client); // in this JVM (JavaDriver)
                continue;
            }
            String missing = Clients.start(client).missing();
            if (missing != null && Clients.REQUIRED) {
                throw new AssertionError(
                        "the " + client + " client cannot run here: " + missing + " (HOLDFAST_REQUIRE_CLIENTS=true)");
            }
            if (missing == null) {
                out.add(client);
            }
        }
        Assumptions.assumeFalse(out.isEmpty(), "no client named in holdfast.conformance.clients");
        return out;
    }

    private void outage(ServerProcesses cluster, String run, List<Integer> killed) throws Exception {
        List<String> clients = clients();
        Map<String, Driver> drivers = new LinkedHashMap<>();
        Map<String, String> firstSession = new HashMap<>();
        Map<String, String> watcherSession = new HashMap<>();
        Path logs = Files.createDirectories(Path.of("target", "conformance").toAbsolutePath());
        ServingProbe probe = null;
        try {
            for (String client : clients) {
                Driver d = client.equals("java")
                        ? new JavaDriver(members -> cluster.clientUri())
                        : new ProcessDriver(
                                client,
                                Clients.start(client).command(),
                                Clients.ROOT,
                                logs.resolve(client + "-outage-driver.log"));
                drivers.put(client, d);
                String prefix = prefix(run, client);
                firstSession.put(
                        client, open(d, "reg", cluster).path("sessionId").asText());
                watcherSession.put(
                        client, open(d, "watcher", cluster).path("sessionId").asText());
                KeyScenarios.ok(d.call(
                        Driver.op("groupJoin")
                                .put("client", "reg")
                                .put("group", prefix + "group")
                                .put("member", "i-1")
                                .put("value", client + "-addr"),
                        30));
                KeyScenarios.ok(d.call(
                        Driver.op("acquire")
                                .put("client", "reg")
                                .put("handle", "held")
                                .put("name", prefix + "held")
                                .put("mode", "exclusive")
                                .put("waitMillis", 0)
                                .put("leaseMillis", 0),
                        30));
                KeyScenarios.ok(d.call(
                        Driver.op("watch")
                                .put("client", "watcher")
                                .put("watch", "k")
                                .put("keys", prefix + "group/"),
                        30));
            }

            for (int i : killed) {
                cluster.kill(i);
            }
            TimeUnit.SECONDS.sleep(OUTAGE_SECONDS);
            long restarted = System.nanoTime();
            for (int i : killed) {
                cluster.start(i);
            }
            // The nodes start as a new cluster's do (their JVMs, the rejoin check's questions to
            // the survivor), on a machine CI loads with two verifier scenarios beside this test:
            // a bound against a hang, not a measure (the time is printed below). Stop 90's CI gave
            // two nodes started again no leader within the first leader's 120 s (elected after about
            // 110 s: 30 s of start-up questions counted unanswered, since mended, and a 4.9 s GC
            // pause); a local run at load 28 took 42 s, 23 s of it before a restarted JVM asked its
            // first question. The service is back once it serves a write (a session of the test's
            // own opened): a leader elected in a cold JVM on a loaded machine can take seconds more,
            // which are the service's, not the clients'. What is checked is timed from there.
            cluster.awaitLeader(RESTART_LEADER);
            long elected = System.nanoTime();
            int leader = service.awaitServing(cluster, TTL_MILLIS);
            long back = System.nanoTime();
            LocalTime backAt = LocalTime.now();
            System.out.printf(
                    "outage-%s: a leader %d ms after the restart's start, serving a write %d ms after that%n",
                    run,
                    TimeUnit.NANOSECONDS.toMillis(elected - restarted),
                    TimeUnit.NANOSECONDS.toMillis(back - elected));

            // Every client's registration, read at the leader every 100 ms, a read not waiting for
            // the one before: a read the node answers late (a stall of this loaded machine, a read
            // timed out) holds back no other, so a registration is first seen back when a read
            // answered with it, within 100 ms and that read's own time. Stop 86's CI waited for each
            // round of reads, and one read timed out after 5 s: a registration back 12.8 s before
            // the service (by its watcher's report) was seen 6.4 s after.
            Map<String, Seen> seen = new ConcurrentHashMap<>();
            Map<String, Map<String, Integer>> reads = new ConcurrentHashMap<>();
            long deadline = back + SLOW.toNanos();
            probe = new ServingProbe(cluster, TTL_MILLIS, READ_TIMEOUT);
            while (seen.size() < clients.size()) {
                if (System.nanoTime() - deadline > 0) {
                    List<String> missing = new ArrayList<>(clients);
                    missing.removeAll(seen.keySet());
                    throw new AssertionError(missing + ": the registration is not back under a new session of its"
                            + " registrant within " + SLOW + " (read at n" + (leader + 1) + ", its answers: " + reads
                            + "; the nodes: " + cluster.describe() + ")");
                }
                for (String client : clients) {
                    if (seen.containsKey(client)) {
                        continue;
                    }
                    service.key(cluster, leader, prefix(run, client) + "group/i-1", READ_TIMEOUT)
                            .thenAccept(read -> {
                                String why = notBack(read, firstSession.get(client), client + "-addr");
                                reads.computeIfAbsent(client, k -> new ConcurrentHashMap<>())
                                        .merge(why == null ? "back" : why, 1, Integer::sum);
                                if (why == null) {
                                    seen.putIfAbsent(client, new Seen(System.nanoTime(), read.key()));
                                }
                            });
                }
                TimeUnit.MILLISECONDS.sleep(100);
            }

            for (String client : clients) {
                String key = prefix(run, client) + "group/i-1";
                String old = firstSession.get(client);
                // As first seen back: a second read at CI's load could time out, or meet a new leader.
                JsonNode registered = seen.get(client).key();
                String renewed = registered.path("owner").asText();
                // From the service's last return before the registration was seen: a loaded machine
                // can take the service away again after it served its first write (ServingProbe).
                long returned = probe.lastReturn(back, seen.get(client).nanos());
                long millis = TimeUnit.NANOSECONDS.toMillis(seen.get(client).nanos() - returned);
                System.out.printf(
                        "outage-%s: %s's registration back %d ms after the service's last return (%+d ms from"
                                + " its first; the probes' gaps: %s)%n",
                        run, client, millis, TimeUnit.NANOSECONDS.toMillis(returned - back), probe.gaps(back));
                Driver d = drivers.get(client);
                List<Driver.Report> reports = drain(d, renewed);
                assertThat(millis)
                        .as(
                                "%s: the registration is back within 5 s of the service returning (%s); the"
                                        + " service's writes after its first return, in ms from then: %s; the reads"
                                        + " at n%d until then: %s; what the client reported, in ms from then: %s;"
                                        + " the service first returned at %s (this machine's clock), and the"
                                        + " driver's last lines then: %s",
                                client,
                                registered,
                                probe.gaps(back),
                                leader + 1,
                                reads.get(client),
                                timeline(reports, back),
                                backAt,
                                driverLog(client, logs))
                        .isLessThan(5_000);
                List<JsonNode> lines = reports.stream().map(Driver.Report::line).toList();
                assertSessionLines(client, lines, "reg", old, renewed);
                assertSessionLines(client, lines, "watcher", watcherSession.get(client), null);
                assertThat(lines.stream().filter(l -> l.path("event").asText().equals("watchEnded")))
                        .as("%s: the watch never ends because its session was lost", client)
                        .isEmpty();
                assertThat(view(lines, "k"))
                        .as("%s: the watcher's view (its state and every change) after the outage", client)
                        .containsEntry(key, renewed);
                JsonNode lost = lines.stream()
                        .filter(l -> l.path("event").asText().equals("lost"))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError(client + ": no lost line for the lease held: " + lines));
                assertThat(lost.path("handle").asText()).isEqualTo("held");
                assertThat(lost.path("reason").asText()).as(lost.toString()).isEqualTo("sessionExpired");
                assertThat(KeyScenarios.ok(d.call(Driver.op("isValid").put("handle", "held"), 30))
                                .path("valid")
                                .asBoolean())
                        .as("%s: the lease held before the outage is not valid", client)
                        .isFalse();
            }
            // The lost sessions expire at the service a TTL after it returned (a new leader gives
            // every session a fresh TTL): their locks are then free, and nobody took them again.
            TimeUnit.MILLISECONDS.sleep(TTL_MILLIS + 3_000);
            for (String client : clients) {
                String name = prefix(run, client) + "held";
                assertThat(service.holders(cluster, name))
                        .as("%s: the lock held before the outage is held again by nobody", client)
                        .isEmpty();
            }
        } finally {
            if (probe != null) {
                probe.close();
            }
            drivers.values().forEach(Driver::close);
        }
    }

    /** When a registration was first seen back ({@link System#nanoTime}), and as it was read then. */
    private record Seen(long nanos, JsonNode key) {}

    /**
     * Why a read does not show the registration back (its answer, or its key's owner or value), or
     * null if it does: the key, under a session other than the registrant's first, with its value.
     */
    private static String notBack(ServiceQuestions.KeyRead read, String firstSession, String value) {
        JsonNode k = read.key();
        if (k == null) {
            return read.outcome();
        }
        if (k.path("owner").isNull() || k.path("owner").isMissingNode()) {
            return "200 without an owner";
        }
        if (k.path("owner").asText().equals(firstSession)) {
            return "200 under the first session";
        }
        return text(k.path("value")).equals(value) ? null : "200 with another value";
    }

    private static String prefix(String run, String client) {
        return "conf/" + client + "/outage-" + run + "/";
    }

    private static JsonNode open(Driver d, String client, ServerProcesses cluster) throws Exception {
        ObjectNode open = Driver.op("open")
                .put("client", client)
                .put("ttlMillis", TTL_MILLIS)
                .put("clientName", d.name() + "-outage")
                .put("sessionEvents", true);
        cluster.httpUrls().forEach(open.putArray("members")::add);
        return KeyScenarios.ok(d.call(open, 30));
    }

    /**
     * Every line the driver wrote on its own until the registrant told of the session that holds
     * the registration ({@code renewed}), the watcher's session was renewed, and the watcher's view
     * shows the renewed registration (30 s at most); each line with when it was reported.
     */
    private static List<Driver.Report> drain(Driver d, String renewed) throws InterruptedException {
        List<Driver.Report> reports = new ArrayList<>();
        List<JsonNode> lines = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            Driver.Report r = d.reports().poll(100, TimeUnit.MILLISECONDS);
            if (r != null) {
                reports.add(r);
                lines.add(r.line());
            }
            boolean reg = lines.stream()
                    .anyMatch(l -> l.path("event").asText().equals("session")
                            && l.path("client").asText().equals("reg")
                            && l.path("type").asText().equals("reestablished")
                            && l.path("sessionId").asText().equals(renewed));
            boolean watcher = reestablished(lines, "watcher") != null;
            if (reg && watcher && renewed.equals(view(lines, "k").get(registeredKey(lines)))) {
                return reports;
            }
        }
        return reports; // the assertions that follow say what is missing
    }

    /**
     * The last lines of a client's driver log (its own log lines, with their times: each try of
     * opening a session and what each member answered), for a failure's message; the Java
     * client's are in this test's own output.
     */
    private static String driverLog(String client, Path logs) {
        if (client.equals("java")) {
            return "(the Java client runs in this JVM: its lines are in the test's output)";
        }
        Path log = logs.resolve(client + "-outage-driver.log");
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            StringBuilder out = new StringBuilder();
            for (String line : lines.subList(Math.max(0, lines.size() - 40), lines.size())) {
                out.append(System.lineSeparator()).append("  ").append(line, 0, Math.min(line.length(), 240));
            }
            return out.toString();
        } catch (IOException | UncheckedIOException e) {
            return "(" + log + " unread: " + e + ")";
        }
    }

    /** Each line with its time in ms from {@code from} (negative: before), one per line. */
    private static String timeline(List<Driver.Report> reports, long from) {
        StringBuilder out = new StringBuilder();
        for (Driver.Report r : reports) {
            out.append(System.lineSeparator())
                    .append(String.format("%+7d ms ", TimeUnit.NANOSECONDS.toMillis(r.nanos() - from)))
                    .append(r.line());
        }
        return out.toString();
    }

    private static String registeredKey(List<JsonNode> lines) {
        Map<String, String> v = view(lines, "k");
        return v.keySet().stream().filter(k -> k.endsWith("/i-1")).findFirst().orElse("");
    }

    private static JsonNode reestablished(List<JsonNode> lines, String client) {
        return lines.stream()
                .filter(l -> l.path("event").asText().equals("session"))
                .filter(l -> l.path("client").asText().equals(client))
                .filter(l -> l.path("type").asText().equals("reestablished"))
                .findFirst()
                .orElse(null);
    }

    /**
     * The session lines of one client of the driver: lost of its first session, then reestablished
     * with another. A renewed session may be lost in turn (on a loaded machine one heartbeat
     * late by the TTL), so the pair may repeat, each {@code lost} naming the session the
     * line before it established: a chain from the first session, never a gap. The registration
     * ({@code renewed}, when given) is one of the chain's sessions, and the last lost before it
     * came back is its predecessor's.
     */
    private static void assertSessionLines(
            String driver, List<JsonNode> lines, String client, String first, String renewed) {
        List<JsonNode> of = lines.stream()
                .filter(l -> l.path("event").asText().equals("session"))
                .filter(l -> l.path("client").asText().equals(client))
                .toList();
        assertThat(of).as("%s %s: the session lines %s", driver, client, of).hasSizeGreaterThanOrEqualTo(2);
        String current = first;
        List<String> established = new ArrayList<>();
        for (int i = 0; i < of.size(); i++) {
            JsonNode line = of.get(i);
            String type = line.path("type").asText();
            String id = line.path("sessionId").asText();
            if (i % 2 == 0) {
                assertThat(type)
                        .as("%s %s: line %d of %s", driver, client, i, of)
                        .isEqualTo("lost");
                assertThat(id)
                        .as("%s %s: a lost line names the session then current, in %s", driver, client, of)
                        .isEqualTo(current);
                assertThat(line.path("cause").asText())
                        .as("the cause is named: %s", line)
                        .isNotBlank();
            } else {
                assertThat(type)
                        .as("%s %s: line %d of %s", driver, client, i, of)
                        .isEqualTo("reestablished");
                assertThat(id).as("a new session: %s", of).isNotEqualTo(current).isNotIn(established);
                established.add(id);
                current = id;
            }
        }
        if (renewed != null) {
            assertThat(established)
                    .as("%s: the registration is one of the renewed sessions' (%s)", driver, of)
                    .contains(renewed);
        }
    }

    /** What a keys watch's lines say is there now: key to owner (state replaces, changes apply). */
    private static Map<String, String> view(List<JsonNode> lines, String watch) {
        Map<String, String> v = new HashMap<>();
        for (JsonNode l : lines) {
            if (!l.path("event").asText().equals("watch")
                    || !l.path("watch").asText().equals(watch)) {
                continue;
            }
            switch (l.path("type").asText()) {
                case "state" -> {
                    v.clear();
                    l.path("keys")
                            .forEach(k -> v.put(
                                    k.path("key").asText(), k.path("owner").asText()));
                }
                case "registerSet" ->
                    v.put(l.path("name").asText(), l.path("sessionId").asText());
                case "registerDeleted" -> v.remove(l.path("name").asText());
                default -> {}
            }
        }
        return v;
    }

    private static String text(JsonNode base64) {
        return base64.isTextual()
                ? new String(Base64.getDecoder().decode(base64.asText()), StandardCharsets.UTF_8)
                : "";
    }
}
