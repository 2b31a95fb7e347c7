package io.holdfast.floors;

import io.holdfast.LockMode;
import io.holdfast.core.CommandCodec;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Acquire;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.Command.Release;
import io.holdfast.model.Reply;
import io.holdfast.model.SessionIds;
import io.holdfast.server.raft.EntryCodec;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The entries of bench-peers' W1 as Holdfast's server logs them, for the {@code ratis-table} floor: each submitting
 * thread has a session and a lock of its own and alternates an exclusive acquire that does not wait and the release
 * of its grant, one command per Raft entry in {@link EntryCodec}'s frame, timed by this process's monotonic clock.
 * Two writes make one W1 pair.
 *
 * <p>Contract: {@link #next} gives the calling thread's next entry; {@link Write#check} reads the state machine's
 * answer to it (on any thread) and throws when the table refused it (an acquire not granted, a release not done), so
 * a floor counts only writes the table served as the server would. Each thread must wait for one write's check
 * before its next write (a closed loop, as {@link Floor} runs): that is what lets the acquire's token reach its
 * release. The session's first entry (opening it) is counted like any other write: one in a measured window of
 * thousands.
 */
final class TableWrites {
    /** The longest TTL the table takes (10 minutes): a floor's run (cold, primed, measured) is shorter. */
    private static final long TTL_MILLIS = 600_000;

    private static final AtomicInteger LOCKS = new AtomicInteger();

    private final long origin = System.nanoTime();
    private final ThreadLocal<Loop> loops = ThreadLocal.withInitial(Loop::new);

    /** One thread's session and lock, and where its loop of commands stands. */
    private static final class Loop {
        final String session = SessionIds.newId();
        final String lock = "orders/" + (1_000_000 + LOCKS.incrementAndGet());
        long seq;
        long token = -1;
        boolean open;
    }

    /** One entry, and the thread's loop it moves on once answered. */
    record Write(byte[] entry, Loop loop, Command command) {
        /**
         * Reads the answer to this entry and moves its thread's loop on.
         *
         * @throws IllegalStateException when the table did not serve it as W1 expects, naming the reply
         */
        void check(byte[] answer) {
            Reply r = EntryCodec.decodeReplies(answer, 1).get(0);
            if (command instanceof Command.OpenSession && r instanceof Reply.Ok) {
                loop.open = true;
            } else if (command instanceof Acquire && r instanceof Reply.Granted g) {
                loop.token = g.token();
            } else if (command instanceof Release && r instanceof Reply.Ok) {
                loop.token = -1;
            } else {
                throw new IllegalStateException(
                        "the table answered " + r + " to " + command.getClass().getSimpleName() + " of " + loop.lock);
            }
        }
    }

    /** The calling thread's next entry: its session's opening, then acquire and release in turn. */
    Write next() {
        Loop l = loops.get();
        Command c;
        if (!l.open) {
            c = new Command.OpenSession(l.session, "floor", TTL_MILLIS, 0);
        } else if (l.token < 0) {
            long s = ++l.seq;
            c = new Acquire(new Invocation(l.session, s, s), l.lock, LockMode.EXCLUSIVE, 1, 1, 1, 0, 0);
        } else {
            long s = ++l.seq;
            c = new Release(new Invocation(l.session, s, s), l.lock, l.token);
        }
        long now = (System.nanoTime() - origin) / 1_000_000;
        return new Write(EntryCodec.encodeCommands(List.of(CommandCodec.encode(now, c))), l, c);
    }
}
