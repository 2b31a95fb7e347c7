package io.holdfast.verify.run;

import io.holdfast.verify.store.StoreServer;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;

/**
 * The fenced store and its unfenced twin ({@link StoreServer}), served on loopback from the
 * harness's own JVM, each logging every write to a record file in the run directory.
 *
 * <p>No fault ever reaches a store (the harness kills, pauses and cuts off nodes and clients only),
 * so a process of their own bought nothing but its start: two JVMs, about 1.4 CPU-s and 0.4 s of
 * every run on two cores. The clients still reach them over TCP, as before, and a store still logs
 * a write (flushed) before it answers it.
 */
final class Stores implements AutoCloseable {
    private final StoreServer fenced;
    private final StoreServer unfenced;
    private final Path dir;

    private Stores(StoreServer fenced, StoreServer unfenced, Path dir) {
        this.fenced = fenced;
        this.unfenced = unfenced;
        this.dir = dir;
    }

    static Stores start(Path dir) throws IOException {
        InetAddress loopback = InetAddress.getByName("127.0.0.1"); // the address the clients are given
        StoreServer f = StoreServer.start(StoreServer.Mode.FENCED, loopback, 0, dir.resolve("fenced.jsonl"));
        try {
            StoreServer u = StoreServer.start(StoreServer.Mode.UNFENCED, loopback, 0, dir.resolve("unfenced.jsonl"));
            return new Stores(f, u, dir);
        } catch (IOException | RuntimeException e) {
            closeQuietly(f);
            throw e;
        }
    }

    String fencedAddress() {
        return "127.0.0.1:" + fenced.port();
    }

    String unfencedAddress() {
        return "127.0.0.1:" + unfenced.port();
    }

    Path fencedLog() {
        return dir.resolve("fenced.jsonl");
    }

    Path unfencedLog() {
        return dir.resolve("unfenced.jsonl");
    }

    /** Stops both stores: every connection closed, every log complete. */
    @Override
    public void close() {
        closeQuietly(fenced);
        closeQuietly(unfenced);
    }

    private static void closeQuietly(StoreServer s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // the clients are gone by now; a log that fails to close has had every write flushed
        }
    }
}
