package io.holdfast.redis;

import io.holdfast.Admin;
import io.holdfast.HolderInfo;
import io.holdfast.LockInfo;
import io.holdfast.LockMode;
import io.holdfast.WaiterInfo;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Operator calls over Redis: describe one name (a read-only script), list names by prefix ({@code
 * SCAN} of the provider's keys, then describe each: a listing is not one atomic snapshot), revoke,
 * and fencing checks. Arguments and capabilities are checked by the store client before these run.
 */
final class RedisAdmin implements Admin {
    private static final int SCAN_BATCH = 1000;

    private final RedisBackend backend;

    RedisAdmin(RedisBackend backend) {
        this.backend = backend;
    }

    @Override
    public List<LockInfo> locks(String prefix, int limit) {
        TreeSet<String> names = new TreeSet<>();
        RedisKeyLayout keys = backend.layout();
        for (String kind : new String[] {RedisKeyLayout.HOLDERS, RedisKeyLayout.QUEUE}) {
            ScanArgs args = ScanArgs.Builder.matches(keys.pattern(kind, prefix)).limit(SCAN_BATCH);
            ScanCursor cursor = ScanCursor.INITIAL;
            do {
                ScanCursor from = cursor;
                KeyScanCursor<String> page =
                        backend.calls().call("list locks under " + prefix, c -> c.scan(from, args));
                for (String key : page.getKeys()) {
                    String name = keys.name(kind, key);
                    if (name != null) {
                        names.add(name);
                    }
                }
                cursor = page;
            } while (!cursor.isFinished());
        }
        List<LockInfo> locks = new ArrayList<>();
        for (String name : names) {
            if (locks.size() == limit) {
                break;
            }
            describe(name).ifPresent(locks::add);
        }
        return locks;
    }

    @Override
    public Optional<LockInfo> describe(String name) {
        List<Object> reply = backend.run(LockScripts.DESCRIBE, "describe " + name, new String[] {
            backend.layout().holders(name),
            backend.layout().queue(name),
            backend.layout().waiters(name)
        });
        long now = (Long) reply.get(0);
        List<HolderInfo> holders = new ArrayList<>();
        List<WaiterInfo> waiters = new ArrayList<>();
        boolean semaphore = false;
        int maxPermits = 1;
        for (Object o : (List<?>) reply.get(1)) {
            List<?> h = (List<?>) o;
            LockMode mode = mode((String) h.get(2));
            semaphore |= mode == LockMode.PERMITS;
            maxPermits = (int) (long) (Long) h.get(4);
            holders.add(new HolderInfo(
                    (String) h.get(0),
                    (String) h.get(1),
                    mode,
                    (int) (long) (Long) h.get(3),
                    (Long) h.get(5),
                    1,
                    Duration.ofMillis(Math.max(0, now - (Long) h.get(6))),
                    (Long) h.get(8) == 1 ? Duration.ofMillis(Math.max(0, (Long) h.get(7) - now)) : null));
        }
        for (Object o : (List<?>) reply.get(2)) {
            List<?> w = (List<?>) o;
            LockMode mode = mode((String) w.get(2));
            semaphore |= mode == LockMode.PERMITS;
            if (holders.isEmpty()) {
                maxPermits = (int) (long) (Long) w.get(4);
            }
            waiters.add(new WaiterInfo(
                    (String) w.get(0),
                    (String) w.get(1),
                    mode,
                    (int) (long) (Long) w.get(3),
                    Duration.ofMillis(Math.max(0, now - (Long) w.get(5))),
                    Duration.ofMillis(Math.max(0, (Long) w.get(6) - now))));
        }
        if (holders.isEmpty() && waiters.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new LockInfo(name, semaphore, maxPermits, holders, waiters));
    }

    @Override
    public int revoke(String name) {
        return (int) backend.scripts().revoke(name, backend.floor());
    }

    @Override
    public boolean isCurrentHolder(String name, long fencingToken) {
        return backend.scripts().check(name, fencingToken);
    }

    private static LockMode mode(String code) {
        return switch (code) {
            case "S" -> LockMode.SHARED;
            case "P" -> LockMode.PERMITS;
            default -> LockMode.EXCLUSIVE;
        };
    }

    /** {@code text} as a SCAN pattern that matches only itself. */
    static String glob(String text) {
        StringBuilder b = new StringBuilder(text.length() + 8);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
                b.append('\\');
            }
            b.append(c);
        }
        return b.toString();
    }
}
