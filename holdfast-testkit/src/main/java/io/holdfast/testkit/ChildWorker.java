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
        try (LockClient client =
                LockClient.open(uri, ClientOptions.builder().clientName("child").build())) {
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
