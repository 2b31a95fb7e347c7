package io.holdfast.it.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.holdfast.AcquireOptions;
import io.holdfast.ClientOptions;
import io.holdfast.Election;
import io.holdfast.HasErrorCode;
import io.holdfast.HoldfastException;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Leadership;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockInfo;
import io.holdfast.LockLostException;
import io.holdfast.LockMode;
import io.holdfast.SessionListener;
import io.holdfast.UnavailableException;
import io.holdfast.Versioned;
import io.holdfast.Watch;
import io.holdfast.WatchEvent;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * The Java client's driver, in the suite's JVM: the same commands as the other languages' drivers,
 * done with {@link LockClient} over {@code holdfast://} (gRPC), each on a thread of its own. Watch
 * lines, like lost lines, go to {@link #reports()} as the watch's listener is told.
 */
final class JavaDriver implements Driver {
    private final Function<List<String>, String> uriOf;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "java-driver");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, LockClient> clients = new ConcurrentHashMap<>();
    private final Map<String, Lease> leases = new ConcurrentHashMap<>();
    private final Map<String, Leadership> leaderships = new ConcurrentHashMap<>();
    private final Map<String, Watch> watches = new ConcurrentHashMap<>();
    private final BlockingQueue<Report> reports = Driver.queue();
    private final AtomicLong ids = new AtomicLong();

    /** @param uriOf the {@code holdfast://} URI of the members whose HTTP URLs a command names */
    JavaDriver(Function<List<String>, String> uriOf) {
        this.uriOf = uriOf;
    }

    @Override
    public String name() {
        return "java";
    }

    @Override
    public BlockingQueue<Report> reports() {
        return reports;
    }

    @Override
    public CompletableFuture<JsonNode> send(ObjectNode command) {
        long id = ids.incrementAndGet();
        command.put("id", id);
        return CompletableFuture.supplyAsync(
                () -> {
                    ObjectNode answer = JSON.createObjectNode().put("id", id);
                    try {
                        run(command, answer.put("ok", true));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        answer.put("ok", false).put("error", "UNAVAILABLE").put("message", "interrupted");
                    } catch (RuntimeException e) {
                        String code = e instanceof HasErrorCode f ? f.code().name() : "UNAVAILABLE";
                        answer.put("ok", false).put("error", code).put("message", String.valueOf(e.getMessage()));
                    }
                    return answer;
                },
                threads);
    }

    private void run(JsonNode c, ObjectNode answer) throws InterruptedException {
        switch (c.get("op").asText()) {
            case "open" -> {
                List<String> members = new ArrayList<>();
                c.get("members").forEach(m -> members.add(m.asText()));
                ClientOptions.Builder options = ClientOptions.builder()
                        .sessionTtl(Duration.ofMillis(c.path("ttlMillis").asLong(10_000)))
                        .clientName(c.path("clientName").asText("java-driver"));
                if (c.hasNonNull("renewSessions")) {
                    options.renewSessions(c.get("renewSessions").asBoolean());
                }
                LockClient client = LockClient.open(uriOf.apply(members), options.build());
                String name = c.get("client").asText();
                if (c.path("sessionEvents").asBoolean(false)) {
                    client.addSessionListener(sessionLines(name));
                }
                clients.put(name, client);
                answer.put("sessionId", client.sessionId());
            }
            case "acquire" -> {
                LockClient client = client(c);
                String name = c.get("name").asText();
                AcquireOptions o = options(c);
                Lease lease = switch (c.path("mode").asText("exclusive")) {
                    case "shared" -> client.readWriteLock(name).readLock().acquire(o);
                    case "permits" ->
                        client.semaphore(name, c.path("maxPermits").asInt(1))
                                .acquire(c.path("permits").asInt(1), o);
                    default -> client.lock(name).acquire(o);
                };
                hold(c.get("handle").asText(), lease);
                answer.put("token", lease.fencingToken());
            }
            case "acquireAll" -> {
                List<String> names = new ArrayList<>();
                c.get("names").forEach(n -> names.add(n.asText()));
                LockMode mode = "shared".equals(c.path("mode").asText()) ? LockMode.SHARED : LockMode.EXCLUSIVE;
                ObjectNode tokens = answer.putObject("tokens");
                for (Lease lease :
                        client(c).multiLock(names, mode).acquire(options(c)).leases()) {
                    tokens.put(lease.name(), lease.fencingToken());
                }
            }
            case "release" -> leases.remove(c.get("handle").asText()).release();
            case "isValid" -> {
                Lease lease = leases.get(c.get("handle").asText());
                answer.put("valid", lease != null && lease.isValid());
            }
            case "registerGet" -> {
                Optional<Versioned> v =
                        client(c).register(c.get("key").asText()).get();
                answer.put("version", v.map(Versioned::version).orElse(0L));
                answer.put(
                        "value",
                        v.map(x -> new String(x.value(), StandardCharsets.UTF_8))
                                .orElse(null));
            }
            case "registerSet" -> {
                var register = client(c).register(c.get("key").asText());
                byte[] value = c.get("value").asText().getBytes(StandardCharsets.UTF_8);
                long expected = c.get("expectedVersion").asLong();
                Versioned v = c.hasNonNull("fenceHandle")
                        ? register.compareAndSet(
                                expected, value, leases.get(c.get("fenceHandle").asText()))
                        : register.compareAndSet(expected, value);
                answer.put("version", v.version());
            }
            case "fenceCheck" ->
                answer.put(
                        "current",
                        client(c)
                                .admin()
                                .isCurrentHolder(
                                        c.get("name").asText(), c.get("token").asLong()));
            case "watch" -> watch(c);
            case "unwatch" -> {
                Watch watch = watches.remove(c.get("watch").asText());
                if (watch == null) {
                    throw new InvalidArgumentException("no watch " + c.get("watch"));
                }
                watch.close();
            }
            case "campaign" -> {
                Leadership leading = client(c)
                        .election(c.get("name").asText())
                        .campaign(c.path("value").asText(""), options(c));
                String handle = c.get("handle").asText();
                hold(handle, leading.lease());
                leaderships.put(handle, leading);
                answer.put("epoch", leading.epoch());
            }
            case "resign" -> leaderships.remove(c.get("handle").asText()).resign();
            case "leader" -> {
                Optional<Election.Leader> leader =
                        client(c).election(c.get("name").asText()).leader();
                answer.put("epoch", leader.map(Election.Leader::epoch).orElse(0L));
                answer.put("value", leader.map(Election.Leader::value).orElse(null));
            }
            case "keyGet", "keyPut", "keyDelete", "keyAdd", "keyList", "keyDeletePrefix", "txn" ->
                JavaKeyOps.run(client(c).keys(), c, answer, leases::get);
            case "groupJoin" ->
                answer.put(
                        "version",
                        client(c)
                                .group(c.get("group").asText())
                                .join(c.get("member").asText(), JavaKeyOps.text(c.path("value")))
                                .version());
            case "groupLeave" ->
                answer.put(
                        "left",
                        client(c)
                                .group(c.get("group").asText())
                                .leave(c.get("member").asText()));
            case "close" -> clients.remove(c.get("client").asText()).close();
            case "exit" -> clients.values().forEach(LockClient::close);
            default -> throw new io.holdfast.InvalidArgumentException("no such op: " + c.get("op"));
        }
    }

    /** Starts a watch; answers once its state is reported (the state line comes first). */
    private void watch(JsonNode c) throws InterruptedException {
        String name = c.get("watch").asText();
        List<WatchTarget> given = new ArrayList<>();
        if (c.hasNonNull("lock")) {
            given.add(WatchTarget.lock(c.get("lock").asText()));
        }
        if (c.hasNonNull("prefix")) {
            given.add(WatchTarget.prefix(c.get("prefix").asText()));
        }
        if (c.hasNonNull("register")) {
            given.add(WatchTarget.register(c.get("register").asText()));
        }
        if (c.hasNonNull("keys")) {
            given.add(WatchTarget.keys(c.get("keys").asText()));
        }
        if (given.size() != 1) {
            throw new InvalidArgumentException("a watch names exactly one of lock, prefix, register, keys");
        }
        WatchTarget target = given.get(0);
        CountDownLatch stated = new CountDownLatch(1);
        AtomicReference<HoldfastException> refused = new AtomicReference<>();
        Watch watch = client(c).watch(target, new WatchListener() {
            @Override
            public void onEvent(WatchEvent event) {
                reports.add(new Report(watchLine(name, target, event), System.nanoTime()));
                stated.countDown();
            }

            @Override
            public void onEnd(HoldfastException cause) {
                if (cause != null && stated.getCount() > 0) {
                    refused.set(cause); // before its state: the command's error
                } else if (cause != null) {
                    reports.add(new Report(
                            JSON.createObjectNode()
                                    .put("event", "watchEnded")
                                    .put("watch", name)
                                    .put("error", cause.code().name())
                                    .put("message", cause.getMessage()),
                            System.nanoTime()));
                }
                stated.countDown();
            }
        });
        if (!stated.await(30, TimeUnit.SECONDS)) {
            watch.close();
            throw new UnavailableException("the watch of " + target + " told no state within 30 s");
        }
        if (refused.get() != null) {
            throw refused.get();
        }
        Watch old = watches.put(name, watch);
        if (old != null) {
            old.close();
        }
    }

    /** A watch event in the protocol's words (clients/CONFORMANCE.md). */
    private static ObjectNode watchLine(String watch, WatchTarget target, WatchEvent e) {
        ObjectNode line = JSON.createObjectNode()
                .put("event", "watch")
                .put("watch", watch)
                .put("type", camel(e.type().name()))
                .put("name", e.name())
                .put("position", e.position());
        if (e.sessionId() != null) {
            line.put("sessionId", e.sessionId());
        }
        if (e.fencingToken() != 0) {
            line.put("token", e.fencingToken());
        }
        if (e.mode() != null) {
            line.put("mode", e.mode().name().toLowerCase(Locale.ROOT));
        }
        if (e.cause() != null) {
            line.put("cause", camel(e.cause().name()));
        }
        if (e.type() == WatchEvent.Type.REGISTER_SET
                || (e.type() == WatchEvent.Type.STATE && target.kind() == WatchTarget.Kind.REGISTER)) {
            line.put("version", e.version());
            line.put("value", e.value() == null ? null : new String(e.value(), StandardCharsets.UTF_8));
        } else if (e.type() == WatchEvent.Type.REGISTER_DELETED) {
            line.put("version", e.version());
        } else if (e.type() == WatchEvent.Type.STATE && target.kind() == WatchTarget.Kind.KEYS) {
            JavaKeyOps.lines(e.keys(), line.putArray("keys"));
        } else if (e.type() == WatchEvent.Type.STATE) {
            var locks = line.putArray("locks");
            for (LockInfo info : e.locks()) {
                ObjectNode lock = locks.addObject().put("name", info.name());
                var holders = lock.putArray("holders");
                info.holders().forEach(h -> holders.add(h.fencingToken()));
                lock.put("waiters", info.waiters().size());
            }
        }
        return line;
    }

    /** {@code WAIT_ENDED} -> {@code waitEnded}. */
    private static String camel(String constant) {
        StringBuilder b = new StringBuilder();
        boolean upper = false;
        for (char ch : constant.toLowerCase(Locale.ROOT).toCharArray()) {
            if (ch == '_') {
                upper = true;
            } else {
                b.append(upper ? Character.toUpperCase(ch) : ch);
                upper = false;
            }
        }
        return b.toString();
    }

    private LockClient client(JsonNode c) {
        return clients.get(c.get("client").asText());
    }

    private static AcquireOptions options(JsonNode c) {
        AcquireOptions o =
                AcquireOptions.waitUpTo(Duration.ofMillis(c.path("waitMillis").asLong(0)));
        long lease = c.path("leaseMillis").asLong(0);
        return lease > 0 ? o.withLeaseTimeout(Duration.ofMillis(lease)) : o;
    }

    /** A line for each loss and renewal of a client's session ({@code sessionEvents}), as the other drivers write. */
    private SessionListener sessionLines(String client) {
        return new SessionListener() {
            @Override
            public void lost(String oldId, String cause) {
                reports.add(new Report(
                        JSON.createObjectNode()
                                .put("event", "session")
                                .put("client", client)
                                .put("type", "lost")
                                .put("sessionId", oldId)
                                .put("cause", cause),
                        System.nanoTime()));
            }

            @Override
            public void reestablished(String newId) {
                reports.add(new Report(
                        JSON.createObjectNode()
                                .put("event", "session")
                                .put("client", client)
                                .put("type", "reestablished")
                                .put("sessionId", newId),
                        System.nanoTime()));
            }
        };
    }

    private void hold(String handle, Lease lease) {
        leases.put(handle, lease);
        lease.onLost(lost -> reports.add(new Report(
                JSON.createObjectNode()
                        .put("event", "lost")
                        .put("handle", handle)
                        .put("token", lease.fencingToken())
                        .put("reason", reason(lost)),
                System.nanoTime())));
    }

    /** The reason a loss names, in the protocol's words. */
    private static String reason(LockLostException lost) {
        String m = String.valueOf(lost.getMessage());
        return m.contains("revoked")
                ? "revoked"
                : m.contains("lease timeout")
                        ? "leaseTimeout"
                        // the session ended: the service said so, or no heartbeat was acknowledged for a TTL
                        : m.contains("session") || m.contains("heartbeat") ? "sessionExpired" : "unknown";
    }

    @Override
    public void close() {
        watches.values().forEach(Watch::close);
        clients.values().forEach(LockClient::close);
        threads.shutdownNow();
    }
}
