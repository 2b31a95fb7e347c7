// Ceiling 465 lines, one idea: a member's relay of its clients' heartbeats to the leader, and when it fails them.
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
import java.util.function.BooleanSupplier;
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
 *   <li>One round is in flight at a time, of at most {@value #MAX_ROUND_SESSIONS} sessions (a
 *       backlog leaves in several, each as soon as the one before is answered). A round without verdicts (no leader answered, or the
 *       leader refused it: no lease, not leading yet) leaves its heartbeats waiting for the next.
 *   <li>A heartbeat waits at most its hold; then it fails with {@link UnavailableException} saying
 *       that this member has had no answer from a leader (the client sends its next heartbeat to
 *       another member). While this member hears from a leader (it follows one that reached it
 *       within the shortest election timeout, or it leads), a heartbeat past its hold waits on, up
 *       to its longest hold: the other members wait for the same leader, so sending the client to
 *       one of them would only cost it a reconnect (a leader's death at 100,000 sessions: the new
 *       leader answered the survivors' relays 3.5 s after the kill, and their clients had moved
 *       at 2 s). Once no leader has answered for longer than the cut-off, new heartbeats fail
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
    /**
     * The most sessions in one round; more wait for the next, which leaves as soon as this one is
     * answered. A leader's death at 100,000 sessions made a round of 48,403 sessions at a survivor,
     * and a new leader on a quarter of the machine's two cores did not answer such rounds within
     * the link's 1 s (six rounds in a row, 6.4 s without verdicts, 2026-12-04).
     */
    static final int MAX_ROUND_SESSIONS = 8192;

    private final String nodeId;
    private final Ticker ticker;
    private final Function<List<String>, Optional<Answer>> leader;
    private final Executor sender;
    private final Supplier<NotLeaderException> notLeader;
    private final BooleanSupplier hearsLeader;
    private final ScheduledFuture<?> timer;

    private final Object lock = new Object();
    /** The next round: each session's waiting heartbeats, in order of arrival. */
    private Map<String, List<Held>> next = new LinkedHashMap<>();
    /** The round in flight, or null. */
    private Map<String, List<Held>> inFlight;
    /** Rounds without verdicts since the last one with, and what they tell clients. */
    private final RelayOutage outage;
    /** When the round in flight left (valid while {@link #inFlight} is not null). */
    private long inFlightSinceNanos;

    private final RelayBacklog backlog = new RelayBacklog(); // drained round after round; sender only
    /** When heartbeats failed by their hold were last logged (at most once a second); timer thread only. */
    private long lateLoggedNanos = Long.MIN_VALUE / 2;

    private boolean closed;
    /** Planted bug follower-extends-ttl (verification only); see {@link #plantFollowerExtendsTtl}. */
    private volatile boolean extendsTtl;

    /**
     * A held heartbeat: failed at {@code untilNanos} (its hold), or at {@code longestNanos} while
     * this member hears from a leader.
     */
    private record Held(CompletableFuture<Verdict> answer, long untilNanos, long longestNanos) {}

    /**
     * @param leader sends one round to the leader and returns its answer (blocking); empty when the
     *     leader's build does not know the round; throws {@link UnavailableException} when no leader
     *     answers
     * @param intervalMillis how often a round leaves (when heartbeats wait)
     * @param cutOffMillis how long without an answer from a leader before heartbeats fail at once
     * @param hearsLeader whether this member hears from a leader now (it leads, or follows one it
     *     heard from within the shortest election timeout): asked once an interval, off the lock
     */
    public SessionRelay(
            String nodeId,
            Ticker ticker,
            ScheduledExecutorService scheduler,
            Executor sender,
            Function<List<String>, Optional<Answer>> leader,
            Supplier<NotLeaderException> notLeader,
            long intervalMillis,
            long cutOffMillis,
            BooleanSupplier hearsLeader) {
        this.nodeId = nodeId;
        this.hearsLeader = hearsLeader;
        this.ticker = ticker;
        this.leader = leader;
        this.sender = sender;
        this.notLeader = notLeader;
        this.outage = new RelayOutage(nodeId, cutOffMillis);
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
     * @param longestHoldMillis how long it may wait while this member hears from a leader (at least
     *     {@code holdMillis})
     * @return the leader's verdict; or failed with {@link UnavailableException} (no leader answered
     *     within the hold: try another member) or {@link NotLeaderException} (the leader's build does
     *     not relay: send heartbeats to it)
     */
    public CompletableFuture<Verdict> heartbeat(String sessionId, long holdMillis, long longestHoldMillis) {
        long now = ticker.nanos();
        Held held = new Held(
                new CompletableFuture<>(),
                now + TimeUnit.MILLISECONDS.toNanos(holdMillis),
                now + TimeUnit.MILLISECONDS.toNanos(Math.max(holdMillis, longestHoldMillis)));
        synchronized (lock) {
            if (closed) {
                held.answer.completeExceptionally(new UnavailableException("member " + nodeId + " is shutting down"));
            } else if (outage.isCutOff(now)) {
                fail(held, outage.cutOff(now));
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
     * believed in: oldest first, {@value #MAX_ROUND_SESSIONS} sessions at a time, each part answered
     * before the next is asked (all at once, 76,443 were answered 1.4 s late, docs/benchmarks.md
     * 2026-12-05). A refusal ({@code here} has no lease yet) leaves the rest as they were. What the
     * round in flight answers later is ignored (a future completes once).
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
        int answered = 0;
        while (answered < ids.size()) {
            List<String> part = ids.subList(answered, Math.min(ids.size(), answered + MAX_ROUND_SESSIONS));
            Answer answer = here.apply(part);
            if (answer.refusal() != null) {
                LOG.info(
                        "Node {} leads but cannot answer yet the heartbeats of {} sessions that its relay holds: {}",
                        nodeId,
                        ids.size() - answered,
                        answer.refusal());
                break;
            }
            List<Verdict> verdicts = answer.verdicts();
            for (int i = 0; i < part.size() && i < verdicts.size(); i++) {
                for (Held h : held.get(part.get(i))) {
                    h.answer.complete(verdicts.get(i));
                }
            }
            answered += part.size();
        }
        if (answered == 0) {
            return;
        }
        LOG.info("Node {} leads: it answered the heartbeats of {} sessions that its relay held", nodeId, answered);
        synchronized (lock) {
            outage.answered(ticker.nanos());
            next.values().removeIf(list -> {
                list.removeIf(h -> h.answer.isDone());
                return list.isEmpty();
            });
        }
    }

    /** One interval: fails the heartbeats held past their hold, and sends a round if none is in flight. */
    void tick() {
        Map<String, List<Held>> round;
        boolean holds;
        synchronized (lock) {
            holds = !next.isEmpty() || inFlight != null && !inFlight.isEmpty();
        }
        boolean hears = holds && hearsLeader(); // asked of Ratis only when a heartbeat could be late
        long now = ticker.nanos();
        List<Held> late = new ArrayList<>();
        UnavailableException why;
        synchronized (lock) {
            collectLate(next, now, hears, late, true);
            if (inFlight != null) {
                collectLate(inFlight, now, hears, late, false); // the sender reads it: failed here, left in place
            }
            round = inFlight == null && !next.isEmpty() ? takeRound(now) : null;
            why = late.isEmpty() ? null : outage.late(inFlight == null ? -1 : now - inFlightSinceNanos);
            if (round == null && inFlight == null && outage.isCutOff(now)) {
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
            dispatch(round, now);
        }
    }

    private void dispatch(Map<String, List<Held>> round, long now) {
        List<String> ids = new ArrayList<>(round.keySet());
        sender.execute(() -> send(round, ids, now));
    }

    /**
     * The next round, in flight from now (held: {@link #lock}): what waits, or its first {@value
     * #MAX_ROUND_SESSIONS} sessions.
     */
    private Map<String, List<Held>> takeRound(long now) {
        Map<String, List<Held>> round;
        if (next.size() <= MAX_ROUND_SESSIONS) {
            round = next;
            next = new LinkedHashMap<>();
        } else {
            round = new LinkedHashMap<>();
            var it = next.entrySet().iterator();
            while (round.size() < MAX_ROUND_SESSIONS) {
                var e = it.next();
                round.put(e.getKey(), e.getValue());
                it.remove();
            }
        }
        inFlight = round;
        inFlightSinceNanos = now;
        return round;
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
                outage.answered(ticker.nanos()); // a leader answered (an older build): not cut off
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
        RelayOutage.Ended ended;
        Map<String, List<Held>> following = null;
        long now;
        synchronized (lock) {
            inFlight = null;
            now = ticker.nanos();
            ended = outage.answered(now);
            if (ids.size() >= MAX_ROUND_SESSIONS && !closed && !next.isEmpty()) {
                following = takeRound(now); // a backlog: its next part leaves now, not at the next interval
            }
        }
        if (ended.failedRounds() > 0) {
            LOG.info(
                    "Node {} relays heartbeats again: a leader answered a round of {} after {} ms and {} rounds"
                            + " without verdicts (the last: {})",
                    nodeId,
                    ids.size(),
                    ended.afterMillis(),
                    ended.failedRounds(),
                    ended.lastFailure());
        }
        for (int i = 0; i < ids.size() && i < verdicts.size(); i++) {
            for (Held h : round.get(ids.get(i))) {
                h.answer.complete(verdicts.get(i));
            }
        }
        backlog.answered(nodeId, ids.size(), sentNanos, now, following != null);
        if (following != null) {
            dispatch(following, now);
        }
    }

    /** A round got no verdicts: its heartbeats wait for the next one, ahead of those that came since. */
    private void settleWithout(Map<String, List<Held>> round, long sentNanos, String why) {
        synchronized (lock) {
            inFlight = null;
            outage.roundFailed(sentNanos, why);
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

    /** Whether this member hears from a leader now; false when it cannot tell. */
    private boolean hearsLeader() {
        try {
            return hearsLeader.getAsBoolean();
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static void collectLate(
            Map<String, List<Held>> waiting, long now, boolean hearsLeader, List<Held> late, boolean remove) {
        for (List<Held> list : waiting.values()) {
            for (Held h : list) {
                if (isLate(h, now, hearsLeader) && !h.answer.isDone()) {
                    late.add(h);
                }
            }
        }
        if (remove) {
            waiting.values().removeIf(list -> {
                list.removeIf(h -> isLate(h, now, hearsLeader) || h.answer.isDone());
                return list.isEmpty();
            });
        }
    }

    /** Whether {@code h} is past its hold, or, while this member hears from a leader, past its longest hold. */
    private static boolean isLate(Held h, long now, boolean hearsLeader) {
        return now - (hearsLeader ? h.longestNanos : h.untilNanos) >= 0;
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
