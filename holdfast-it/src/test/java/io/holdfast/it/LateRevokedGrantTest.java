package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.AcquireOptions;
import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockInfo;
import io.holdfast.LockLostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session-bound grant that an operator revoked before it reached its client is never handed out
 * as a valid lease (issue 56, then issue 69 item 8). Against a real {@code holdfast server}: the
 * waiting client's event stream is held up by a proxy ({@link EventHoldProxy}) while its other
 * calls flow, so it hears neither the grant nor the revoke. Its wait's backstop then asks the table
 * for the outcome of its acquire and hears the remembered answer, "granted, token T". Before the
 * fix the client handed that out as a valid lease, and only the held-up {@code lost} event,
 * whenever it came, would correct it: a session-bound lease has no renewal, and the stream never
 * had a gap.
 */
class LateRevokedGrantTest {
    private static final String NAME = "jobs/revoked-on-its-way";
    /** Time to queue, grant and revoke within the wait on a loaded machine; the backstop asks after it. */
    private static final Duration WAIT = Duration.ofSeconds(6);

    private static final Duration TTL = Duration.ofSeconds(4);

    @TempDir
    Path dir;

    @RegisterExtension
    final ServerProcesses.PerTest servers = new ServerProcesses.PerTest();

    @Test
    void aGrantRevokedBeforeItReachedItsClientIsNeverHandedOutAsValid() throws Exception {
        ServerProcesses cluster = servers.start(dir, 1);
        try (EventHoldProxy proxy = new EventHoldProxy(cluster.clientPort(0));
                LockClient holder = LockClient.open(cluster.clientUri());
                LockClient late = LockClient.open(
                        "holdfast://127.0.0.1:" + proxy.port(),
                        ClientOptions.builder()
                                .clientName("late")
                                .sessionTtl(TTL)
                                .build())) {
            Lease first = holder.lock(NAME).acquire(Duration.ofSeconds(5));
            proxy.holdEvents();
            CompletableFuture<Lease> waiting = late.lock(NAME).acquireAsync(AcquireOptions.waitUpTo(WAIT));
            // What the caller got, as it got it (on the client's callback thread).
            CompletableFuture<String> handedOut =
                    waiting.thenApply(lease -> "token " + lease.fencingToken() + ", valid " + lease.isValid());
            await("the late client's acquire is queued")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> describe(holder).waiters().size() == 1);

            first.release(); // granted to the late client: its event waits at the proxy
            LockInfo granted = describe(holder);
            assertThat(granted.holders())
                    .singleElement()
                    .satisfies(h -> assertThat(h.sessionId()).isEqualTo(late.sessionId()));
            long token = granted.holders().get(0).fencingToken();
            assertThat(holder.admin().revoke(NAME)).isEqualTo(1); // its lost event waits too
            assertThat(holder.admin().isCurrentHolder(NAME, token)).isFalse();
            await("the grant and the revoke are held up on the late client's stream")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> proxy.heldEvents() >= 2);

            // The wait's backstop asks for the outcome a grace after the wait (WaitBackstop).
            await("the late client's acquire has an outcome")
                    .atMost(WAIT.plus(TTL).plus(Duration.ofSeconds(20)))
                    .until(waiting::isDone);
            assertThat(handedOut.exceptionally(e -> null).get(5, TimeUnit.SECONDS))
                    .as("the lease as the caller got it, while the service holds token %d revoked", token)
                    .isNull();
            assertThat(waiting)
                    .failsWithin(Duration.ZERO)
                    .withThrowableOfType(ExecutionException.class)
                    .havingCause()
                    .isInstanceOf(LockLostException.class)
                    .withMessageContaining("token " + token);

            proxy.releaseEvents(); // the late events change nothing, and leave nothing held
            Lease next = holder.lock(NAME).acquire(Duration.ofSeconds(5));
            assertThat(next.fencingToken()).isGreaterThan(token);
            next.release();
        }
    }

    private static LockInfo describe(LockClient client) {
        return client.admin().describe(NAME).orElseThrow();
    }
}
