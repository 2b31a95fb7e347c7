package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.LockMode;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.util.Base64;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * What an idle session (opened, holding and waiting for nothing) costs every replica's table:
 * issue 69 allows 200 bytes per session on a member that does not carry it, for everything it
 * keeps. Measured as the heap the table keeps after full collections (surefire's JVMs run the
 * serial collector, whose {@code System.gc()} is a full, compacting collection), with every
 * string fresh, as decoding log entries makes them, and none kept by the test.
 */
class SessionFootprintTest {
    private static final int SESSIONS = 50_000;
    private static final long SEED = 69;

    /**
     * 22-character ids and a fleet's few client names: 262 bytes per session before the ids were
     * kept as two longs in an array without map nodes and the names shared (the id's string 64,
     * the name's 56, the map's node and slot 43, the session 96), 112 after.
     */
    @Test
    void anIdleSessionCostsTheTableUnder140Bytes() {
        LockTable table = table();
        long base = usedAfterGc();
        open(table);
        double perSession = (usedAfterGc() - base) / (double) SESSIONS;
        assertThat(table.sessionCount()).isEqualTo(SESSIONS);
        assertThat(perSession).as("heap bytes per idle session").isLessThan(140);
        Reference.reachabilityFence(table);
    }

    /**
     * A session keeps its id's text while it holds something (its events name it), and lets it go
     * when it holds nothing again: a session that took and released a lock costs what an idle one
     * does (its remembered reply to the release is a shared object).
     */
    @Test
    void aSessionThatHeldALockAndReleasedItCostsNoMore() {
        LockTable table = table();
        long base = usedAfterGc();
        open(table);
        Random random = new Random(SEED); // the same ids again, as fresh strings
        for (int i = 0; i < SESSIONS; i++) {
            String id = newId(random);
            Reply r = table.apply(
                    3,
                    new Command.Acquire(new Command.Invocation(id, 1, 0), "scratch", LockMode.EXCLUSIVE, 1, 1, 1, 0, 0),
                    EventSink.NONE);
            Reply released = table.apply(
                    3,
                    new Command.Release(new Command.Invocation(id, 2, 2), "scratch", ((Reply.Granted) r).token()),
                    EventSink.NONE);
            assertThat(released).isEqualTo(Reply.Ok.INSTANCE);
        }
        double perSession = (usedAfterGc() - base) / (double) SESSIONS;
        assertThat(perSession).as("heap bytes per session, its lock released").isLessThan(140);
        Reference.reachabilityFence(table);
    }

    private static LockTable table() {
        LockTable table = new LockTable();
        long most = Integer.MAX_VALUE;
        assertThat(table.apply(
                        Command.Envelope.of(
                                1, new Command.SetQuotas(Map.of("sessions-per-identity", most, "state-entries", most))),
                        EventSink.NONE))
                .isEqualTo(Reply.Ok.INSTANCE);
        return table;
    }

    /** Opens the sessions: fresh 22-character ids, a fleet's few client names (each a fresh string). */
    private static void open(LockTable table) {
        Random random = new Random(SEED);
        for (int i = 0; i < SESSIONS; i++) {
            Command.OpenSession open = new Command.OpenSession(newId(random), "worker-" + (i % 8), 10_000, 0);
            assertThat(table.apply(2, open, EventSink.NONE)).isEqualTo(Reply.Ok.INSTANCE);
        }
    }

    /** An id as {@link io.holdfast.model.SessionIds#newId()} makes them, from a seeded random. */
    static String newId(Random random) {
        byte[] raw = new byte[16];
        random.nextBytes(raw);
        raw[0] &= 0x7f;
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    }

    /** Used heap after full collections: the least of three readings. */
    private static long usedAfterGc() {
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            least = Math.min(
                    least,
                    ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return least;
    }
}
