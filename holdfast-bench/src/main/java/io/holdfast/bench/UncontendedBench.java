package io.holdfast.bench;

import io.holdfast.LockMode;
import io.holdfast.core.CommandCodec;
import io.holdfast.core.CommandFormatException;
import io.holdfast.core.EventSink;
import io.holdfast.core.LockTable;
import io.holdfast.model.Command.Acquire;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.Command.Release;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * Uncontended acquire + release pairs by one session on one thread; one operation is one pair
 * (two commands applied).
 *
 * <ul>
 *   <li>{@code prebuilt}: the commands (records and names) are built in setup, so the figure is
 *       the table's own cost. Pre-built releases must carry the right token, so the commands are
 *       a ring of {@value #RING} pairs for a fresh table (tokens 1, 2, 3, ...); at the end of the
 *       ring the benchmark starts a new table and reopens the session (amortised over the ring).
 *   <li>{@code alloc}: each pair allocates its two commands and invocation ids, and releases with
 *       the token from the reply, as the Raft adapter would after decoding a log entry; the name
 *       strings are shared (their hash codes are cached).
 *   <li>{@code codec}: as {@code prebuilt}, but the ring holds the commands in their log form
 *       ({@link CommandCodec#encode}) and each operation decodes both before applying them, as
 *       the Raft state machine does with every committed entry: the table plus the decoding.
 * </ul>
 *
 * {@code id}: see {@link #id}. {@code names}: {@code one} acquires and releases the same name every time; {@code rotating}
 * cycles through {@value #NAMES} distinct names ({@code orders/1000000}, ...).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class UncontendedBench {
    static final int RING = 4096;
    static final int NAMES = 4096;
    static final long TIME = 1_000;
    static final long OWNER = 1;

    @Param({"one", "rotating"})
    public String names;

    /**
     * The session's id: {@code text}, 18 characters (kept as a string by the table), or {@code
     * bits}, 22 characters as {@code SessionIds.newId()} makes them (kept as two longs, its text made
     * while the session holds something).
     */
    @Param({"text", "bits"})
    public String id;

    private String sessionId;
    private String[] nameSet;
    private int nameMask;

    // alloc
    private LockTable table;
    private long seq;
    private int n;

    // prebuilt
    private LockTable ringTable;
    private Acquire[] acquires;
    private Release[] releases;
    private int k;

    // codec
    private LockTable codecTable;
    private byte[][] encodedAcquires;
    private byte[][] encodedReleases;
    private int c;

    @Setup
    public void setup() {
        sessionId = id.equals("bits") ? "QmVuY2hTZXNzaW9uSWQxMA" : BenchClient.sessionId("bench", 1);
        int count = names.equals("one") ? 1 : NAMES;
        nameSet = new String[count];
        for (int i = 0; i < count; i++) {
            nameSet[i] = "orders/" + (1_000_000 + i);
        }
        nameMask = count - 1;
        table = new LockTable();
        BenchClient.open(table, sessionId, TIME);
        acquires = new Acquire[RING];
        releases = new Release[RING];
        for (int i = 0; i < RING; i++) {
            String name = nameSet[i & nameMask];
            long s = 2L * i + 1;
            acquires[i] = new Acquire(new Invocation(sessionId, s, s), name, LockMode.EXCLUSIVE, 1, 1, OWNER, 0, 0);
            releases[i] = new Release(new Invocation(sessionId, s + 1, s + 1), name, i + 1);
        }
        encodedAcquires = new byte[RING][];
        encodedReleases = new byte[RING][];
        for (int i = 0; i < RING; i++) {
            encodedAcquires[i] = CommandCodec.encode(TIME, acquires[i]);
            encodedReleases[i] = CommandCodec.encode(TIME, releases[i]);
        }
        newRing();
        newCodecRing();
    }

    private void newCodecRing() {
        codecTable = new LockTable();
        BenchClient.open(codecTable, sessionId, TIME);
        c = 0;
    }

    private void newRing() {
        ringTable = new LockTable();
        BenchClient.open(ringTable, sessionId, TIME);
        k = 0;
    }

    @Benchmark
    public void prebuilt(Blackhole bh) {
        if (k == RING) {
            newRing();
        }
        int i = k++;
        bh.consume(ringTable.apply(TIME, acquires[i], EventSink.NONE));
        bh.consume(ringTable.apply(TIME, releases[i], EventSink.NONE));
    }

    @Benchmark
    public Reply alloc() {
        long s = seq;
        seq = s + 2;
        return BenchClient.allocPair(table, TIME, sessionId, s + 1, nameSet[n++ & nameMask], OWNER);
    }

    @Benchmark
    public void codec(Blackhole bh) throws CommandFormatException {
        if (c == RING) {
            newCodecRing();
        }
        int i = c++;
        bh.consume(codecTable.apply(CommandCodec.decodeEnvelope(encodedAcquires[i]), EventSink.NONE));
        bh.consume(codecTable.apply(CommandCodec.decodeEnvelope(encodedReleases[i]), EventSink.NONE));
    }

    /** For tests: the tables the variants use. */
    LockTable allocTable() {
        return table;
    }

    LockTable ringTable() {
        return ringTable;
    }

    LockTable codecTable() {
        return codecTable;
    }
}
