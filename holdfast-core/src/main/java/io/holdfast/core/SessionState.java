package io.holdfast.core;

import io.holdfast.LockMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What one session holds and waits for, read from the table at one point of the log: what a client
 * that may have missed events (a reconnection, a node that cannot replay them) compares with what
 * it believes, so that every grant it lost meanwhile shows as one it no longer holds.
 *
 * @param holds the session's grants, in grant order
 * @param waits the session's queued acquires, in the order they queued; a multi-lock's wait once,
 *     under its first name
 */
public record SessionState(List<Held> holds, List<Waiting> waits) {
    public SessionState {
        holds = List.copyOf(holds);
        waits = List.copyOf(waits);
    }

    /** One grant: its lock, fencing token, mode and permits. */
    public record Held(String name, long token, LockMode mode, int permits) {}

    /** One queued acquire: its (first) lock and the sequence number of the acquire that queued it. */
    public record Waiting(String name, long seq) {}

    /** The state of the session with this id in the table's maps; empty if there is none. */
    static Optional<SessionState> of(Session session) {
        if (session == null) {
            return Optional.empty();
        }
        List<Held> holds = new ArrayList<>(session.holdCount);
        for (Hold h = session.holdsHead; h != null; h = h.sNext) {
            holds.add(new Held(h.resource.name, h.token, h.mode, h.permits));
        }
        List<Waiting> waits = new ArrayList<>(session.waitCount);
        for (Waiter w = session.waitsHead; w != null; w = w.sNext) {
            if (w.group == null || w.group[0] == w) {
                waits.add(new Waiting(w.resource.name, w.seq));
            }
        }
        return Optional.of(new SessionState(holds, waits));
    }
}
