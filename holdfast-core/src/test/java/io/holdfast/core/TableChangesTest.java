package io.holdfast.core;

import static io.holdfast.LockMode.EXCLUSIVE;
import static io.holdfast.LockMode.PERMITS;
import static io.holdfast.LockMode.SHARED;
import static io.holdfast.WatchEvent.Cause.CANCELLED;
import static io.holdfast.WatchEvent.Cause.LEASE_TIMEOUT;
import static io.holdfast.WatchEvent.Cause.RELEASED;
import static io.holdfast.WatchEvent.Cause.REVOKED;
import static io.holdfast.WatchEvent.Cause.SESSION_CLOSED;
import static io.holdfast.WatchEvent.Cause.SESSION_EXPIRED;
import static io.holdfast.WatchEvent.Cause.TIMED_OUT;
import static io.holdfast.WatchEvent.acquired;
import static io.holdfast.WatchEvent.queued;
import static io.holdfast.WatchEvent.registerSet;
import static io.holdfast.WatchEvent.released;
import static io.holdfast.WatchEvent.waitEnded;
import static io.holdfast.core.TableDriver.failed;
import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.WatchEvent;
import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.Command;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The changes {@link LockTable#apply(Command.Envelope, EventSink, java.util.function.Consumer)}
 * tells (what watches report): exactly one per change to a holder, a queue or a register, with
 * its cause, in the order the table makes them; none for a busy try, a refusal or a retry
 * answered from memory; the same on every table that applies the same commands.
 */
class TableChangesTest {
    private final Recorder r = new Recorder();
    private final Client a = r.d.open("a");
    private final Client b = r.d.open("b");
    private final Client c = r.d.open("c");

    @Test
    void anImmediateGrantIsAcquiredAndABusyTryChangesNothing() {
        long t = token(r.apply(a.acquire("x").command()));
        assertThat(r.last).containsExactly(acquired("x", a.id, t, EXCLUSIVE));

        assertThat(r.apply(b.acquire("x").command())).isEqualTo(Reply.Busy.INSTANCE);
        assertThat(r.last).isEmpty();
        assertThat(r.apply(new Command.OpenSession(TableDriver.sessionId("d"), "d", TableDriver.TTL, 0)))
                .isEqualTo(Reply.Ok.INSTANCE);
        assertThat(r.last).as("opening a session changes no lock").isEmpty();
    }

    @Test
    void aReleaseHandsTheLockToTheNextWaiterWithoutAWaitEnded() {
        long t1 = token(r.apply(a.acquire("x").command()));
        assertThat(r.apply(b.acquire("x").waitMillis(10_000).command())).isEqualTo(Reply.Queued.INSTANCE);
        assertThat(r.last).containsExactly(queued("x", b.id, EXCLUSIVE));
        assertThat(r.apply(c.acquire("x").shared().waitMillis(10_000).command()))
                .isEqualTo(Reply.Queued.INSTANCE);
        assertThat(r.last).containsExactly(queued("x", c.id, SHARED));

        assertThat(release(a, "x", t1)).isEqualTo(Reply.Ok.INSTANCE);
        long t2 = t1 + 1;
        assertThat(r.last)
                .containsExactly(released("x", a.id, t1, EXCLUSIVE, RELEASED), acquired("x", b.id, t2, EXCLUSIVE));

        release(b, "x", t2);
        assertThat(r.last)
                .containsExactly(released("x", b.id, t2, EXCLUSIVE, RELEASED), acquired("x", c.id, t2 + 1, SHARED));
    }

    @Test
    void readersQueuedTogetherAreAcquiredTogether() {
        long t1 = token(r.apply(a.acquire("x").command()));
        r.apply(b.acquire("x").shared().waitMillis(10_000).command());
        r.apply(c.acquire("x").shared().waitMillis(10_000).command());

        release(a, "x", t1);

        assertThat(r.last)
                .containsExactly(
                        released("x", a.id, t1, EXCLUSIVE, RELEASED),
                        acquired("x", b.id, t1 + 1, SHARED),
                        acquired("x", c.id, t1 + 2, SHARED));
    }

    @Test
    void aWaitPastItsDeadlineEndsTimedOut() {
        long t1 = token(r.apply(a.acquire("x").command()));
        r.apply(b.acquire("x").waitMillis(1_000).command());

        r.d.advance(999);
        r.apply(new Command.Tick());
        assertThat(r.last).as("not due yet").isEmpty();
        r.d.advance(1);
        r.apply(new Command.Tick());

        assertThat(r.last).containsExactly(waitEnded("x", b.id, EXCLUSIVE, TIMED_OUT));
        release(a, "x", t1);
        assertThat(r.last).containsExactly(released("x", a.id, t1, EXCLUSIVE, RELEASED));
    }

    @Test
    void aCancelledWaitEndsCancelledAndLetsTheNextOneIn() {
        long t1 = token(r.apply(a.acquire("x").shared().command()));
        r.apply(b.acquire("x").waitMillis(10_000).command());
        long bSeq = b.lastSeq();
        r.apply(c.acquire("x").shared().waitMillis(10_000).command());

        assertThat(r.apply(new Command.CancelWait(b.next(), "x", bSeq))).isEqualTo(new Reply.Ok(1));

        assertThat(r.last)
                .containsExactly(waitEnded("x", b.id, EXCLUSIVE, CANCELLED), acquired("x", c.id, t1 + 1, SHARED));
    }

    @Test
    void aLeaseThatRunsOutIsReleasedWithLeaseTimeout() {
        long t1 = token(r.apply(a.acquire("x").lease(1_000).command()));
        r.apply(b.acquire("x").waitMillis(10_000).command());

        r.d.advance(1_000);
        r.apply(new Command.Tick());

        assertThat(r.last)
                .containsExactly(
                        released("x", a.id, t1, EXCLUSIVE, LEASE_TIMEOUT), acquired("x", b.id, t1 + 1, EXCLUSIVE));
    }

    @Test
    void anExpiredSessionLosesItsHoldsAndItsWaits() {
        long x = token(r.apply(a.acquire("x").command()));
        long y = token(r.apply(b.acquire("y").command()));
        r.apply(a.acquire("y").owner(2).waitMillis(10_000).command());
        r.apply(c.acquire("x").waitMillis(10_000).command());

        assertThat(r.apply(new Command.ExpireSession(a.id))).isEqualTo(new Reply.Ok(1));

        assertThat(r.last)
                .containsExactly(
                        released("x", a.id, x, EXCLUSIVE, SESSION_EXPIRED),
                        waitEnded("y", a.id, EXCLUSIVE, SESSION_EXPIRED),
                        acquired("x", c.id, y + 1, EXCLUSIVE));
    }

    @Test
    void aClosedSessionGivesBackItsHoldsAndWaitsAsSessionClosed() {
        long x = token(r.apply(a.acquire("x").command()));
        token(r.apply(b.acquire("y").command()));
        r.apply(a.acquire("y").owner(2).waitMillis(10_000).command());

        assertThat(r.apply(new Command.CloseSession(a.next()))).isEqualTo(Reply.Ok.INSTANCE);

        assertThat(r.last)
                .containsExactly(
                        released("x", a.id, x, EXCLUSIVE, SESSION_CLOSED),
                        waitEnded("y", a.id, EXCLUSIVE, SESSION_CLOSED));
    }

    @Test
    void aRevokeReleasesEveryHolderAsRevoked() {
        long ta = token(r.apply(a.acquire("x").shared().command()));
        long tb = token(r.apply(b.acquire("x").shared().command()));
        r.apply(c.acquire("x").waitMillis(10_000).command());

        assertThat(r.apply(new Command.Revoke("x"))).isEqualTo(new Reply.Ok(2));

        assertThat(r.last)
                .containsExactly(
                        released("x", a.id, ta, SHARED, REVOKED),
                        released("x", b.id, tb, SHARED, REVOKED),
                        acquired("x", c.id, tb + 1, EXCLUSIVE));
        r.apply(new Command.Revoke("nothing"));
        assertThat(r.last).isEmpty();
    }

    @Test
    void semaphorePermitsAreAcquiredInPermitsMode() {
        long t = token(r.apply(a.acquire("s").permits(2, 3).command()));
        assertThat(r.last).containsExactly(acquired("s", a.id, t, PERMITS));
        r.apply(b.acquire("s").permits(2, 3).waitMillis(10_000).command());
        assertThat(r.last).containsExactly(queued("s", b.id, PERMITS));
    }

    @Test
    void aMultiLockIsQueuedAndAcquiredOncePerName() {
        long held = token(r.apply(b.acquire("m/b").command()));
        assertThat(r.apply(a.acquireAllCommand(EXCLUSIVE, 1, 10_000, 0, "m/a", "m/b", "m/c")))
                .isEqualTo(Reply.Queued.INSTANCE);
        assertThat(r.last)
                .containsExactly(
                        queued("m/a", a.id, EXCLUSIVE), queued("m/b", a.id, EXCLUSIVE), queued("m/c", a.id, EXCLUSIVE));

        release(b, "m/b", held);

        assertThat(r.last)
                .containsExactly(
                        released("m/b", b.id, held, EXCLUSIVE, RELEASED),
                        acquired("m/a", a.id, held + 1, EXCLUSIVE),
                        acquired("m/b", a.id, held + 2, EXCLUSIVE),
                        acquired("m/c", a.id, held + 3, EXCLUSIVE));
    }

    @Test
    void aFreeMultiLockIsAcquiredAtOnceAndATimedOutOneEndsEveryWait() {
        Reply all = r.apply(a.acquireAllCommand(SHARED, 1, 0, 0, "m/a", "m/b"));
        List<Long> tokens = ((Reply.GrantedAll) all).tokens();
        assertThat(r.last)
                .containsExactly(
                        acquired("m/a", a.id, tokens.get(0), SHARED), acquired("m/b", a.id, tokens.get(1), SHARED));

        r.apply(b.acquireAllCommand(EXCLUSIVE, 1, 500, 0, "m/b", "m/c"));
        r.d.advance(500);
        r.apply(new Command.Tick());

        assertThat(r.last)
                .containsExactly(
                        waitEnded("m/b", b.id, EXCLUSIVE, TIMED_OUT), waitEnded("m/c", b.id, EXCLUSIVE, TIMED_OUT));
    }

    @Test
    void aWriteIsRegisterSetAndARefusedWriteChangesNothing() {
        assertThat(set(a, "k", 0, new byte[] {1, 2})).isEqualTo(new Reply.Written(1));
        assertThat(r.last).containsExactly(registerSet("k", a.id, 1, new byte[] {1, 2}));

        failed(set(b, "k", 0, new byte[] {9}), ErrorCode.CONFLICT);
        assertThat(r.last).as("a write at the wrong version").isEmpty();
        failed(r.apply(new RegisterSet(b.next(), "k", 1, new byte[] {9}, "x", 42)), ErrorCode.CONFLICT);
        assertThat(r.last).as("a write fenced by a token that is not held").isEmpty();

        assertThat(set(b, "k", 1, new byte[] {3})).isEqualTo(new Reply.Written(2));
        assertThat(r.last).containsExactly(registerSet("k", b.id, 2, new byte[] {3}));
    }

    @Test
    void aRetryAnsweredFromMemoryChangesNothingAgain() {
        Command.Acquire acquire = a.acquire("x").command();
        long t = token(r.apply(acquire));
        assertThat(r.apply(acquire)).isEqualTo(new Reply.Granted(t));
        assertThat(r.last).isEmpty();

        Command.Acquire wait = b.acquire("x").waitMillis(10_000).command();
        r.apply(wait);
        assertThat(r.apply(wait)).isEqualTo(Reply.Queued.INSTANCE);
        assertThat(r.last).isEmpty();

        Command.Release release = new Command.Release(a.next(), "x", t);
        r.apply(release);
        assertThat(r.last).hasSize(2);
        assertThat(r.apply(release)).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(r.last).as("the retried release releases b's grant no more").isEmpty();

        RegisterSet write = new RegisterSet(c.next(), "k", 0, new byte[] {1}, null, 0);
        r.apply(write);
        assertThat(r.apply(write)).isEqualTo(new Reply.Written(1));
        assertThat(r.last).isEmpty();
        assertThat(r.all).hasSize(5);
    }

    @Test
    void twoTablesApplyingTheSameCommandsTellTheSameChangesAndNullTellsNobody() {
        List<WatchEvent> one = scenario(new Recorder());
        List<WatchEvent> two = scenario(new Recorder());
        assertThat(one).hasSizeGreaterThan(10).isEqualTo(two);
        assertThat(one)
                .extracting(WatchEvent::type)
                .contains(
                        WatchEvent.Type.ACQUIRED,
                        WatchEvent.Type.RELEASED,
                        WatchEvent.Type.QUEUED,
                        WatchEvent.Type.WAIT_ENDED,
                        WatchEvent.Type.REGISTER_SET);

        Recorder silent = new Recorder();
        silent.record = false;
        assertThat(scenario(silent)).isEmpty();
        Recorder loud = new Recorder();
        scenario(loud);
        assertThat(TableDriver.snapshotOf(silent.d.table()))
                .as("telling nobody leaves the same table")
                .isEqualTo(TableDriver.snapshotOf(loud.d.table()));
    }

    /** Sessions, grants, waits of every kind, a timeout, an expiry and writes; returns every change. */
    private static List<WatchEvent> scenario(Recorder r) {
        Client a = r.d.open("a");
        Client b = r.d.open("b");
        Client c = r.d.open("c");
        long x = token(r.apply(a.acquire("x").lease(2_000).command()));
        r.apply(b.acquire("x").shared().waitMillis(5_000).command());
        r.apply(c.acquire("x").shared().waitMillis(500).command());
        r.apply(c.acquireAllCommand(EXCLUSIVE, 2, 10_000, 0, "m/a", "x"));
        r.apply(new RegisterSet(a.next(), "k", 0, new byte[] {7}, "x", x));
        r.d.advance(600);
        r.apply(new Command.Tick());
        r.d.advance(1_400);
        r.apply(new Command.Tick());
        r.apply(new Command.ExpireSession(b.id));
        r.apply(new RegisterSet(c.next(), "k", 1, new byte[] {8}, null, 0));
        r.apply(new Command.CloseSession(c.next()));
        return r.all;
    }

    private Reply release(Client client, String name, long token) {
        return r.apply(new Command.Release(client.next(), name, token));
    }

    private Reply set(Client client, String key, long expectedVersion, byte[] value) {
        return r.apply(new RegisterSet(client.next(), key, expectedVersion, value, null, 0));
    }

    /** A {@link TableDriver} whose commands go through the three-argument apply, recording the changes. */
    private static final class Recorder {
        final TableDriver d = new TableDriver();
        final List<WatchEvent> all = new ArrayList<>();
        /** The changes of the last apply. */
        List<WatchEvent> last = List.of();
        /** False: apply with no listener (null). */
        boolean record = true;

        Reply apply(Command command) {
            List<WatchEvent> changes = new ArrayList<>();
            Reply reply =
                    d.table().apply(Command.Envelope.of(d.time(), command), e -> {}, record ? changes::add : null);
            assertThat(reply).isNotNull();
            last = List.copyOf(changes);
            all.addAll(changes);
            return reply;
        }
    }
}
