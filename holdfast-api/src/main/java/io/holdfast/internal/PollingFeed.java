package io.holdfast.internal;

import io.holdfast.Capability;
import io.holdfast.HolderInfo;
import io.holdfast.InvalidArgumentException;
import io.holdfast.KeyEntry;
import io.holdfast.KeyListing;
import io.holdfast.Keys;
import io.holdfast.LockClient;
import io.holdfast.LockInfo;
import io.holdfast.Ticker;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.Versioned;
import io.holdfast.VersionedRegister;
import io.holdfast.WaiterInfo;
import io.holdfast.WatchEvent;
import io.holdfast.WatchTarget;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;

/**
 * A {@link ChangeFeed} for providers without a record of their changes: it reads the watched state
 * ({@link io.holdfast.Admin#describe}, {@link io.holdfast.Admin#locks}, {@link
 * VersionedRegister#get}, {@link io.holdfast.Keys#list}) when its {@link Wakeup} says it may have changed, at least every {@link
 * #INTERVAL}, and reports the differences. A store that can tell of changes (ZooKeeper watches,
 * etcd watch, PostgreSQL LISTEN/NOTIFY, Redis pub/sub) gives a wakeup that returns at once then;
 * the default sleeps.
 *
 * <p>What it sees is what was there at two reads: a lock taken and given back between them is not
 * reported, a register or key written twice shows its second version only, and it cannot tell why a
 * holder left, a wait ended or a key was deleted ({@link WatchEvent.Cause#UNKNOWN}). Positions are its own count of
 * reads, meaningful only to this watch. One per watch; not thread-safe (its runner's thread).
 */
public final class PollingFeed implements ChangeFeed {
    /** The longest time between two reads. */
    public static final Duration INTERVAL = Duration.ofMillis(100);

    /**
     * Blocks until what a target watches may have changed, or {@code maxNanos} passed. Spurious
     * returns are fine (the feed reads and finds nothing new); a missed notification costs at most
     * one {@link #INTERVAL}.
     */
    @FunctionalInterface
    public interface Wakeup {
        void await(WatchTarget target, long maxNanos) throws InterruptedException;

        /** Sleeps the whole time: plain polling. */
        Wakeup SLEEP = (target, maxNanos) -> java.util.concurrent.TimeUnit.NANOSECONDS.sleep(maxNanos);
    }

    private final LockClient client;
    private final Wakeup wakeup;
    private final Ticker ticker;
    private long reads;
    private Map<String, LockInfo> locks = Map.of();
    private Map<String, KeyEntry> keys = Map.of();
    private long version;
    private byte[] value;
    /** The position of the last event given (or of the state); null before the first read. */
    private String last;

    /**
     * Starts a polling watch through {@code client} ({@link io.holdfast.recipes.Recipes#watch}, or
     * a provider's own), woken by {@code wakeup}, that measures its waits with {@code ticker} (the
     * client's {@link io.holdfast.ClientOptions#ticker()}) and runs on {@code executor} and {@code
     * timers} ({@link WatchRunner#start}).
     *
     * @throws io.holdfast.UnsupportedFeatureException without {@link Capability#INSPECT} ({@link
     *     Capability#REGISTERS} for a register, {@link Capability#KEYS} for keys)
     */
    public static io.holdfast.Watch watch(
            LockClient client,
            WatchTarget target,
            io.holdfast.WatchListener listener,
            Wakeup wakeup,
            Ticker ticker,
            Executor executor,
            ScheduledExecutorService timers) {
        if (target == null) {
            throw new InvalidArgumentException("the watch target must not be null");
        }
        Capability needed = switch (target.kind()) {
            case REGISTER -> Capability.REGISTERS;
            case KEYS -> Capability.KEYS;
            default -> Capability.INSPECT;
        };
        if (!client.capabilities().contains(needed)) {
            throw new UnsupportedFeatureException(
                    "watching " + target + " needs " + needed + ", which this provider does not offer");
        }
        return WatchRunner.start(
                new PollingFeed(client, wakeup, ticker), target, listener, client::isOpen, executor, timers);
    }

    /**
     * Polls through {@code client}, woken by {@code wakeup} between reads; a read's {@code wait} is
     * measured with {@code ticker}.
     */
    public PollingFeed(LockClient client, Wakeup wakeup, Ticker ticker) {
        this.client = client;
        this.wakeup = wakeup;
        this.ticker = ticker;
    }

    @Override
    public Page read(WatchTarget target, String after, Duration wait) throws InterruptedException {
        if (after == null || !after.equals(last)) {
            reads++;
            WatchEvent state;
            if (target.kind() == WatchTarget.Kind.REGISTER) {
                readRegister(target);
                state = WatchEvent.registerState(target.name(), version, value);
            } else if (target.kind() == WatchTarget.Kind.KEYS) {
                keys = readKeys(target.name());
                state = WatchEvent.keyState(target.name(), List.copyOf(keys.values()));
            } else {
                locks = readLocks(target);
                state = WatchEvent.lockState(target.name(), List.copyOf(locks.values()));
            }
            last = reads + ".0";
            return new Page(List.of(state.at(last)), last);
        }
        long deadline = ticker.nanos() + wait.toNanos();
        while (true) {
            reads++;
            List<WatchEvent> changes = new ArrayList<>();
            if (target.kind() == WatchTarget.Kind.REGISTER) {
                if (readRegister(target)) {
                    changes.add(WatchEvent.registerSet(target.name(), null, version, value));
                }
            } else if (target.kind() == WatchTarget.Kind.KEYS) {
                Map<String, KeyEntry> now = readKeys(target.name());
                diffKeys(keys, now, changes);
                keys = now;
            } else {
                Map<String, LockInfo> now = readLocks(target);
                diff(locks, now, changes);
                locks = now;
            }
            if (!changes.isEmpty()) {
                List<WatchEvent> placed = new ArrayList<>(changes.size());
                for (int i = 0; i < changes.size(); i++) {
                    last = reads + "." + i;
                    placed.add(changes.get(i).at(last));
                }
                return new Page(placed, last);
            }
            long left = deadline - ticker.nanos();
            if (left <= 0) {
                return new Page(List.of(), last);
            }
            wakeup.await(target, Math.max(1_000_000, Math.min(INTERVAL.toNanos(), left)));
        }
    }

    /** Reads the register; true if its version moved since the last read. */
    private boolean readRegister(WatchTarget target) {
        Optional<Versioned> now = client.register(target.name()).get();
        long v = now.map(Versioned::version).orElse(0L);
        if (v == version) {
            return false;
        }
        version = v;
        value = now.map(Versioned::value).orElse(null);
        return true;
    }

    /** Every key under the prefix, page by page, at most {@link WatchTarget#MAX_PREFIX_LOCKS}. */
    private Map<String, KeyEntry> readKeys(String prefix) {
        Map<String, KeyEntry> now = new LinkedHashMap<>();
        String after = "";
        while (after != null && now.size() < WatchTarget.MAX_PREFIX_LOCKS) {
            int limit = Math.min(Keys.MAX_PAGE, WatchTarget.MAX_PREFIX_LOCKS - now.size());
            KeyListing page = client.keys().list(prefix, after, limit);
            page.entries().forEach(e -> now.put(e.key(), e));
            after = page.next();
        }
        return now;
    }

    /**
     * The changes from {@code before} to {@code after} (both in the service's key order): first the
     * keys that are gone, deleted (why, polling cannot tell: {@link WatchEvent.Cause#UNKNOWN}), then
     * those whose version moved, written.
     */
    static void diffKeys(Map<String, KeyEntry> before, Map<String, KeyEntry> after, List<WatchEvent> out) {
        before.forEach((key, was) -> {
            if (!after.containsKey(key)) {
                out.add(WatchEvent.registerDeleted(key, null, was.version(), WatchEvent.Cause.UNKNOWN));
            }
        });
        after.forEach((key, is) -> {
            KeyEntry was = before.get(key);
            if (was == null || was.version() != is.version()) {
                out.add(WatchEvent.registerSet(key, null, is.version(), is.value()));
            }
        });
    }

    private Map<String, LockInfo> readLocks(WatchTarget target) {
        Map<String, LockInfo> now = new TreeMap<>();
        if (target.kind() == WatchTarget.Kind.LOCK) {
            client.admin().describe(target.name()).ifPresent(info -> now.put(info.name(), info));
        } else {
            for (LockInfo info : client.admin().locks(target.name(), WatchTarget.MAX_PREFIX_LOCKS)) {
                if (target.coversLock(info.name())) {
                    now.put(info.name(), info);
                }
            }
        }
        now.values().removeIf(info -> info.holders().isEmpty() && info.waiters().isEmpty());
        return now;
    }

    /** The changes from {@code before} to {@code after}, lock by lock in name order. */
    public static void diff(Map<String, LockInfo> before, Map<String, LockInfo> after, List<WatchEvent> out) {
        TreeSet<String> names = new TreeSet<>(before.keySet());
        names.addAll(after.keySet());
        for (String name : names) {
            LockInfo was = before.get(name);
            LockInfo is = after.get(name);
            Map<String, HolderInfo> heldBefore = holders(was);
            Map<String, HolderInfo> heldAfter = holders(is);
            List<String> newHolders = new ArrayList<>();
            heldBefore.forEach((key, h) -> {
                if (!heldAfter.containsKey(key)) {
                    out.add(WatchEvent.released(
                            name, h.sessionId(), h.fencingToken(), h.mode(), WatchEvent.Cause.UNKNOWN));
                }
            });
            heldAfter.forEach((key, h) -> {
                if (!heldBefore.containsKey(key)) {
                    newHolders.add(h.sessionId());
                }
            });
            Map<String, Integer> waitingAfter = waiters(is);
            Map<String, Integer> waitingBefore = waiters(was);
            for (WaiterInfo w : was == null ? List.<WaiterInfo>of() : was.waiters()) {
                String key = waiterKey(w);
                if (waitingAfter.merge(key, -1, Integer::sum) < 0 && !newHolders.remove(w.sessionId())) {
                    out.add(WatchEvent.waitEnded(name, w.sessionId(), w.mode(), WatchEvent.Cause.UNKNOWN));
                }
            }
            heldAfter.forEach((key, h) -> {
                if (!heldBefore.containsKey(key)) {
                    out.add(WatchEvent.acquired(name, h.sessionId(), h.fencingToken(), h.mode()));
                }
            });
            for (WaiterInfo w : is == null ? List.<WaiterInfo>of() : is.waiters()) {
                if (waitingBefore.merge(waiterKey(w), -1, Integer::sum) < 0) {
                    out.add(WatchEvent.queued(name, w.sessionId(), w.mode()));
                }
            }
        }
    }

    private static Map<String, HolderInfo> holders(LockInfo info) {
        Map<String, HolderInfo> map = new java.util.LinkedHashMap<>();
        if (info != null) {
            for (HolderInfo h : info.holders()) {
                map.put(h.sessionId() + "#" + h.fencingToken(), h);
            }
        }
        return map;
    }

    private static Map<String, Integer> waiters(LockInfo info) {
        Map<String, Integer> counts = new HashMap<>();
        if (info != null) {
            for (WaiterInfo w : info.waiters()) {
                counts.merge(waiterKey(w), 1, Integer::sum);
            }
        }
        return counts;
    }

    private static String waiterKey(WaiterInfo w) {
        return w.sessionId() + "|" + w.mode() + "|" + w.permits();
    }
}
