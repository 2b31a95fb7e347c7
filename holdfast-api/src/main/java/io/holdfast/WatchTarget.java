package io.holdfast;

/**
 * What a watch follows: one lock, every lock whose name starts with a prefix, one register, or
 * every key whose name starts with a prefix.
 *
 * @param kind which of the four
 * @param name the lock's name, the prefix (empty: every lock, or every key), or the register's key
 */
public record WatchTarget(Kind kind, String name) {
    /**
     * The most locks a prefix watch follows: the state it starts from (and restarts from after a
     * gap) lists at most this many locks under the prefix, in name order. The state of a watch of
     * keys ({@link Kind#KEYS}) lists at most as many keys, over every transport.
     */
    public static final int MAX_PREFIX_LOCKS = 10_000;

    /** What a watch follows. */
    public enum Kind {
        /** One lock, read-write lock or semaphore. */
        LOCK,
        /** Every lock whose name starts with the prefix. */
        PREFIX,
        /** One versioned register. */
        REGISTER,
        /** Every key ({@link Keys}) whose name starts with the prefix. */
        KEYS
    }

    public WatchTarget {
        if (kind == null) {
            throw new InvalidArgumentException("the watch's kind must not be null");
        }
        if (kind == Kind.PREFIX || kind == Kind.KEYS) {
            if (name == null) {
                throw new InvalidArgumentException("the prefix must not be null (\"\" watches every "
                        + (kind == Kind.KEYS ? "key" : "lock") + ")");
            }
            if (!name.isEmpty()) {
                Names.check(name);
            }
        } else {
            Names.check(name);
        }
    }

    /** One lock. @throws InvalidArgumentException for a bad name */
    public static WatchTarget lock(String name) {
        return new WatchTarget(Kind.LOCK, name);
    }

    /** Every lock whose name starts with {@code prefix} ("" for all). */
    public static WatchTarget prefix(String prefix) {
        return new WatchTarget(Kind.PREFIX, prefix);
    }

    /** One register. @throws InvalidArgumentException for a bad key */
    public static WatchTarget register(String key) {
        return new WatchTarget(Kind.REGISTER, key);
    }

    /** Every key whose name starts with {@code prefix} ("" for all). */
    public static WatchTarget keys(String prefix) {
        return new WatchTarget(Kind.KEYS, prefix);
    }

    /** Whether a lock of this name is watched (never for a register watch). */
    public boolean coversLock(String lockName) {
        return switch (kind) {
            case LOCK -> name.equals(lockName);
            case PREFIX -> lockName.startsWith(name);
            case REGISTER, KEYS -> false;
        };
    }

    @Override
    public String toString() {
        return switch (kind) {
            case LOCK -> name;
            case PREFIX -> name + "*";
            case REGISTER -> "register " + name;
            case KEYS -> "keys " + name + "*";
        };
    }
}
