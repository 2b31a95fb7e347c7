package io.holdfast.bench;

import io.holdfast.LockMode;
import io.holdfast.core.EventSink;
import io.holdfast.core.LockTable;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Acquire;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.Reply;

/**
 * One session's client as a real one behaves towards the table: every request gets the next
 * sequence number, and acknowledges every earlier one ({@code ackedBelow == seq}), so the table
 * remembers only the latest reply of the session.
 */
final class BenchClient {
    /** Session TTL the benchmarks open sessions with; sessions never expire inside the table. */
    static final long TTL_MILLIS = 30_000;

    final String sessionId;
    private long seq;

    BenchClient(String sessionId) {
        this.sessionId = sessionId;
    }

    /** A 22-character session id, distinct per {@code i}, in the alphabet the table accepts. */
    static String sessionId(String prefix, int i) {
        return String.format("%s-%012d", prefix, i);
    }

    /** Opens the session in {@code table}; fails loudly if the table refuses. */
    static BenchClient open(LockTable table, String sessionId, long time) {
        expect(
                Reply.Ok.class,
                table.apply(time, new Command.OpenSession(sessionId, "bench", TTL_MILLIS, 0), EventSink.NONE));
        return new BenchClient(sessionId);
    }

    /** The invocation id of the next request. */
    Invocation next() {
        long s = ++seq;
        return new Invocation(sessionId, s, s);
    }

    long lastSeq() {
        return seq;
    }

    /** An exclusive, non-reentrant acquire without lease timeout, at {@code time}. */
    Command.Envelope acquire(long time, String name, long owner, long waitMillis) {
        return Command.Envelope.of(time, new Acquire(next(), name, LockMode.EXCLUSIVE, 1, 1, owner, waitMillis, 0));
    }

    Command.Envelope release(long time, String name, long token) {
        return Command.Envelope.of(time, new Command.Release(next(), name, token));
    }

    /**
     * One acquire + release pair of a free lock with freshly allocated commands (sequence numbers
     * {@code seq} and {@code seq + 1}), the release carrying the token of the grant: what a client
     * sends, as the state machine receives it. Returns the release's reply.
     */
    static Reply allocPair(LockTable table, long time, String sessionId, long seq, String name, long owner) {
        Reply granted = table.apply(
                time,
                new Acquire(new Invocation(sessionId, seq, seq), name, LockMode.EXCLUSIVE, 1, 1, owner, 0, 0),
                EventSink.NONE);
        long token = ((Reply.Granted) granted).token();
        return table.apply(
                time, new Command.Release(new Invocation(sessionId, seq + 1, seq + 1), name, token), EventSink.NONE);
    }

    /** Casts a reply to the expected type, or throws with the reply in the message. */
    static <T extends Reply> T expect(Class<T> type, Reply reply) {
        if (!type.isInstance(reply)) {
            throw new IllegalStateException("expected " + type.getSimpleName() + ", got " + reply);
        }
        return type.cast(reply);
    }
}
