// Ceiling 420 lines, one idea: a member's relay of its clients' heartbeats to the leader, and when it fails them.
package io.holdfast.server.node;

import io.holdfast.Ticker;
import io.holdfast.UnavailableException;
import io.holdfast.internal.Causes;
import io.holdfast.model.NotLeaderException;
import io.holdfast.server.raft.TableQuery.TouchSessions.Answer;
import io.holdfast.server.raft.TableQuery.TouchSessions.Verdict;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A member's relay of its clients' heartbeats to the leader (ADR 0003): the heartbeats that arrive
 * within one interval go to the leader as one round, and each is answered with the leader's
 * verdict on its session.
 *
 * <p><b>Guarantees.</b>
 *
 * <ul>
 *   <li>A heartbeat's future completes with a verdict only from the leader's answer to a round that
 *       left after the heartbeat arrived: {@link Verdict#ACKED} thus means that the leader, holding
 *       its lease, moved the session's deadline to a TTL from a moment after the client sent it. This
 *       member never acknowledges anything on its own.
 *   <li>One round is in flight at a time. A round without verdicts (no leader answered, or the
 *       leader refused it: no lease, not leading yet) leaves its heartbeats waiting for the next.
 *   <li>A heartbeat waits at most its hold; then it fails with {@link UnavailableException} saying
 *       that this member has had no answer from a leader (the client sends its next heartbeat to
 *       another member). Once no leader has answered for longer than the cut-off, new heartbeats fail
 *       at once, the same way; a round of no heartbeats then leaves every interval (one at a time)
 *       until a leader answers one, and heartbeats wait for rounds again.
 *   <li>A leader whose build does not know the round (it answers nothing) fails the waiting
 *       heartbeats with {@link NotLeaderException}: the client sends them to the leader, as before
 *       members relayed.
 * </ul>
 *
 * <p><b>Does not</b> check the session: the leader does (a member's table may lag the leader's, so a
 * session opened a moment ago may be missing here).
 *
 * <p><b>A failure it rules out.</b> A member cut off from the majority right after a round left:
 * had it acknowledged the heartbeats itself, their clients would count on TTLs the leader never
 * heard of, and the leader could expire the sessions and hand their locks on while the clients
 * still count them held. Here the round never answers, and the heartbeats fail after their hold.
 *
 * <p>Time is the injected ticker's; the interval's timer runs on the injected scheduler and the
 * round is sent on the injected executor (sending blocks for up to Ratis's request timeout).
 */
public final class SessionRelay implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SessionRelay.class);
    private final String nodeId;
    private final Ticker ticker;
    private final Function<List<String>, Optional<Answer>> leader;
    private final Executor sender;
    private final Supplier<NotLeaderException> notLeader;
    private final long cutOffNanos;
    private final ScheduledFuture<?> timer;

    private final Object lock = new Object();
    /** The next round: each session's waiting heartbeats, in order of arrival. */
    private Map<String, List<Held>> next = new LinkedHashMap<>();
    /** The round in flight, or null. */
    private Map<String, List<Held>> inFlight;
    /** Why the last round got no verdicts; null after one that did. */
    private String lastFailure;
    /** When the first round without verdicts since the last answer left (while {@link #lastFailure} is set). */
    private long unansweredSinceNanos;
    /** When the round in flight left (valid while {@link #inFlight} is not null). */
    private long inFlightSinceNanos;
    /** Rounds without verdicts since the last one with (for the log line when a leader answers again). */
    private int failedRounds;
    /** When heartbeats failed by their hold were last logged (at most once a second); timer thread only. */
    private long lateLoggedNanos = Long.MIN_VALUE / 2;

    private boolean closed;
    /** Planted bug follower-extends-ttl (verification only); see {@link #plantFollowerExtendsTtl}. */
    private volatile boolean extendsTtl;

    private record Held(CompletableFuture<Verdict> answer, long untilNanos) {}

    /**
     * @param leader sends one round to the leader and returns its answer (blocking); empty when the
     *     leader's build does not know the round; throws {@link UnavailableException} when no leader
     *     answers
     * @param intervalMillis how often a round leaves (when heartbeats wait)
     * @param cutOffMillis how long without an answer from a leader before heartbeats fail at once
     */
    public SessionRelay(
            String nodeId,
            Ticker ticker,
            ScheduledExecutorService scheduler,
            Executor sender,
            Function<List<String>, Optional<Answer>> leader,
            Supplier<NotLeaderException> notLeader,
            long intervalMillis,
            long cutOffMillis) {
        this.nodeId = nodeId;
        this.ticker = ticker;
        this.leader = leader;
        this.sender = sender;
        this.notLeader = notLeader;
        this.cutOffNanos = TimeUnit.MILLISECONDS.toNanos(cutOffMillis);
        this.timer =
                scheduler.scheduleWithFixedDelay(this::tick, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * PLANTED BUG (verification only): follower-extends-ttl. From now on a heartbeat that would
     * fail for want of a leader's verdict (its round failed, its hold ran out, the member is cut
     * off) is acknowledged by this member instead.
     */
    void plantFollowerExtendsTtl() {
        extendsTtl = true;
    }

    /** Fails a held heartbeat; or, with the planted bug, acknowledges it on this member's own say. */
    private void fail(Held held, RuntimeException why) {
        if (extendsTtl) {
            held.answer.complete(Verdict.ACKED);
        } else {
            held.answer.completeExceptionally(why);
        }
    }

    /**
     * A client's heartbeat for {@code sessionId}, held for the next round.
     *
     * @param holdMillis how long it may wait for a leader's verdict
     * @return the leader's verdict; or failed with {@link UnavailableException} (no leader answered
     *     within the hold: try another member) or {@link NotLeaderException} (the leader's build does
     *     not relay: send heartbeats to it)
     */
    public CompletableFuture<Verdict> heartbeat(String sessionId, long holdMillis) {
        long now = ticker.nanos();
        Held held = new Held(new CompletableFuture<>(), now + TimeUnit.MILLISECONDS.toNanos(holdMillis));
        synchronized (lock) {
            if (closed) {
                held.answer.completeExceptionally(new UnavailableException("member " + nodeId + " is shutting down"));
            } else if (isCutOff(now)) {
                fail(held, cutOff(now));
            } else {
                next.computeIfAbsent(sessionId, k -> new ArrayList<>(1)).add(held);
            }
        }
        return held.answer;
    }

    /**
     * This member has begun to lead: every heartbeat it holds, waiting for a round or in the round
     * in flight, gets this member's own verdict now ({@code here}, the leader's rule), instead of
     * after the round in flight ends, which may be a timeout on the dead leader that its link still
     * believed in. A refusal ({@code here} found no lease yet) leaves them as they were. The round in
     * flight still ends as before; what it answers later for the heartbeats answered here is
     * ignored (a future completes once).
     */
    public void answerHere(Function<List<String>, Answer> here) {
        Map<String, List<Held>> held = new LinkedHashMap<>();
        synchronized (lock) {
            if (closed) {
                return;
            }
            if (inFlight != null) {
                inFlight.forEach((id, list) ->
                        held.computeIfAbsent(id, k -> new ArrayList<>()).addAll(list));
            }
            next.forEach((id, list) ->
                    held.computeIfAbsent(id, k -> new ArrayList<>()).addAll(list));
        }
        held.values().removeIf(list -> {
            list.removeIf(h -> h.answer.isDone());
            return list.isEmpty();
        });
        if (held.isEmpty()) {
            return;
        }
        List<String> ids = new ArrayList<>(held.keySet());
        Answer answer = here.apply(ids);
        if (answer.refusal() != null) {
            LOG.info(
                    "Node {} leads but cannot answer yet the heartbeats of {} sessions that its relay holds: {}",
                    nodeId,
                    ids.size(),
                    answer.refusal());
            return;
        }
        List<Verdict> verdicts = answer.verdicts();
        for (int i = 0; i < ids.size() && i < verdicts.size(); i++) {
            for (Held h : held.get(ids.get(i))) {
                h.answer.complete(verdicts.get(i));
            }
        }
        LOG.info("Node {} leads: it answered the heartbeats of {} sessions that its relay held", nodeId, ids.size());
        synchronized (lock) {
            lastFailure = null;
            failedRounds = 0;
            next.values().removeIf(list -> {
                list.removeIf(h -> h.answer.isDone());
                return list.isEmpty();
            });
        }
    }

    /** One interval: fails the heartbeats held past their hold, and sends a round if none is in flight. */
    void tick() {
        Map<String, List<Held>> round;
        long now = ticker.nanos();
        List<Held> late = new ArrayList<>();
        UnavailableException why;
        synchronized (lock) {
            collectLate(next, now, late, true);
            if (inFlight != null) {
                collectLate(inFlight, now, late, false); // the sender reads it: failed here, left in place
            }
            round = inFlight == null && !next.isEmpty() ? next : null;
            why = late.isEmpty() ? null : late(now);
            if (round != null) {
                inFlight = round;
                inFlightSinceNanos = now;
                next = new LinkedHashMap<>();
            } else if (inFlight == null && isCutOff(now)) {
                // A round of no heartbeats: cut off, this member fails every heartbeat at once, so
                // none waits and no round would leave; only a round tells it that a leader is back.
                round = new LinkedHashMap<>();
                inFlight = round;
                inFlightSinceNanos = now;
            }
        }
        if (why != null) {
            late.forEach(h -> fail(h, why));
            if (now - lateLoggedNanos >= TimeUnit.SECONDS.toNanos(1)) {
                lateLoggedNanos = now;
                LOG.info(
                        "Node {} failed {} heartbeats held past their hold: {}", nodeId, late.size(), why.getMessage());
            }
        }
        if (round != null) {
            Map<String, List<Held>> sent = round;
            List<String> ids = new ArrayList<>(sent.keySet());
            sender.execute(() -> send(sent, ids, now));
        }
    }

    private void send(Map<String, List<Held>> round, List<String> ids, long sentNanos) {
        Optional<Answer> answer;
        try {
            answer = leader.apply(ids);
        } catch (RuntimeException e) {
            if (extendsTtl) {
                round.values().forEach(list -> list.forEach(h -> fail(h, e)));
            }
            settleWithout(round, sentNanos, Causes.rootMessage(e));
            return;
        }
        if (answer.isEmpty()) {
            NotLeaderException old = notLeader.get();
            synchronized (lock) {
                inFlight = null;
                lastFailure = null; // a leader answered (an older build): not cut off
            }
            round.values().forEach(list -> list.forEach(h -> h.answer.completeExceptionally(old)));
            return;
        }
        if (answer.get().refusal() != null) {
            if (extendsTtl) {
                UnavailableException refused =
                        new UnavailableException(answer.get().refusal());
                round.values().forEach(list -> list.forEach(h -> fail(h, refused)));
            }
            settleWithout(
                    round,
                    sentNanos,
                    "the leader refused the round: " + answer.get().refusal());
            return;
        }
        List<Verdict> verdicts = answer.get().verdicts();
        int failed;
        String lastWhy;
        long sinceMillis;
        synchronized (lock) {
            inFlight = null;
            failed = failedRounds;
            lastWhy = lastFailure;
            failedRounds = 0;
            lastFailure = null;
            sinceMillis = TimeUnit.NANOSECONDS.toMillis(ticker.nanos() - unansweredSinceNanos);
        }
        if (failed > 0) {
            LOG.info(
                    "Node {} relays heartbeats again: a leader answered a round of {} after {} ms and {} rounds"
                            + " without verdicts (the last: {})",
                    nodeId,
                    ids.size(),
                    sinceMillis,
                    failed,
                    lastWhy);
        }
        for (int i = 0; i < ids.size() && i < verdicts.size(); i++) {
            for (Held h : round.get(ids.get(i))) {
                h.answer.complete(verdicts.get(i));
            }
        }
    }

    /** A round got no verdicts: its heartbeats wait for the next one, ahead of those that came since. */
    private void settleWithout(Map<String, List<Held>> round, long sentNanos, String why) {
        synchronized (lock) {
            if (lastFailure == null) {
                unansweredSinceNanos = sentNanos; // the first round without verdicts since an answer
            }
            inFlight = null;
            lastFailure = why;
            failedRounds++;
            Map<String, List<Held>> merged = new LinkedHashMap<>();
            round.forEach((id, list) -> {
                List<Held> open = new ArrayList<>(list);
                open.removeIf(h -> h.answer.isDone());
                if (!open.isEmpty()) {
                    merged.put(id, open);
                }
            });
            next.forEach((id, list) -> merged.merge(id, list, (a, b) -> {
                a.addAll(b);
                return a;
            }));
            next = merged;
        }
    }

    private static void collectLate(Map<String, List<Held>> waiting, long now, List<Held> late, boolean remove) {
        for (List<Held> list : waiting.values()) {
            for (Held h : list) {
                if (now - h.untilNanos >= 0 && !h.answer.isDone()) {
                    late.add(h);
                }
            }
        }
        if (remove) {
            waiting.values().removeIf(list -> {
                list.removeIf(h -> now - h.untilNanos >= 0 || h.answer.isDone());
                return list.isEmpty();
            });
        }
    }

    /**
     * Whether no verdict came for longer than the cut-off since the first round without one left
     * (held: {@link #lock}); not since the last answer, which counted an idle member's minutes and cut
     * it off at its first unanswered round, sending away the clients that had just moved to it.
     */
    private boolean isCutOff(long now) {
        return lastFailure != null && now - unansweredSinceNanos > cutOffNanos;
    }

    private UnavailableException cutOff(long now) {
        long since = TimeUnit.NANOSECONDS.toMillis(now - unansweredSinceNanos);
        return new UnavailableException("member " + nodeId + " has had no answer from a leader for " + since
                + " ms (" + lastFailure
                + "): it may be cut off from the majority; send the heartbeat to another member");
    }

    /**
     * Why heartbeats held past their hold fail (held: {@link #lock}): what the round they waited for
     * was doing. Not "no answer for so long" from the last answer alone: a relay without clients
     * sends no round, so a member idle for a minute had "no answer" for a minute (stop 86's CI log
     * read "no answer from a leader for 18260 ms" of a round 2 s late on a loaded machine).
     */
    private UnavailableException late(long now) {
        String round = inFlight == null
                ? "it waited for the next round"
                : "its round has been out for " + TimeUnit.NANOSECONDS.toMillis(now - inFlightSinceNanos) + " ms";
        return new UnavailableException(
                "member " + nodeId + " had no verdict from a leader within the heartbeat's hold ("
                        + round + (lastFailure == null ? "" : "; the last round without verdicts: " + lastFailure)
                        + "): send the heartbeat to another member");
    }

    /** How many heartbeats wait (for tests and metrics). */
    int waiting() {
        synchronized (lock) {
            int n = 0;
            for (List<Held> list : next.values()) {
                n += list.size();
            }
            if (inFlight != null) {
                for (List<Held> list : inFlight.values()) {
                    n += list.size();
                }
            }
            return n;
        }
    }

    @Override
    public void close() {
        List<Held> all = new ArrayList<>();
        synchronized (lock) {
            closed = true;
            next.values().forEach(all::addAll);
            if (inFlight != null) {
                inFlight.values().forEach(all::addAll);
            }
            next = new LinkedHashMap<>();
        }
        timer.cancel(false);
        UnavailableException why = new UnavailableException("member " + nodeId + " is shutting down");
        all.forEach(h -> h.answer.completeExceptionally(why));
    }
}
