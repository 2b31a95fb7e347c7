package io.holdfast.core;

import io.holdfast.ErrorCode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.model.Command.OpenSession;
import io.holdfast.model.Reply;
import io.holdfast.model.Reply.Failed;
import io.holdfast.model.SessionIds;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.IntSupplier;

/**
 * The open sessions of {@link LockTable} by id, and how many each identity has open (for the
 * {@code sessions-per-identity} quota). A session belongs to the identity that opened it.
 *
 * <p>Guarantees: opening is idempotent (the same id with the same settings and identity is
 * answered OK again; other settings or another identity are refused, never merged); a new session
 * needs a valid id, an identity the access rules know, and room in both quotas; the per-identity
 * counts always match the sessions. It does not end sessions' holds and waits: the table removes a
 * session here and hands it to {@link Releases#endSession}.
 */
final class Sessions {
    private final SessionIndex<Session> byId = new SessionIndex<>();
    private final SharedNames names = new SharedNames();
    /** Open sessions per identity ("" for none), for the sessions quota (derived). */
    private final Map<String, Integer> byIdentity = new HashMap<>();

    private final Admission admission;
    private final IntSupplier stateEntries;

    /**
     * @param stateEntries the sessions, locks and registers the table holds now
     */
    Sessions(Admission admission, IntSupplier stateEntries) {
        this.admission = admission;
        this.stateEntries = stateEntries;
    }

    /**
     * Applies {@link OpenSession} sent by {@code identity}, at the table's clock {@code now};
     * {@code clusterVersion} is the table's recorded version, which chooses the rule for its id
     * ({@link SessionIds#choiceProblem} from {@link SessionIds#CHOICE_RULE_VERSION}).
     */
    Reply open(OpenSession c, String identity, long now, int clusterVersion) {
        String id = c.sessionId();
        checkId(id);
        if (clusterVersion >= SessionIds.CHOICE_RULE_VERSION && SessionIds.choiceProblem(id) != null) {
            throw new InvalidArgumentException(SessionIds.choiceProblem(id));
        }
        if (c.clientName() == null || c.clientName().isEmpty() || c.clientName().length() > Limits.MAX_CLIENT_NAME) {
            throw new InvalidArgumentException("client name must be 1 to " + Limits.MAX_CLIENT_NAME + " characters");
        }
        Limits.checkRange("session TTL", c.ttlMillis(), Limits.MIN_TTL_MILLIS, Limits.MAX_TTL_MILLIS);
        Limits.checkRange("lock-delay", c.lockDelayMillis(), 0, Limits.MAX_LOCK_DELAY_MILLIS);
        Session existing = byId.get(id);
        if (existing != null) {
            boolean same = existing.ttlMillis == c.ttlMillis()
                    && existing.lockDelayMillis == c.lockDelayMillis()
                    && existing.clientName.equals(c.clientName());
            same &= Objects.equals(existing.identity, identity);
            return same
                    ? Reply.Ok.INSTANCE
                    : Failed.of(ErrorCode.INVALID_ARGUMENT, "session id " + id + " is already in use");
        }
        Failed refused = admission.checkOpen(identity);
        if (refused != null) {
            return refused;
        }
        Quotas q = admission.quotas();
        String key = key(identity);
        int mine = byIdentity.getOrDefault(key, 0);
        if (mine >= q.sessionsPerIdentity()) {
            return admission.quotaExceeded(
                    Admission.SESSIONS_PER_IDENTITY, Admission.describe(identity) + " has " + mine + " open sessions");
        }
        int entries = stateEntries.getAsInt();
        if (entries >= q.stateEntries()) {
            return admission.stateEntriesExceeded(entries);
        }
        String shared = names.share(identity);
        byId.add(new Session(id, shared, names.share(c.clientName()), c.ttlMillis(), c.lockDelayMillis(), now));
        byIdentity.merge(key(shared), 1, Integer::sum);
        return Reply.Ok.INSTANCE;
    }

    /** Forgets a session (its holds and waits are the caller's to end). */
    void remove(Session s) {
        byId.remove(s);
        byIdentity.computeIfPresent(key(s.identity), (k, n) -> n > 1 ? n - 1 : null);
    }

    /** The session, or null. */
    Session get(String id) {
        return byId.get(id);
    }

    /** Whether this session is still open (it may have ended while a command was applied). */
    boolean holds(Session s) {
        return byId.contains(s);
    }

    boolean contains(String id) {
        return byId.get(id) != null;
    }

    int size() {
        return byId.size();
    }

    /** Every session, in no particular order (a copy: for snapshots and views). */
    List<Session> all() {
        return byId.all();
    }

    /**
     * Adds a session read from a snapshot, with its names shared as an opening's are, or returns
     * null if one with its id is here (the snapshot codec calls {@link #recount} after them all).
     */
    Session restore(
            String id, String identity, String clientName, long ttlMillis, long lockDelayMillis, long openedAt) {
        Session s =
                new Session(id, names.share(identity), names.share(clientName), ttlMillis, lockDelayMillis, openedAt);
        return byId.add(s) ? s : null;
    }

    /** Rebuilds the per-identity counts from the sessions. */
    void recount() {
        byIdentity.clear();
        for (Session s : byId.all()) {
            byIdentity.merge(key(s.identity), 1, Integer::sum);
        }
    }

    /** Whether the session exists and was opened by {@code identity}. */
    boolean owns(String identity, String id) {
        Session s = byId.get(id);
        return s != null && Objects.equals(s.identity, identity);
    }

    /** The identity that opened a session ("" for none), or empty if there is no such session. */
    Optional<String> identityOf(String id) {
        Session s = byId.get(id);
        return s == null ? Optional.empty() : Optional.of(key(s.identity));
    }

    /** The session's TTL in milliseconds, or -1 if it does not exist. */
    long ttlMillis(String id) {
        Session s = byId.get(id);
        return s == null ? -1 : s.ttlMillis;
    }

    /** Above every request number of the session this table knows of: see {@link LockTable#seqAboveKnown}. */
    long seqAboveKnown(String id) {
        Session s = byId.get(id);
        if (s == null) {
            return 1;
        }
        long above = Math.max(1, s.ackedBelow);
        java.util.SortedMap<Long, io.holdfast.model.Reply> remembered = s.remembered();
        if (!remembered.isEmpty()) {
            above = Math.max(above, remembered.lastKey() + 1);
        }
        return above;
    }

    /** Every session's id and TTL (ms), in no set order. */
    void forEachTtl(java.util.function.ObjLongConsumer<String> action) {
        for (Session s : byId.all()) {
            action.accept(s.id(), s.ttlMillis);
        }
    }

    /** The ids of all sessions, sorted. */
    List<String> ids() {
        List<String> ids = new ArrayList<>(byId.size());
        for (Session s : byId.all()) {
            ids.add(s.id());
        }
        Collections.sort(ids);
        return ids;
    }

    static Failed unknown(String id) {
        return Failed.of(ErrorCode.SESSION_EXPIRED, "session " + id + " is unknown or expired");
    }

    private static String key(String identity) {
        return identity == null ? "" : identity;
    }

    static void checkId(String id) {
        String problem = SessionIds.problem(id);
        if (problem != null) {
            throw new InvalidArgumentException(problem);
        }
    }
}
