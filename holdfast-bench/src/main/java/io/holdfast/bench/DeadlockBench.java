package io.holdfast.bench;

import io.holdfast.ErrorCode;
import io.holdfast.core.EventSink;
import io.holdfast.core.Limits;
import io.holdfast.core.LockTable;
import io.holdfast.model.Command.CancelWait;
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
 * Deadlock checks on a wait chain of {@code length} owners, each in its own session: owner
 * {@code i} holds {@code chain/i} and waits for {@code chain/i+1}; the last owner holds the last
 * lock and waits for nothing.
 *
 * <ul>
 *   <li>{@code closesCycle}: the last owner asks for {@code chain/0}; the check walks the whole
 *       chain back to it and the table refuses with {@code DEADLOCK}, naming the cycle. Nothing
 *       changes, so one operation is one command.
 *   <li>{@code noCycle}: an owner outside the chain asks for {@code chain/0}; the check walks the
 *       whole chain, finds no cycle, and the acquire queues. The same session then cancels the
 *       wait to restore the chain, so one operation is two commands (acquire + cancel).
 *   <li>{@code noCycleBaseline}: as {@code noCycle}, but on the last lock of the chain, whose
 *       holder waits for nothing: the check visits only that holder and the one waiter ahead. The
 *       difference to {@code noCycle} is the cost of walking the chain.
 * </ul>
 *
 * Commands are allocated per operation. Cluster time advances 1 ms every 16 operations; the chain's
 * own waits last a day and never come due. The outside owner's cancelled waits (1 s) leave stale
 * entries in the timer queue that are earlier than the chain's, so {@link LockTable#nextDeadline()}
 * (called once per operation, as a leader would) drops them at once.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class DeadlockBench {
    static final long OWNER = 1;
    static final long OUTSIDER_WAIT_MILLIS = 1_000;

    @Param({"10", "100", "1000"})
    public int length;

    private LockTable table;
    private BenchClient[] chain;
    private BenchClient last;
    private BenchClient outsider;
    private String head;
    private String tail;
    private long ops;

    static String lockName(int i) {
        return String.format("chain/%06d", i);
    }

    @Setup
    public void setup() {
        table = new LockTable();
        long t = 1_000;
        ops = t << 4;
        chain = new BenchClient[length];
        for (int i = 0; i < length; i++) {
            chain[i] = BenchClient.open(table, BenchClient.sessionId("chain", i), t);
            BenchClient.expect(
                    Reply.Granted.class, table.apply(chain[i].acquire(t, lockName(i), OWNER, 0), EventSink.NONE));
        }
        for (int i = 0; i + 1 < length; i++) {
            BenchClient.expect(
                    Reply.Queued.class,
                    table.apply(chain[i].acquire(t, lockName(i + 1), OWNER, Limits.MAX_WAIT_MILLIS), EventSink.NONE));
        }
        last = chain[length - 1];
        outsider = BenchClient.open(table, BenchClient.sessionId("outsider", 0), t);
        head = lockName(0);
        tail = lockName(length - 1);
    }

    private long tick() {
        return ++ops >>> 4;
    }

    @Benchmark
    public Reply closesCycle(Blackhole bh) {
        long t = tick();
        bh.consume(table.nextDeadline());
        return table.apply(last.acquire(t, head, OWNER, OUTSIDER_WAIT_MILLIS), EventSink.NONE);
    }

    @Benchmark
    public Reply noCycle(Blackhole bh) {
        return queueAndCancel(head, bh);
    }

    @Benchmark
    public Reply noCycleBaseline(Blackhole bh) {
        return queueAndCancel(tail, bh);
    }

    private Reply queueAndCancel(String name, Blackhole bh) {
        long t = tick();
        bh.consume(table.apply(outsider.acquire(t, name, OWNER, OUTSIDER_WAIT_MILLIS), EventSink.NONE));
        long waitSeq = outsider.lastSeq();
        Reply cancelled = table.apply(t, new CancelWait(outsider.next(), name, waitSeq), EventSink.NONE);
        bh.consume(table.nextDeadline());
        return cancelled;
    }

    /** Fails the run if the chain broke (a wait timed out or was granted). */
    @TearDown(Level.Iteration)
    public void check() {
        for (int i = 0; i < length; i++) {
            var info = table.describe(lockName(i), ops >>> 4).orElseThrow();
            int expectedWaiters = i == 0 ? 0 : 1;
            if (info.holders().size() != 1 || info.waiters().size() != expectedWaiters) {
                throw new IllegalStateException("chain broken at " + lockName(i) + ": " + info);
            }
        }
        Reply probe = table.apply(last.acquire(ops >>> 4, head, OWNER, OUTSIDER_WAIT_MILLIS), EventSink.NONE);
        if (!(probe instanceof Reply.Failed f) || f.code() != ErrorCode.DEADLOCK) {
            throw new IllegalStateException("expected DEADLOCK, got " + probe);
        }
    }
}
