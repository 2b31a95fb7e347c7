package io.holdfast.testkit;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

/**
 * The program the multi-process contract tests run in child JVMs, on the test's own class path.
 * Not for users.
 *
 * <ul>
 *   <li>{@code count URI NAME DIR ITERATIONS}: ITERATIONS times, takes the lock and, inside it,
 *       appends {@code enter TOKEN} to {@code DIR/log}, increments the number in {@code
 *       DIR/counter} by reading and rewriting it, and appends {@code exit TOKEN}. Without mutual
 *       exclusion the log interleaves and the counter loses updates.
 *   <li>{@code hold URI NAME TTL_MILLIS}: takes the lock with a client of that session TTL, prints
 *       {@code HELD TOKEN} and waits to be killed.
 * </ul>
 *
 * Exits 0 on success, 1 on any failure (printed to stderr).
 */
public final class ChildWorker {
    /** How long a child may take to open its client: well inside the contract's 150 s wait for it. */
    private static final Duration OPEN_WITHIN = Duration.ofSeconds(30);

    private ChildWorker() {}

    public static void main(String[] args) throws Exception {
        try {
            switch (args[0]) {
                case "count" -> count(args[1], args[2], Path.of(args[3]), Integer.parseInt(args[4]));
                case "hold" -> hold(args[1], args[2], Long.parseLong(args[3]));
                default -> throw new IllegalArgumentException("unknown mode " + args[0]);
            }
        } catch (Exception | AssertionError e) {
            e.printStackTrace();
            System.exit(1);
        }
        System.exit(0);
    }

    private static void count(String uri, String name, Path dir, int iterations) throws Exception {
        // The children start together on a machine that CI keeps busy: a store that takes more than the
        // default 5 s to open a session (etcd granting a lease at load 63, CI rehearsal of 2026-11-29) is
        // slow, not broken, and this contract is about exclusion, not about opening fast.
        try (LockClient client = LockClient.open(
                uri,
                ClientOptions.builder()
                        .clientName("child")
                        .connectTimeout(OPEN_WITHIN)
                        .build())) {
            for (int i = 0; i < iterations; i++) {
                try (Lease lease = client.lock(name).acquire(Duration.ofSeconds(60))) {
                    append(dir.resolve("log"), "enter " + lease.fencingToken());
                    Path counter = dir.resolve("counter");
                    int n = Integer.parseInt(Files.readString(counter).trim());
                    Thread.sleep(1);
                    Files.writeString(counter, Integer.toString(n + 1));
                    append(dir.resolve("log"), "exit " + lease.fencingToken());
                }
            }
        }
    }

    private static void hold(String uri, String name, long ttlMillis) throws Exception {
        LockClient client = LockClient.open(
                uri,
                ClientOptions.builder()
                        .clientName("child-holder")
                        .sessionTtl(Duration.ofMillis(ttlMillis))
                        .connectTimeout(OPEN_WITHIN)
                        .build());
        Lease lease = client.lock(name).acquire(Duration.ofSeconds(30));
        System.out.println("HELD " + lease.fencingToken());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    private static void append(Path file, String line) throws IOException {
        Files.writeString(
                file,
                line + "\n",
                StandardCharsets.UTF_8,
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND,
                StandardOpenOption.SYNC);
    }
}
