package io.holdfast.bench;

import io.holdfast.core.LockTable;
import io.holdfast.model.Reply;
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

/**
 * The {@code alloc} variant of {@link UncontendedBench} on rotating names, but in a table that
 * already holds {@code held} locks ({@code held / 10} sessions holding 10 each): the lookups now
 * miss the caches the way they would on a busy server, and the collector has a large old
 * generation to look after. One operation is one acquire + release pair.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class BusyTableBench {
    static final long TIME = Population.TIME;
    static final long OWNER = 1;

    @Param({"1000000"})
    public int held;

    private LockTable table;
    private String sessionId;
    private String[] nameSet;
    private long seq;
    private int n;

    @Setup
    public void setup() {
        table = new LockTable();
        Population population = new Population(held / 10, 10);
        population.openSessions(table);
        population.acquireAll(table);
        sessionId = BenchClient.sessionId("bench", 1);
        BenchClient.open(table, sessionId, TIME);
        nameSet = new String[UncontendedBench.NAMES];
        for (int i = 0; i < nameSet.length; i++) {
            nameSet[i] = Population.lockName(held + i); // not among the held ones
        }
    }

    @Benchmark
    public Reply alloc() {
        long s = seq;
        seq = s + 2;
        return BenchClient.allocPair(table, TIME, sessionId, s + 1, nameSet[n++ & (UncontendedBench.NAMES - 1)], OWNER);
    }

    LockTable table() {
        return table;
    }
}
