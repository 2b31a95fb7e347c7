package io.holdfast.it.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.holdfast.AcquireOptions;
import io.holdfast.ClientOptions;
import io.holdfast.HoldfastFailure;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockLostException;
import io.holdfast.LockMode;
import io.holdfast.Versioned;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The Java client's driver, in the suite's JVM: the same commands as the other languages' drivers,
 * done with {@link LockClient} over {@code holdfast://} (gRPC), each on a thread of its own.
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
                        String code = e instanceof HoldfastFailure f ? f.code().name() : "UNAVAILABLE";
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
                LockClient client = LockClient.open(
                        uriOf.apply(members),
                        ClientOptions.builder()
                                .sessionTtl(
                                        Duration.ofMillis(c.path("ttlMillis").asLong(10_000)))
                                .clientName(c.path("clientName").asText("java-driver"))
                                .build());
                clients.put(c.get("client").asText(), client);
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
            case "close" -> clients.remove(c.get("client").asText()).close();
            case "exit" -> clients.values().forEach(LockClient::close);
            default -> throw new io.holdfast.InvalidArgumentException("no such op: " + c.get("op"));
        }
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
                : m.contains("lease timeout") ? "leaseTimeout" : m.contains("session") ? "sessionExpired" : "unknown";
    }

    @Override
    public void close() {
        clients.values().forEach(LockClient::close);
        threads.shutdownNow();
    }
}
