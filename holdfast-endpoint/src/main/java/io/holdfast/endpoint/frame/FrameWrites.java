package io.holdfast.endpoint.frame;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Answers that one thread sends together: inside {@link #together}, what the thread sends on a
 * {@link FrameServer}'s connections is held, and each connection it touched gets one write at the
 * end (a gathering write of its held frames), instead of one write per frame. A Raft entry carries
 * many clients' commands, and their answers are produced one after the other on the state
 * machine's thread: a unary answer is two frames (its message and its close), so a batch of 64
 * answers on one connection was 128 writes to the socket, and is now one.
 *
 * <p>Guarantees: every frame held is written (or queued for the server thread, when the socket does
 * not take it all) before {@code together} returns, also when {@code sends} throws; frames keep
 * their order on each connection, with frames other threads send meanwhile; a thread that is
 * already inside {@code together} just runs {@code sends} (the outermost call writes). Outside
 * {@code together} nothing changes: an answer goes straight to the socket.
 *
 * <p>Work may also wait for the batch's end: {@link #defer} runs an action there, before the
 * writes. The frame server's thread handles what one wake-up of its selector brings (every frame
 * of each connection's read) inside a batch, so that requests that arrived together can be sent on
 * together (the Raft proposer puts them in one log entry) and their immediate answers leave
 * together.
 *
 * <p>Not guaranteed: nothing bounds how long {@code sends} holds its answers; callers wrap only
 * work that produces answers and does not wait (completing the futures of one log entry, handling
 * the frames of one read). Work inside a batch must never wait for what it deferred: that waits
 * for ever.
 *
 * <p>A failure story: a completion inside {@code sends} throws half-way through an entry's
 * answers. The answers sent before it are still written, after the deferred work, and the
 * exception goes on to the caller, as it did before.
 */
public final class FrameWrites {
    private static final ThreadLocal<FrameWrites> CURRENT = new ThreadLocal<>();

    /** The connections this thread held frames on, in the order it first did. */
    private final List<FrameConnection> held = new ArrayList<>();
    /** What waits for the batch's end, in the order deferred. */
    private final ArrayDeque<Runnable> deferred = new ArrayDeque<>();

    private FrameWrites() {}

    /** Runs {@code sends}, then writes what it sent on each frame connection at once. */
    public static void together(Runnable sends) {
        if (CURRENT.get() != null) {
            sends.run();
            return;
        }
        FrameWrites writes = new FrameWrites();
        CURRENT.set(writes);
        RuntimeException failed = null;
        try {
            sends.run();
        } catch (RuntimeException e) {
            failed = e;
        } finally {
            // Deferred work runs inside the batch (what it sends is held too) and may defer more.
            for (Runnable action; (action = writes.deferred.poll()) != null; ) {
                try {
                    action.run();
                } catch (RuntimeException e) {
                    if (failed == null) {
                        failed = e;
                    } else {
                        failed.addSuppressed(e);
                    }
                }
            }
            CURRENT.remove();
            for (FrameConnection connection : writes.held) {
                connection.writeHeld(writes);
            }
        }
        if (failed != null) {
            throw failed;
        }
    }

    /**
     * Runs {@code action} at the end of this thread's batch, after {@code sends} and what was
     * deferred before it, before the batch's writes; returns false, and does nothing, when the
     * thread is not inside {@link #together} (the caller then acts at once). An action that
     * throws does not keep the others or the writes from running; the first exception goes to
     * {@code together}'s caller.
     */
    public static boolean defer(Runnable action) {
        FrameWrites writes = CURRENT.get();
        if (writes == null) {
            return false;
        }
        writes.deferred.add(action);
        return true;
    }

    /** This thread's batch, or null outside {@link #together}. */
    static FrameWrites current() {
        return CURRENT.get();
    }

    /** Called by a connection the first time it holds a frame for this batch. */
    void hold(FrameConnection connection) {
        held.add(connection);
    }
}
