package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.testkit.FreePorts;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeldChildTest {
    @TempDir
    Path dir;

    /**
     * SIGTERM or SIGINT while a command runs: the hook stops the command, and the command's thread
     * gives the lock back before the hook closes the client. The give-back here is slowed down, as a
     * network round trip may be; when the hook closed the client at once, it failed with "the client
     * was closed" and the lock was not released by its holder.
     */
    @Test
    void aSignalStopsTheCommandAndLetsItsThreadGiveTheLockBackBeforeTheClientCloses() throws Exception {
        try (HoldfastServer server = HoldfastServer.start(
                        ServerConfig.single(dir.resolve("node"), "127.0.0.1", FreePorts.next(), FreePorts.next(), -1));
                LockClient client = open(server);
                LockClient observer = open(server)) {
            Lease lease = client.lock("held/signal").acquire(Duration.ofSeconds(5));
            AtomicReference<ChildProcess> child = new AtomicReference<>();
            AtomicReference<Boolean> validAtGiveBack = new AtomicReference<>();
            Thread signalled = Thread.currentThread(); // runs the hook, as the JVM's signal thread would
            HeldChild.SignalHook hook = HeldChild.onSignal("test-hook", client, child, Duration.ofSeconds(5));
            StringWriter errors = new StringWriter();
            HeldChild.Holding holding = new HeldChild.Holding(
                    "holdfast lock",
                    "'held/signal'",
                    false,
                    Map.of(),
                    () -> {
                        // The command's thread comes back to the lock late, as after a slow round trip: only once the
                        // hook has stopped the command and waits for the give-back (or has closed the client).
                        Awaitility.await("the hook has stopped the command")
                                .atMost(Duration.ofSeconds(10))
                                .pollInterval(Duration.ofMillis(5))
                                .until(() -> !lease.isValid() || waitsForGiveBack(signalled));
                        validAtGiveBack.set(lease.isValid());
                        lease.release();
                    },
                    lease::onLost);
            CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> {
                try {
                    return HeldChild.run(
                            holding, List.of("sleep", "30"), child, Duration.ofSeconds(5), new PrintWriter(errors));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                } finally {
                    hook.remove();
                }
            });
            Awaitility.await("the command started")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> child.get() != null);

            hook.runNow(); // what the JVM does on SIGTERM

            assertThat(exit.get(10, TimeUnit.SECONDS))
                    .as("the command's own exit code: killed by SIGTERM")
                    .isEqualTo(143);
            assertThat(validAtGiveBack.get())
                    .as("the client was still open when the command's thread gave the lock back")
                    .isTrue();
            assertThat(errors.toString()).isEmpty();
            assertThat(observer.admin()
                            .describe("held/signal")
                            .map(i -> i.holders().isEmpty())
                            .orElse(true))
                    .as("the lock was given back")
                    .isTrue();
        }
    }

    private static LockClient open(HoldfastServer server) {
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(server::isLeader);
        return LockClient.open("holdfast://127.0.0.1:" + server.clientPort());
    }

    /** Whether {@code hook}'s thread, running the signal hook, waits for the command's thread to give back the lock. */
    private static boolean waitsForGiveBack(Thread hook) {
        StackTraceElement[] stack = hook.getStackTrace();
        return Arrays.stream(stack).anyMatch(f -> f.getClassName().equals(CountDownLatch.class.getName()))
                && Arrays.stream(stack).anyMatch(f -> f.getClassName().equals(HeldChild.SignalHook.class.getName()));
    }
}
