package io.holdfast.recipes;

import io.holdfast.Capability;
import io.holdfast.ConflictException;
import io.holdfast.DistributedBarrier;
import io.holdfast.InvalidArgumentException;
import io.holdfast.KeyEntry;
import io.holdfast.Keys;
import io.holdfast.LockClient;
import io.holdfast.Names;
import io.holdfast.PutOptions;
import io.holdfast.Txn;
import java.time.Duration;
import java.util.SortedMap;

/**
 * A double barrier over {@link Keys} (Curator's {@code DistributedDoubleBarrier}): {@code parties}
 * sessions {@link #enter} together, compute, and {@link #leave} together. Each party's presence is
 * the key {@code <name>/entered/<session>}, attached to its session; the first party to see {@code
 * parties} of them writes {@code <name>/ready}, which lets everyone in.
 *
 * <pre>{@code
 * DoubleBarrier round = DoubleBarrier.of(client, "jobs/reindex/round-7", 3);
 * if (round.enter(Duration.ofMinutes(1))) {
 *     try { work(); } finally { round.leave(Duration.ofMinutes(1)); }
 * }
 * }</pre>
 *
 * <p><b>Guarantees</b>: {@link #enter} returns true only once {@code parties} sessions were in the
 * barrier at one point; {@link #leave} returns true only once no session is in it. A party that
 * gives up entering takes its presence back in the same step as it checks that the barrier has not
 * opened (a transaction): it either entered or left no trace. A party whose session ends (closed,
 * expired) is out of the barrier in the same step.
 *
 * <p><b>Does not</b> run rounds back to back under one name: the last parties to leave delete
 * {@code ready}, and a party entering the next round before they did would pass at once. Give each
 * round a name of its own. Waits are measured on this JVM's monotonic clock.
 *
 * <p><b>Failure story</b>: one of three workers is SIGKILLed after entering, before the barrier
 * opened. When its session's TTL passes its presence is deleted, so the other two keep waiting
 * until a third party enters (a restarted worker) or they time out and take their presences back.
 * Killed after the barrier opened, it holds up the others' {@link #leave} for at most its session's
 * TTL.
 *
 * <p>Needs {@link Capability#KEYS}, {@link Capability#SESSION_KEYS} and {@link
 * Capability#TRANSACTIONS}.
 */
public final class DoubleBarrier {
    private static final String READY = "ready";
    private static final String ENTERED = "entered/";

    private final Keys keys;
    private final String name;
    private final String prefix;
    private final String mine;
    private final int parties;

    private DoubleBarrier(LockClient client, String name, int parties) {
        this.keys = client.keys();
        this.name = Names.check(name);
        this.prefix = name + "/";
        this.mine = Names.check(prefix + ENTERED + client.sessionId());
        this.parties = parties;
    }

    /**
     * The barrier {@code name} for {@code parties} sessions, as {@code client} sees it; creating it
     * touches nothing.
     *
     * @throws InvalidArgumentException for a bad name, or parties outside 1 to {@link
     *     DistributedBarrier#MAX_PARTIES}
     * @throws io.holdfast.UnsupportedFeatureException without {@link Capability#KEYS}
     */
    public static DoubleBarrier of(LockClient client, String name, int parties) {
        if (client == null) {
            throw new InvalidArgumentException("the client must not be null");
        }
        if (parties < 1 || parties > DistributedBarrier.MAX_PARTIES) {
            throw new InvalidArgumentException(
                    "a barrier has 1 to " + DistributedBarrier.MAX_PARTIES + " parties, not " + parties);
        }
        return new DoubleBarrier(client, name, parties);
    }

    /** The barrier's name: its keys are under {@code <name>/}. */
    public String name() {
        return name;
    }

    /** How many sessions enter together. */
    public int parties() {
        return parties;
    }

    /**
     * Enters and waits until {@code parties} sessions are in.
     *
     * @return true once they were; false when {@code timeout} passed first (this session's presence
     *     was taken back)
     * @throws io.holdfast.HoldfastException when the client or its session ends while waiting
     */
    public boolean enter(Duration timeout) throws InterruptedException {
        checkTimeout(timeout);
        keys.put(mine, new byte[0], PutOptions.any().attach());
        try (KeyView view = new KeyView(keys, prefix, m -> {})) {
            if (view.await(m -> m.containsKey(READY) || entered(m) >= parties, timeout)) {
                open();
                return true;
            }
        }
        // Take the presence back unless the barrier opened meanwhile: then this party is in.
        return !keys.commit(Txn.when(Txn.absent(prefix + READY)).then(Txn.delete(mine)))
                .succeeded();
    }

    /**
     * Leaves and waits until no session is in; the parties that see that delete {@code ready}.
     *
     * @return true once nobody was in; false when {@code timeout} passed first (this session is out
     *     all the same)
     * @throws io.holdfast.HoldfastException when the client or its session ends while waiting
     */
    public boolean leave(Duration timeout) throws InterruptedException {
        checkTimeout(timeout);
        keys.delete(mine);
        try (KeyView view = new KeyView(keys, prefix, m -> {})) {
            if (!view.await(m -> entered(m) == 0, timeout)) {
                return false;
            }
        }
        keys.delete(prefix + READY);
        return true;
    }

    /** Writes {@code ready} unless another party did. */
    private void open() {
        try {
            keys.put(prefix + READY, new byte[0], PutOptions.ifAbsent());
        } catch (ConflictException e) {
            // opened by another party already
        }
    }

    private static long entered(SortedMap<String, KeyEntry> keys) {
        return keys.keySet().stream().filter(k -> k.startsWith(ENTERED)).count();
    }

    private static void checkTimeout(Duration timeout) {
        if (timeout == null || timeout.isNegative()) {
            throw new InvalidArgumentException("the timeout must be zero or more, not " + timeout);
        }
    }
}
