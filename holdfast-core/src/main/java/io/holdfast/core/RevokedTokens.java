package io.holdfast.core;

import io.holdfast.ErrorCode;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.model.Reply.Failed;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The deny list of bearer tokens in {@link LockTable}: token ids ({@code jti}) that every node
 * refuses, each until a time of the table's clock (the token's expiry, as the revoker computed it,
 * plus a margin). Replicated: it changes only through {@link Command.RevokeToken} entries and the
 * table's clock, and is kept in snapshots, so every replica holds the same list after the same
 * entry.
 *
 * <p>Bounded: an id is dropped once the table's clock passes its time ({@link #expire}, on every
 * entry applied), no id is kept longer than {@link #MAX_KEEP_MILLIS}, and the list holds at most
 * {@link #MAX_IDS}; past that a revocation is refused (rotate the key or the secret instead).
 */
final class RevokedTokens {
    /** The most ids the list holds. */
    static final int MAX_IDS = 10_000;

    /** The longest an id is kept: the longest token lifetime ({@code holdfast token}'s 366 days) and a day. */
    static final long MAX_KEEP_MILLIS = 367L * 24 * 3600 * 1000;

    /** The longest token id, in characters. */
    static final int MAX_ID_LENGTH = 256;

    private final Map<String, Long> until = new HashMap<>();
    /** The same entries ordered by time, then id: the first to drop first. */
    private final TreeSet<Map.Entry<String, Long>> byTime =
            new TreeSet<>(Map.Entry.<String, Long>comparingByValue().thenComparing(Map.Entry.comparingByKey()));

    /** Applies {@link Command.RevokeToken} at table time {@code now}; the caller checked the permission. */
    Reply revoke(Command.RevokeToken c, long now) {
        String jti = c.jti();
        if (jti == null || jti.isEmpty() || jti.length() > MAX_ID_LENGTH) {
            return Failed.of(ErrorCode.INVALID_ARGUMENT, "a token id (jti) is 1 to " + MAX_ID_LENGTH + " characters");
        }
        if (c.keepMillis() <= 0 || c.keepMillis() > MAX_KEEP_MILLIS) {
            return Failed.of(
                    ErrorCode.INVALID_ARGUMENT,
                    "a token is kept on the deny list for more than 0 and at most 367 days, not " + c.keepMillis()
                            + " ms (a token valid for longer: rotate its key instead)");
        }
        long time = now + c.keepMillis();
        Long old = until.get(jti);
        if (old != null && old >= time) {
            return Reply.Ok.INSTANCE;
        }
        if (old == null && until.size() >= MAX_IDS) {
            return Failed.of(
                    ErrorCode.QUOTA_EXCEEDED,
                    "the deny list holds " + MAX_IDS + " revoked tokens, its most; rotate the signing key or secret"
                            + " instead");
        }
        put(jti, time);
        return Reply.Ok.INSTANCE;
    }

    /** Drops the ids whose time is at or before {@code now}. */
    void expire(long now) {
        while (!byTime.isEmpty() && byTime.first().getValue() <= now) {
            until.remove(byTime.pollFirst().getKey());
        }
    }

    /** Whether this token id is on the list. */
    boolean contains(String jti) {
        return jti != null && until.containsKey(jti);
    }

    /** Every id and its time, sorted by id (the snapshot's order). */
    SortedMap<String, Long> entries() {
        return Collections.unmodifiableSortedMap(new TreeMap<>(until));
    }

    int size() {
        return until.size();
    }

    /** Puts an id back without any check: for a snapshot or a restored table. */
    void restore(String jti, long time) {
        put(jti, time);
    }

    private void put(String jti, long time) {
        Long old = until.put(jti, time);
        if (old != null) {
            byTime.remove(Map.entry(jti, old));
        }
        byTime.add(Map.entry(jti, time));
    }
}
