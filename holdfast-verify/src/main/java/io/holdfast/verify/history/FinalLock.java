package io.holdfast.verify.history;

import java.util.List;

/**
 * What the service said about one lock after the workload stopped and every fault healed, before
 * the clients closed: a correct run shows no holders and no waiters, since every client gave back
 * what it held.
 *
 * @param holders the holders' session ids
 * @param holderTokens their tokens
 * @param waiters the number of queued waiters
 * @param liveSessions the session ids of the run's clients that were still open at that moment
 */
public record FinalLock(
        long time, String key, List<String> holders, List<Long> holderTokens, int waiters, List<String> liveSessions)
        implements Record {
    public FinalLock {
        holders = List.copyOf(holders);
        holderTokens = List.copyOf(holderTokens);
        liveSessions = List.copyOf(liveSessions);
    }
}
