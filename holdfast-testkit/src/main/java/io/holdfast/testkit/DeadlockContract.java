package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.Capability;
import io.holdfast.DeadlockException;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link Capability#DEADLOCK_DETECTION}: a wait that would close a cycle is refused at once. */
abstract class DeadlockContract extends ContractSupport {
    DeadlockContract(LockProviderContract suite) {
        super(suite);
    }

    /**
     * Holds {@code held}, then (once {@code go} opens) waits for {@code wanted}, on one thread of
     * one client, and gives both back. Returns "granted" or throws what the second acquire threw.
     */
    private Background<String> holdThenWait(
            String what, LockClient client, String held, String wanted, CountDownLatch holding, CountDownLatch go) {
        return inBackground(what, () -> {
            Lease first = client.lock(held).acquire(PROMPTLY);
            try {
                holding.countDown();
                assertThat(go.await(PROMPTLY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
                client.lock(wanted).acquire(LONG_WAIT).release();
                return "granted";
            } finally {
                first.release();
            }
        });
    }

    @Test
    void aWaitThatWouldCloseACycleIsRefusedAtOnce() throws InterruptedException {
        assumeCapability(Capability.DEADLOCK_DETECTION);
        String a = name("a");
        String b = name("b");
        CountDownLatch holding = new CountDownLatch(2);
        CountDownLatch go1 = new CountDownLatch(1);
        CountDownLatch go2 = new CountDownLatch(1);
        Background<String> t1 = holdThenWait("holds-a-wants-b", open(), a, b, holding, go1);
        Background<String> t2 = holdThenWait("holds-b-wants-a", open(), b, a, holding, go2);
        assertThat(holding.await(PROMPTLY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        go1.countDown();
        awaitQueued(b, 1);

        go2.countDown();

        eventually(PROMPTLY.dividedBy(2))
                .alias("one of the two crossed waits (each for " + LONG_WAIT + ") to be refused")
                .until(() -> t1.isDone() || t2.isDone());
        boolean secondRefused = t2.isDone();
        Background<String> refused = secondRefused ? t2 : t1;
        Background<String> survivor = secondRefused ? t1 : t2;
        Throwable failure = refused.failure(PROMPTLY);
        assertThat(failure).isInstanceOf(DeadlockException.class);
        assertThat(((DeadlockException) failure).cycle())
                .as("the cycle named by the refusal, which starts with the refused lock")
                .startsWith(secondRefused ? a : b)
                .contains(a, b);
        assertThat(survivor.join(PROMPTLY))
                .as("the other wait, once the refused thread gave its lock back")
                .isEqualTo("granted");
    }
}
