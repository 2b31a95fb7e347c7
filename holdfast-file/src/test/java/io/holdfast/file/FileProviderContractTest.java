package io.holdfast.file;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.testkit.LockProviderContract;
import io.holdfast.testkit.ProviderFixture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;

/**
 * The contract suite against a real directory under {@code target/}. Child JVMs of the
 * multi-process group reach it through its {@code file:} URI; the outage group "stops the store" by
 * renaming the directory away (as an unmounted share looks) and starts it by renaming it back.
 * Renaming works as root too, where taking permissions away would not.
 */
class FileProviderContractTest extends LockProviderContract {
    private static Path dir;
    private static Path stopped;
    private static String uri;

    @BeforeAll
    static void createDirectory() throws IOException {
        Path base =
                Files.createDirectories(Path.of("target", "contract-stores")).toAbsolutePath();
        Path parent = Files.createTempDirectory(base, "file-");
        dir = parent.resolve("store");
        stopped = parent.resolve("store.stopped");
        uri = dir.toUri().toString();
    }

    @Override
    protected ProviderFixture fixture() {
        return new ProviderFixture() {
            @Override
            public LockClient open(ClientOptions options) {
                return LockClient.open(uri, options);
            }

            @Override
            public Set<Capability> capabilities() {
                return EnumSet.of(
                        Capability.READ_WRITE,
                        Capability.CHECK_FENCE,
                        Capability.MULTI_LOCK,
                        Capability.REGISTERS,
                        Capability.FENCED_REGISTERS,
                        Capability.KEYS,
                        Capability.SESSION_KEYS,
                        Capability.KEY_TTL,
                        Capability.TRANSACTIONS);
            }

            @Override
            public void crash(LockClient client) {
                io.holdfast.internal.CrashSimulation.crash(client);
            }

            @Override
            public boolean crashFreesLocksAtOnce() {
                return true;
            }

            @Override
            public Duration shortSessionTtl() {
                return Duration.ofSeconds(1);
            }

            @Override
            public Optional<String> uri() {
                return Optional.of(uri);
            }

            @Override
            public void stopStore() {
                move(dir, stopped);
            }

            @Override
            public void startStore() {
                move(stopped, dir);
            }
        };
    }

    private static void move(Path from, Path to) {
        try {
            Files.move(from, to);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
