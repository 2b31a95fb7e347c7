package io.holdfast.bench;

import io.holdfast.core.EventSink;
import io.holdfast.core.LockTable;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * A contended lock: one holder and {@code waiters} sessions queued behind it. One operation is one
 * handoff: the holder releases (the table grants the head of the queue in the same step and emits
 * the grant event), then the former holder queues again at the tail, so the queue length stays
 * {@code waiters}. Each re-queue runs the deadlock check over the holder and everyone ahead.
 *
 * <p>Commands are allocated per operation (their sequence numbers differ every time); the grant
 * event is caught by a sink that keeps the new holder's token, as the leader's delivery would.
 * Cluster time advances 1 ms per handoff and waits are {@value #WAIT_MILLIS} ms, so a waiter is
 * granted long before its deadline. A granted wait leaves its entry in the table's timer queue
 * (lazy deletion); such entries are older than every live one here, so {@link
 * LockTable#nextDeadline()}, which the benchmark calls once per handoff as a leader scheduling its
 * next tick would, drops them as soon as they reach the head.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class ContendedBench {
    static final String NAME = "orders/contended";
    static final long OWNER = 1;
    static final long WAIT_MILLIS = 10_000;

    @Param({"1", "16", "256"})
    public int waiters;

    private LockTable table;
    private BenchClient[] clients;
    private int holder;
    private long holderToken;
    private long time;
    private final GrantSink sink = new GrantSink();

    /** Keeps the last grant event. */
    static final class GrantSink implements EventSink {
        String sessionId;
        long token;
        int grants;

        @Override
        public void accept(Event event) {
            if (event instanceof Event.Granted g) {
                sessionId = g.sessionId();
                token = g.token();
                grants++;
            }
        }
    }

    @Setup
    public void setup() {
        table = new LockTable();
        time = 1_000;
        clients = new BenchClient[waiters + 1];
        for (int i = 0; i < clients.length; i++) {
            clients[i] = BenchClient.open(table, BenchClient.sessionId("contended", i), time);
        }
        holderToken = BenchClient.expect(
                        Reply.Granted.class,
                        table.apply(clients[0].acquire(time, NAME, OWNER, WAIT_MILLIS), EventSink.NONE))
                .token();
        for (int i = 1; i < clients.length; i++) {
            BenchClient.expect(
                    Reply.Queued.class,
                    table.apply(clients[i].acquire(time, NAME, OWNER, WAIT_MILLIS), EventSink.NONE));
        }
        holder = 0;
    }

    @Benchmark
    public void handoff(Blackhole bh) {
        BenchClient h = clients[holder];
        long t = ++time;
        bh.consume(table.apply(h.release(t, NAME, holderToken), sink));
        bh.consume(table.apply(h.acquire(t, NAME, OWNER, WAIT_MILLIS), EventSink.NONE));
        bh.consume(table.nextDeadline());
        holderToken = sink.token;
        holder = holder + 1 == clients.length ? 0 : holder + 1;
    }

    /** Fails the run if a handoff went wrong (a grant to the wrong session, a lost waiter). */
    @TearDown(Level.Iteration)
    public void check() {
        String expected = clients[holder].sessionId;
        if (sink.grants > 0 && !expected.equals(sink.sessionId)) {
            throw new IllegalStateException("granted " + sink.sessionId + ", expected " + expected);
        }
        int queued = table.describe(NAME, time).orElseThrow().waiters().size();
        if (queued != waiters) {
            throw new IllegalStateException(queued + " waiters, expected " + waiters);
        }
    }
}
