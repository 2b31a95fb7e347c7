package io.holdfast.bench;

import io.holdfast.LockMode;
import io.holdfast.WatchEvent;
import io.holdfast.core.ChangeLog;
import io.holdfast.core.EventSink;
import io.holdfast.core.LockTable;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Acquire;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.Command.Release;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What recording the table's changes for watches costs the apply path: uncontended acquire +
 * release pairs (as {@link UncontendedBench#prebuilt}), with {@code changes=none} (the table tells
 * nobody) or {@code changes=log} (every change collected per entry and appended to a {@link
 * ChangeLog}, as every server member does since watches). One operation is one pair: two entries.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class ChangeLogBench {
    static final int RING = 4096;
    static final long TIME = 1_000;

    @Param({"none", "log"})
    public String changes;

    private String sessionId;
    private Command.Envelope[] acquires;
    private Command.Envelope[] releases;
    private LockTable table;
    private ChangeLog log;
    private long index;
    private int k;

    @Setup
    public void setup() {
        sessionId = BenchClient.sessionId("bench", 1);
        acquires = new Command.Envelope[RING];
        releases = new Command.Envelope[RING];
        for (int i = 0; i < RING; i++) {
            String name = "orders/" + (1_000_000 + i);
            long s = 2L * i + 1;
            acquires[i] = Command.Envelope.of(
                    TIME, new Acquire(new Invocation(sessionId, s, s), name, LockMode.EXCLUSIVE, 1, 1, 1, 0, 0));
            releases[i] = Command.Envelope.of(TIME, new Release(new Invocation(sessionId, s + 1, s + 1), name, i + 1));
        }
        log = new ChangeLog();
        newRing();
    }

    private void newRing() {
        table = new LockTable();
        BenchClient.open(table, sessionId, TIME);
        k = 0;
    }

    @Benchmark
    public void pair(Blackhole bh) {
        if (k == RING) {
            newRing();
        }
        int i = k++;
        bh.consume(apply(acquires[i]));
        bh.consume(apply(releases[i]));
    }

    private Object apply(Command.Envelope envelope) {
        if (changes.equals("none")) {
            return table.apply(envelope, EventSink.NONE);
        }
        List<WatchEvent> changed = new ArrayList<>(1);
        Object reply = table.apply(envelope, EventSink.NONE, changed::add);
        log.append(++index, changed);
        return reply;
    }
}
