package io.holdfast.server.node;

import io.holdfast.ErrorCode;
import io.holdfast.UnavailableException;
import io.holdfast.model.Reply;
import io.holdfast.server.leadership.LeaseRefusals;
import io.holdfast.server.leadership.RaftGateway;
import io.holdfast.server.raft.TableQuery.TouchSessions.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A client's heartbeats at this node, turned into replies: at a member that does not lead, each is
 * relayed to the leader in the member's next round ({@link SessionRelay}); at the leader, touched
 * at once ({@link Heartbeats}). One heartbeat a call, or several of one connection in one call
 * ({@link #keepAliveMany}), by the same rules.
 *
 * <p><b>Guarantees</b> (the rules are {@link Heartbeats}'s; below, why the lease).
 *
 * <ul>
 *   <li>An acknowledgement means the leader's verdict was {@link Verdict#ACKED}: it led, with its
 *       lease, and moved the session's deadline a TTL on.
 *   <li>A member holds a relayed heartbeat for the leader's verdict at most {@value
 *       #MAX_HOLD_MILLIS} ms (a third of the session's TTL when that is shorter); a member that
 *       gets no verdict in that time fails the heartbeat with {@link UnavailableException}, so the
 *       client tries another member.
 *   <li>In a call of several, a verdict that refuses one session ({@code EXPIRING}, {@code
 *       UNTRACKED}) is that session's {@code UNAVAILABLE} reply; what refuses them all (no verdict
 *       within the hold, a leader without its lease) fails the whole call, as it fails a single
 *       heartbeat.
 * </ul>
 *
 * <p><b>Does not</b> keep anything per session: the held heartbeats are the relay's, the deadlines
 * the leader's duties'.
 */
final class HeartbeatReplies {
    /**
     * The longest a member holds a relayed heartbeat for the leader's verdict: a third of the
     * session's TTL when that is shorter (ADR 0003).
     */
    static final long MAX_HOLD_MILLIS = 2000;

    /**
     * The longest a member holds a relayed heartbeat while it hears from a leader (ADR 0003): a
     * third of the session's TTL when that is shorter. A client's heartbeat call waits for half its
     * TTL, so the answer still comes within it.
     */
    static final long MAX_LONGEST_HOLD_MILLIS = 5000;

    private final NodeParts parts;

    HeartbeatReplies(NodeParts parts) {
        this.parts = parts;
    }

    /**
     * A heartbeat is acknowledged only while this leader holds its lease: a majority of the voters
     * (itself counted) answered it within {@link RaftGateway#leaseMillis()}, less than the shortest
     * election timeout, so that no other leader can have been elected since. A refusal is counted
     * and logged ({@link LeaseRefusals}).
     *
     * <p>Why: a client counts its leases valid for a TTL from the sending of its last acknowledged
     * heartbeat, and a new leader gives every session a fresh TTL from its own start. A leader cut
     * off from the others (or paused, then resumed) still takes itself for the leader until it
     * notices, up to an election timeout later, while the others may have elected a new leader
     * already. Heartbeats it acknowledged on its own say in that time would let its clients count
     * on a TTL that ends after the new leader has expired them and handed their locks to others.
     * (A Ratis read barrier does not help: it answers at once when nothing was committed since
     * the last round that a majority acknowledged, which a deposed leader's last round was.)
     *
     * <p>Nor is a heartbeat acknowledged while the session's expiry is in flight (proposed, not
     * yet applied): the expiry does not look at heartbeats, and once applied it hands the
     * session's locks on while the client counts a fresh TTL from the acknowledged heartbeat. The
     * client is told to ask again; the expiry is final on this leader (also when its proposal
     * failed: it may still be applied), so the next answer is SESSION_EXPIRED, or, from a new
     * leader, which gives every session a fresh TTL, an acknowledgement. (Found by {@code holdfast
     * verify}: keys scenario, seed 2414307957.)
     */
    CompletableFuture<Reply> keepAlive(String sessionId) {
        if (!parts.duties().isActive()) {
            // A member that does not lead relays the heartbeat to the leader (ADR 0003).
            long ttl = parts.machine().read(t -> t.hasSession(sessionId) ? t.sessionTtlMillis(sessionId) : 0L);
            return parts.relay()
                    .heartbeat(sessionId, hold(ttl), longestHold(ttl))
                    .thenCompose(v -> answer(sessionId, v));
        }
        Verdict verdict;
        try {
            verdict = parts.heartbeats().touch(List.of(sessionId)).get(0);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return answer(sessionId, verdict);
    }

    /** A heartbeat's reply, from the leader's verdict on it. */
    private static CompletableFuture<Reply> answer(String sessionId, Verdict verdict) {
        Reply reply = verdictReply(sessionId, verdict);
        if (reply instanceof Reply.Failed f && f.code() == ErrorCode.UNAVAILABLE) {
            return CompletableFuture.failedFuture(new UnavailableException(f.message())); // ask again
        }
        return CompletableFuture.completedFuture(reply);
    }

    /**
     * Heartbeats for several sessions (one connection's, due together), each by the rules of
     * {@link #keepAlive(String)}: relayed in the next round at a member, touched at once under one
     * lease check at the leader. See the class comment for what fails one and what fails all.
     */
    CompletableFuture<List<Reply>> keepAliveMany(List<String> sessionIds) {
        if (!parts.duties().isActive()) {
            long[] ttls = parts.machine().read(t -> {
                long[] out = new long[sessionIds.size()];
                for (int i = 0; i < out.length; i++) {
                    String id = sessionIds.get(i);
                    out[i] = t.hasSession(id) ? t.sessionTtlMillis(id) : 0L;
                }
                return out;
            });
            List<CompletableFuture<Verdict>> relayed = new ArrayList<>(sessionIds.size());
            for (int i = 0; i < ttls.length; i++) {
                relayed.add(parts.relay().heartbeat(sessionIds.get(i), hold(ttls[i]), longestHold(ttls[i])));
            }
            return CompletableFuture.allOf(relayed.toArray(CompletableFuture[]::new))
                    .thenApply(v -> {
                        List<Reply> replies = new ArrayList<>(relayed.size());
                        for (int i = 0; i < relayed.size(); i++) {
                            replies.add(verdictReply(
                                    sessionIds.get(i), relayed.get(i).join()));
                        }
                        return replies;
                    });
        }
        List<Verdict> verdicts;
        try {
            verdicts = parts.heartbeats().touch(sessionIds);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        List<Reply> replies = new ArrayList<>(verdicts.size());
        for (int i = 0; i < verdicts.size(); i++) {
            replies.add(verdictReply(sessionIds.get(i), verdicts.get(i)));
        }
        return CompletableFuture.completedFuture(replies);
    }

    /** How long a member holds a relayed heartbeat of a session with this TTL (0: unknown session). */
    private static long hold(long ttlMillis) {
        return ttlMillis > 0 ? Math.min(ttlMillis / 3, MAX_HOLD_MILLIS) : MAX_HOLD_MILLIS;
    }

    /** How long a member that hears from a leader holds a relayed heartbeat of a session with this TTL. */
    private static long longestHold(long ttlMillis) {
        return ttlMillis > 0 ? Math.min(ttlMillis / 3, MAX_LONGEST_HOLD_MILLIS) : MAX_HOLD_MILLIS;
    }

    /** One session's reply in a call of several: a refusal of the session is a reply, not a failure. */
    private static Reply verdictReply(String sessionId, Verdict verdict) {
        return switch (verdict) {
            case ACKED -> Reply.Ok.INSTANCE;
            case GONE -> Reply.Failed.of(ErrorCode.SESSION_EXPIRED, "session " + sessionId + " is unknown or expired");
            case EXPIRING ->
                Reply.Failed.of(
                        ErrorCode.UNAVAILABLE,
                        "session " + sessionId + " is being expired: its heartbeats stopped for its TTL");
            case UNTRACKED ->
                Reply.Failed.of(ErrorCode.UNAVAILABLE, "session " + sessionId + " is not tracked by this leader yet");
        };
    }
}
