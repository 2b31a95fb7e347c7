package io.holdfast.verify.run;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The fenced store and its unfenced twin, each its own JVM ({@code io.holdfast.verify.store.StoreServer}),
 * each logging every write to a record file in the run directory.
 */
final class Stores implements AutoCloseable {
    private static final String MAIN = "io.holdfast.verify.store.StoreServer";

    private final Child fenced;
    private final Child unfenced;
    private final int fencedPort;
    private final int unfencedPort;
    private final Path dir;

    private Stores(Child fenced, int fencedPort, Child unfenced, int unfencedPort, Path dir) {
        this.fenced = fenced;
        this.fencedPort = fencedPort;
        this.unfenced = unfenced;
        this.unfencedPort = unfencedPort;
        this.dir = dir;
    }

    static Stores start(Path dir) throws IOException, InterruptedException {
        Child f = launch("fenced", dir);
        Child u;
        try {
            u = launch("unfenced", dir);
        } catch (IOException | RuntimeException e) {
            f.close();
            throw e;
        }
        try {
            int fp = port(f);
            int up = port(u);
            return new Stores(f, fp, u, up, dir);
        } catch (IOException | InterruptedException | RuntimeException e) {
            f.close();
            u.close();
            throw e;
        }
    }

    private static Child launch(String mode, Path dir) throws IOException {
        return Child.start(
                mode + "-store",
                List.of("-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"),
                MAIN,
                List.of(
                        "--mode",
                        mode,
                        "--port",
                        "0",
                        "--log",
                        dir.resolve(mode + ".jsonl").toString()),
                dir.resolve("logs").resolve(mode + "-store.log"));
    }

    private static int port(Child c) throws IOException, InterruptedException {
        String line = c.expect(Duration.ofSeconds(30), "READY");
        return Integer.parseInt(line.substring(5).trim());
    }

    String fencedAddress() {
        return "127.0.0.1:" + fencedPort;
    }

    String unfencedAddress() {
        return "127.0.0.1:" + unfencedPort;
    }

    Path fencedLog() {
        return dir.resolve("fenced.jsonl");
    }

    Path unfencedLog() {
        return dir.resolve("unfenced.jsonl");
    }

    @Override
    public void close() {
        fenced.requestStop(); // both at once, then wait for each
        unfenced.requestStop();
        fenced.close();
        unfenced.close();
    }
}
