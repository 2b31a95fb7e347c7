package io.holdfast.model;

import io.holdfast.ErrorCode;
import io.holdfast.LockInfo;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * What a lock service offers a client, whatever stands between them: the in-process node of
 * {@code mem:}, a gRPC connection to the Holdfast server, or the server's own Raft node behind its
 * gRPC endpoint. Commands carry no time; the service puts each in its envelope with its cluster
 * time. A failure to
 * reach the table completes the future exceptionally with {@link io.holdfast.UnavailableException};
 * every other outcome, refusals included, is a {@link Reply}.
 *
 * <p>Events of a session are delivered to its subscriber in the order the table emitted them. A
 * service may lose events (a connection breaks, the leader changes): clients must not depend on
 * them alone, and re-send an acquire's invocation to learn its outcome.
 *
 * <p>Every method returns at once and never blocks its caller: the work is done when the future
 * completes. The gRPC endpoint calls a service from its network I/O threads, so a service that
 * blocked there would stall every connection those threads serve.
 */
public interface LockService extends AutoCloseable {
    /** Applies a command through the table's log. */
    CompletableFuture<Reply> submit(Command command);

    /**
     * Applies a command on behalf of an authenticated identity (see {@code
     * io.holdfast.core.LockTable#apply}). A service that does not authenticate its
     * callers accepts only a null identity, and refuses any other with {@link
     * io.holdfast.UnsupportedFeatureException}.
     */
    default CompletableFuture<Reply> submit(Command command, String identity) {
        if (identity == null) {
            return submit(command);
        }
        return CompletableFuture.failedFuture(
                new io.holdfast.UnsupportedFeatureException("this lock service does not take identities"));
    }

    /**
     * Whether the identity may read this name (describe, list, token checks, register reads) under
     * the access rules the service has applied. Always true without access control.
     */
    default boolean mayRead(String identity, String name) {
        return true;
    }

    /**
     * False if the session exists and belongs to another identity than {@code identity}: its
     * heartbeats and events are then refused. True for an unknown session (the service answers
     * that itself) and without access control.
     */
    default boolean mayUseSession(String identity, String sessionId) {
        return true;
    }

    /**
     * {@link #mayUseSession} for each of {@code sessionIds}, in their order: what a call of many
     * heartbeats asks. A service that keeps its sessions under a lock answers them in a few holds of
     * it, not one each (by default, one call each).
     */
    default boolean[] mayUseSessions(String identity, java.util.List<String> sessionIds) {
        boolean[] out = new boolean[sessionIds.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = mayUseSession(identity, sessionIds.get(i));
        }
        return out;
    }

    /** A heartbeat for the session: {@link Reply.Ok}, or a failure for an unknown session. */
    CompletableFuture<Reply> keepAlive(String sessionId);

    /**
     * A heartbeat that gives up after {@code timeout}. A networked service treats a member that
     * did not answer in time as unreachable and sends the next heartbeat elsewhere: a leader cut
     * off without a reset (packets silently dropped) must not hold the session's heartbeats until
     * the TTL runs out. By default the same as {@link #keepAlive(String)}.
     */
    default CompletableFuture<Reply> keepAlive(String sessionId, java.time.Duration timeout) {
        return keepAlive(sessionId);
    }

    /**
     * Heartbeats for several sessions at once: one reply per session, in the order given, each
     * what {@link #keepAlive(String)} answers, except that a refusal of one session that a single
     * heartbeat gets as {@link io.holdfast.UnavailableException} (its expiry under way, a new
     * leader that does not track it yet) is a {@link Reply.Failed} with {@code UNAVAILABLE} in its
     * place. When the service cannot serve heartbeats at all (unreachable, no leader, a leader past
     * its lease) the whole future fails with {@link io.holdfast.UnavailableException}, as a single
     * heartbeat's would: the caller then tries another member. By default each heartbeat is sent
     * alone, and the future fails only if every one of them failed.
     */
    default CompletableFuture<List<Reply>> keepAliveMany(List<String> sessionIds) {
        List<CompletableFuture<Reply>> each = new java.util.ArrayList<>(sessionIds.size());
        sessionIds.forEach(id -> each.add(keepAlive(id)));
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)).handle((done, any) -> {
            List<Reply> replies = new java.util.ArrayList<>(each.size());
            Throwable failure = null;
            int failed = 0;
            for (CompletableFuture<Reply> f : each) {
                try {
                    replies.add(f.join());
                } catch (java.util.concurrent.CompletionException | java.util.concurrent.CancellationException e) {
                    failure = e.getCause() != null ? e.getCause() : e;
                    failed++;
                    replies.add(Reply.Failed.of(ErrorCode.UNAVAILABLE, String.valueOf(failure.getMessage())));
                }
            }
            if (failed > 0 && failed == each.size()) {
                throw new java.util.concurrent.CompletionException(failure);
            }
            return List.copyOf(replies);
        });
    }

    /**
     * Delivers the session's events, in the order the table emitted them, to the listener; and
     * tells it through {@link Listener#onGap()} when events may have been missed (a reconnection,
     * a new leader), so that it can ask for the outcomes it waits for.
     */
    void subscribe(String sessionId, Listener listener);

    /**
     * {@link #subscribe} without waiting in the caller's thread: the future completes once the
     * session's events are delivered from then on, or once the service stops waiting for that (the
     * listener is then told of a gap when they are); never exceptionally. By default, {@link
     * #subscribe} itself, done when it returns.
     */
    default CompletableFuture<Void> subscribeAsync(String sessionId, Listener listener) {
        subscribe(sessionId, listener);
        return CompletableFuture.completedFuture(null);
    }

    /** Stops delivering the session's events. */
    void unsubscribe(String sessionId);

    CompletableFuture<Optional<LockInfo>> describe(String name);

    CompletableFuture<List<LockInfo>> list(String prefix, int limit);

    CompletableFuture<Boolean> isCurrentHolder(String name, long token);

    /**
     * Several tokens checked at once: one answer per check, in the order given, each what {@link
     * #isCurrentHolder} answers. A networked service reads them all at one point, in one call; the
     * future fails as a whole when the service could not read (unreachable, no leader), and then
     * nothing is known of any check. By default each is checked alone, and the future fails if any
     * of them failed.
     */
    default CompletableFuture<List<Boolean>> isCurrentHolderMany(List<FenceCheck> checks) {
        List<CompletableFuture<Boolean>> each = new java.util.ArrayList<>(checks.size());
        checks.forEach(c -> each.add(isCurrentHolder(c.name(), c.token())));
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<Boolean> answers = new java.util.ArrayList<>(each.size());
            each.forEach(f -> answers.add(f.join()));
            return List.copyOf(answers);
        });
    }

    CompletableFuture<Optional<RegisterValue>> readRegister(String key);

    /**
     * One page of the keys under {@code prefix} after {@code after}, in byte order of their UTF-8,
     * read at one point (linearizable: at the leader, after every entry it has committed), with
     * that point's position ({@link KeyPage}). Only keys {@code identity} may read are listed.
     *
     * @param after "" for the first page
     * @param limit 1 to {@code io.holdfast.core.Limits#MAX_KEY_PAGE}
     */
    default CompletableFuture<KeyPage> keys(String identity, String prefix, String after, int limit) {
        return CompletableFuture.failedFuture(
                new io.holdfast.UnsupportedFeatureException("this lock service does not list keys"));
    }

    /**
     * {@link #keys(String, String, String, int)}, keys only when {@code keysOnly}: every entry's
     * value empty, so that a service that answers over a wire does not send them. A service of an
     * older build that sends them anyway is answered the same: they are dropped here.
     */
    default CompletableFuture<KeyPage> keys(String identity, String prefix, String after, int limit, boolean keysOnly) {
        CompletableFuture<KeyPage> page = keys(identity, prefix, after, limit);
        return keysOnly ? page.thenApply(KeyPage::withoutValues) : page;
    }

    /**
     * One page of the sessions {@code identity} may see: its own, or every session for an admin
     * (and for everyone without access control). Services that cannot list sessions fail with
     * {@link io.holdfast.UnsupportedFeatureException}.
     *
     * @param after the id the previous page ended with, or null for the first page
     * @param limit at most this many, 1 to 10,000
     */
    default CompletableFuture<SessionPage> sessions(String identity, String after, int limit) {
        return CompletableFuture.failedFuture(
                new io.holdfast.UnsupportedFeatureException("this lock service does not list its sessions"));
    }

    /**
     * The cluster's members as the answering node sees them. Services that are no cluster fail
     * with {@link io.holdfast.UnsupportedFeatureException}.
     */
    default CompletableFuture<ClusterInfo> cluster() {
        return CompletableFuture.failedFuture(
                new io.holdfast.UnsupportedFeatureException("this lock service is not a cluster of members"));
    }

    /**
     * Changes the cluster's members, as {@code identity} asks (an admin, when access control is on),
     * and answers with the members as the leader sees them once the change is committed. Only the
     * leader does it (others fail with {@link NotLeaderException}); a change while another is in
     * progress (or committed since the leader read the members) fails with {@link
     * io.holdfast.ConflictException}; one that makes no sense for the members there are (adding an
     * id that is a member, removing the last voter) with {@link io.holdfast.InvalidArgumentException};
     * a change Ratis accepted and could not complete (a new member that never answered) also with
     * {@link io.holdfast.ConflictException}, naming why; none of these changes anything. Services that are no cluster fail with {@link io.holdfast.UnsupportedFeatureException}.
     */
    default CompletableFuture<ClusterInfo> changeMembers(String identity, MembershipChange change) {
        return CompletableFuture.failedFuture(
                new io.holdfast.UnsupportedFeatureException("this lock service is not a cluster of members"));
    }

    /**
     * The changes of {@code target} from {@code from} on ({@code io.holdfast.core.ChangeLog}), as {@code identity}
     * may read them: at once if there are some, or a gap; else when one comes, or an empty page
     * after {@code waitMillis}. A null {@code from} is answered with a gap: the reader starts from
     * the state. Services that record no changes fail with {@link
     * io.holdfast.UnsupportedFeatureException}.
     */
    default CompletableFuture<ChangePage> changes(
            String identity, io.holdfast.WatchTarget target, ChangePosition from, long waitMillis) {
        return CompletableFuture.failedFuture(
                new io.holdfast.UnsupportedFeatureException("this lock service records no changes"));
    }

    @Override
    void close();

    /**
     * Whether every future this service returns fails by itself, with {@link
     * io.holdfast.UnavailableException}, when no answer came within the request timeout it was
     * made with. A client then need not set a timer of its own on each request (on a small machine
     * such a timer costs a thread wake-up per request). False unless an implementation says so.
     */
    default boolean boundsCalls() {
        return false;
    }

    /** Receives a session's events. Called on one thread at a time, in order; must not block. */
    interface Listener {
        void onEvent(Event event);

        /** Events may have been lost since the last one delivered. */
        default void onGap() {}

        /**
         * The service ended the subscription (it is no longer the leader, or it is shutting
         * down); no more events come through it. Subscribe again, elsewhere.
         */
        default void onEnd(Throwable cause) {}
    }
}
