package io.holdfast.file;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.testkit.WatchWakeupContract;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;

/**
 * Register watches of the file provider are woken by a write in the same JVM ({@link Signals}), in
 * a real directory under {@code target/}. Writes by other processes are seen by polling only; locks
 * cannot be watched here (no INSPECT); registers of the same stripe wake each other.
 */
class FileWatchWakeupTest extends WatchWakeupContract {
    private static String uri;

    @BeforeAll
    static void createDirectory() throws IOException {
        Path base = Files.createDirectories(Path.of("target", "watch-tests")).toAbsolutePath();
        uri = Files.createTempDirectory(base, "store-").resolve("store").toUri().toString();
    }

    @Override
    protected Watcher watcher(ClientOptions options) {
        FileBackend backend = new FileBackend(FileStoreUri.parse(uri), options);
        return new Watcher(backend::awaitWatched, backend::close);
    }

    @Override
    protected LockClient other(ClientOptions options) {
        return LockClient.open(uri, options);
    }

    @Override
    protected Set<Wakes> wakes() {
        return EnumSet.noneOf(Wakes.class);
    }

    /** A register of another stripe: a shared stripe wakes both. */
    @Override
    protected String unrelatedTo(String name) {
        String other = name + "x";
        for (int i = 0; Signals.stripeOf(Signals.register(other)) == Signals.stripeOf(Signals.register(name)); i++) {
            other = name + "x" + i;
        }
        return other;
    }
}
