package io.holdfast.redis;

import io.holdfast.store.Grant;
import io.holdfast.store.LockRequest;
import io.holdfast.store.LossSink;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The grants this client holds, by name, the highest fencing token it has seen, and what the
 * events channel ({@code <prefix>events}) says of grants ({@link #told}). The token is
 * the floor every script that grants is given ({@link #floor()}): a token counter found below it
 * (Redis restarted without persistence, or failed over and lost its last increments) is raised to
 * it, so this client never sees a token twice. The held set is what an operator's revocation,
 * announced on the events channel as {@code V<highest token>:<name>}, takes from ({@link
 * #revoked}).
 *
 * <p>Guarantees: thread-safe; a grant is told lost at most once. Does not read Redis.
 */
final class RedisGrants {
    private static final Logger log = LoggerFactory.getLogger(RedisGrants.class);

    private final ConcurrentHashMap<String, Set<Grant>> held = new ConcurrentHashMap<>();
    private final AtomicLong highestToken = new AtomicLong();

    /** Holds the grant of {@code request} with {@code token}. */
    Grant adopt(LockRequest request, long token) {
        highestToken.accumulateAndGet(token, Math::max);
        Grant grant = new Grant(request, token);
        held.compute(request.name(), (n, grants) -> {
            Set<Grant> set = grants == null ? ConcurrentHashMap.newKeySet() : grants;
            set.add(grant);
            return set;
        });
        return grant;
    }

    /** No longer holds {@code grant} (released, or found expired). */
    void forget(Grant grant) {
        held.computeIfPresent(grant.request().name(), (n, grants) -> {
            grants.remove(grant);
            return grants.isEmpty() ? null : grants;
        });
    }

    /** An operator revoked {@code name}'s grants up to token {@code upTo}: each one held is told lost to {@code sink}. */
    void revoked(String name, long upTo, LossSink sink) {
        Set<Grant> grants = held.get(name);
        if (grants == null || sink == null) {
            return;
        }
        for (Grant grant : grants) {
            if (grant.token() <= upTo && grants.remove(grant)) {
                sink.lost(grant, "an operator revoked it");
            }
        }
    }

    /**
     * What the events channel says of grants: {@code G<token>:<owner>}, Redis granted a queued
     * wait (its waiter wakes, {@link Wakeups#granted}); {@code V<highest token>:<name>}, an
     * operator revoked ({@link #revoked}). Anything else is ignored.
     */
    void told(String message, Wakeups wakeups, LossSink sink) {
        int colon = message.indexOf(':');
        if (message.length() < 2 || colon < 0) {
            return;
        }
        long token;
        try {
            token = Long.parseLong(message.substring(1, colon));
        } catch (NumberFormatException e) {
            log.debug("redis: ignoring a malformed message on the events channel: {}", message);
            return;
        }
        if (message.charAt(0) == 'G') {
            wakeups.granted(message.substring(colon + 1), token);
        } else if (message.charAt(0) == 'V') {
            revoked(message.substring(colon + 1), token, sink);
        }
    }

    /** The highest token seen, as a script's argument. */
    String floor() {
        return Long.toString(highestToken.get());
    }

    /** The highest token seen. */
    long highest() {
        return highestToken.get();
    }
}
