package io.holdfast.recipes;

import io.holdfast.ConflictException;
import io.holdfast.DistributedBarrier;
import io.holdfast.DoubleBarrier;
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
 * {@link LockClient#doubleBarrier}: presences are keys attached to each session, under {@code
 * <name>/entered/}, and {@code <name>/ready} opens the barrier; the waits are a {@link KeyView} of
 * {@code <name>/}, timed by the client's clock.
 */
final class KeyDoubleBarrier implements DoubleBarrier {
    private static final String READY = "ready";
    private static final String ENTERED = "entered/";

    private final Recipes recipes;
    private final Keys keys;
    private final String name;
    private final String prefix;
    private final String mine;
    private final int parties;

    /**
     * Creating it touches nothing.
     *
     * @throws InvalidArgumentException for a bad name, or parties outside 1 to {@link
     *     DistributedBarrier#MAX_PARTIES}
     * @throws io.holdfast.UnsupportedFeatureException without {@link io.holdfast.Capability#KEYS}
     */
    KeyDoubleBarrier(Recipes recipes, String name, int parties) {
        if (parties < 1 || parties > DistributedBarrier.MAX_PARTIES) {
            throw new InvalidArgumentException(
                    "a barrier has 1 to " + DistributedBarrier.MAX_PARTIES + " parties, not " + parties);
        }
        LockClient client = recipes.client();
        this.recipes = recipes;
        this.keys = client.keys();
        this.name = Names.check(name);
        this.prefix = name + "/";
        this.mine = Names.check(prefix + ENTERED + client.sessionId());
        this.parties = parties;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int parties() {
        return parties;
    }

    @Override
    public boolean enter(Duration timeout) throws InterruptedException {
        checkTimeout(timeout);
        keys.put(mine, new byte[0], PutOptions.any().attach());
        try (KeyView view = new KeyView(recipes, keys, prefix, m -> {})) {
            if (view.await(m -> m.containsKey(READY) || entered(m) >= parties, timeout)) {
                open();
                return true;
            }
        }
        // Take the presence back unless the barrier opened meanwhile: then this party is in.
        return !keys.commit(Txn.when(Txn.absent(prefix + READY)).then(Txn.delete(mine)))
                .succeeded();
    }

    @Override
    public boolean leave(Duration timeout) throws InterruptedException {
        checkTimeout(timeout);
        keys.delete(mine);
        try (KeyView view = new KeyView(recipes, keys, prefix, m -> {})) {
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
            throw new InvalidArgumentException(
                    "the timeout must be zero or more, not " + io.holdfast.internal.DurationText.format(timeout));
        }
    }

    @Override
    public String toString() {
        return "DoubleBarrier[" + name + ", " + parties + " parties]";
    }
}
