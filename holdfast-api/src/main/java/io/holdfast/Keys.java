package io.holdfast;

import java.util.Optional;

/**
 * Small keys beside the locks, from {@link LockClient#keys()}: what teams otherwise keep etcd or
 * ZooKeeper for (service discovery, group membership, configuration, counters, atomic changes of
 * several keys).
 *
 * <p><b>Guarantees</b> (where the provider has {@link Capability#KEYS}): each key has a version
 * that is 1 at its first write after it was absent and grows by one with every write; a delete
 * makes it absent (version 0). Reads, lists and writes are linearizable where the provider is
 * ({@link Capability#SURVIVES_NODE_FAILURE} says whether it survives a node's loss). A key written
 * with {@link PutOptions#attached()} ({@link Capability#SESSION_KEYS}) is deleted in the same step
 * as this client's session ends, and every watcher of it is told with the cause ({@link
 * WatchEvent.Cause#SESSION_EXPIRED}, {@link WatchEvent.Cause#SESSION_CLOSED}); with a time to live
 * ({@link Capability#KEY_TTL}) it is deleted when that passes ({@link
 * WatchEvent.Cause#LEASE_TIMEOUT}). A {@link #commit transaction} ({@link
 * Capability#TRANSACTIONS}) is one step: all its compares are read and all its ops applied at one
 * point, or none. A call whose answer was lost is retried by the client under the same invocation:
 * it applies once.
 *
 * <p><b>Does not</b> keep history (a key has only its current version), order keys other than by
 * the bytes of their UTF-8, or keep a listing of several pages at one point: each page is read
 * where it was read ({@link KeyListing#position()}).
 *
 * <p><b>Failure story</b>: a service instance registers {@code services/web/i-17} attached to its
 * session and is SIGKILLed. It stops keeping its session alive; when the session's TTL passes the
 * service ends it, deletes the key in the same step, and every watcher of {@code services/web/}
 * receives {@link WatchEvent.Type#REGISTER_DELETED} with cause {@code SESSION_EXPIRED}. A reader
 * that lists the prefix after that step does not see the instance; one that listed before and
 * watches from the listing's position sees the deletion: nothing falls between.
 *
 * <p><b>Limits</b>: keys follow {@link Names} (1 to 512 bytes of UTF-8); values at most {@link
 * #MAX_VALUE_BYTES}; at most {@link #MAX_KEYS_PER_SESSION} keys attached to one session; a page
 * of at most {@link #MAX_PAGE} keys, which the Holdfast server also ends once its keys and values
 * reach {@link #MAX_PAGE_BYTES}. A limit is refused with {@link InvalidArgumentException} or
 * {@link QuotaExceededException} naming it, before anything changes. An answer larger than the
 * client accepts (a page from a server that does not end pages by bytes) fails that call alone
 * with {@link QuotaExceededException} naming the client's limit.
 */
public interface Keys {
    /** An expected version that any version matches (a put or delete without a condition). */
    long ANY_VERSION = -1;

    /** The largest value: 64 KiB. */
    int MAX_VALUE_BYTES = VersionedRegister.MAX_VALUE_BYTES;

    /** The most keys a page lists. */
    int MAX_PAGE = 1_000;

    /**
     * The bytes of keys (UTF-8) and values after which the Holdfast server ends a page (1 MiB),
     * so that a page fits every client's frame: a page holds at least one key, and at most this
     * much unless its one key is larger; {@link KeyListing#more()} says the listing goes on.
     */
    int MAX_PAGE_BYTES = 1024 * 1024;

    /** The most compares, and ops per branch, of one transaction. */
    int MAX_TXN_OPS = 128;

    /** The most bytes of keys and values of one transaction. */
    int MAX_TXN_BYTES = 256 * 1024;

    /** The most keys attached to one session. */
    int MAX_KEYS_PER_SESSION = 10_000;

    /** The refusal of a {@link #deletePrefix} without a prefix, in every client's words. */
    String EMPTY_PREFIX_DELETE = "a prefix delete needs a prefix: deleting every key at once is not offered";

    /** The shortest time to live of a key, in seconds. */
    int MIN_TTL_SECONDS = 1;

    /** The longest time to live of a key, in days. */
    int MAX_TTL_DAYS = 30;

    /** The key's value, version and owner; empty when it is absent. */
    Optional<KeyEntry> get(String key);

    /**
     * Writes {@code value} to {@code key} as {@code options} say. Without a lifetime in them
     * ({@link PutOptions.Lifetime#KEEP}) the key keeps its own: attached to its session, whichever
     * session writes it, or with its deadline.
     *
     * @return the key as written, with its new version; its owner is this client's session when the
     *     put attached it, else null (a put that keeps an attachment does not read it back: {@link
     *     #get} does)
     * @throws ConflictException when the key's version is not the expected one; nothing was written
     * @throws UnsupportedFeatureException when the options need a capability the provider lacks
     * @throws QuotaExceededException when the session already has {@link #MAX_KEYS_PER_SESSION} keys
     */
    KeyEntry put(String key, byte[] value, PutOptions options);

    /** {@link #put(String, byte[], PutOptions)} whatever the key's version, keeping the key's lifetime. */
    default KeyEntry put(String key, byte[] value) {
        return put(key, value, PutOptions.any());
    }

    /**
     * Deletes the key if its version is {@code expectedVersion} (or whatever it is, with {@link
     * #ANY_VERSION}).
     *
     * @return the version the key had; 0 when it was absent (an unconditional delete of an absent
     *     key is not refused)
     * @throws ConflictException when the key's version is not the expected one; nothing was deleted
     */
    long delete(String key, long expectedVersion);

    /** {@link #delete(String, long)} whatever the key's version. */
    default long delete(String key) {
        return delete(key, ANY_VERSION);
    }

    /**
     * Deletes every key that starts with {@code prefix} (etcd's {@code DeleteRange} with a prefix),
     * page by page, and answers how many it deleted. Each page of up to {@link #MAX_PAGE} keys is
     * one step; the whole is not: a reader may see part of the prefix deleted, and a key written
     * under the prefix while the pages run may stay. Keys attached to any session go as a {@link
     * #delete} of them would, each deletion told to watchers ({@link WatchEvent.Type#REGISTER_DELETED},
     * no cause). An election's record is not a key and stays. Where access control is on, a page
     * with a key this client may not write is refused, and what earlier pages deleted stays deleted.
     *
     * <p>On the Holdfast server and {@code mem:} a page is one command of protocol version 9 (a
     * cluster with an older member refuses it with {@link UnsupportedFeatureException}); the store
     * providers list a page and delete its keys one by one.
     *
     * @param prefix 1 to 512 bytes ({@link Names}): an empty prefix is refused ({@link
     *     #EMPTY_PREFIX_DELETE}), so that no typo deletes every key
     * @return how many keys were deleted
     * @throws InvalidArgumentException for an empty or malformed prefix; nothing deleted
     */
    default long deletePrefix(String prefix) {
        if (prefix == null || prefix.isEmpty()) {
            throw new InvalidArgumentException(EMPTY_PREFIX_DELETE);
        }
        long deleted = 0;
        String after = "";
        while (after != null) {
            KeyListing page = list(prefix, after, MAX_PAGE);
            for (KeyEntry e : page.entries()) {
                deleted += delete(e.key()) == 0 ? 0 : 1;
            }
            after = page.next();
        }
        return deleted;
    }

    /**
     * Adds {@code delta} to the key's counter in one step and answers the new value: no
     * compare-and-set loop. A counter is a key of 8 bytes, a signed big-endian 64-bit integer
     * ({@link Counters}, {@link KeyEntry#counter()}); an absent key counts as 0 and is created. The
     * key's lifetime stays as it was.
     *
     * @throws InvalidArgumentException when the key holds something other than 8 bytes, or the sum
     *     overflows ({@link Counters#refusal} says it); nothing changed
     */
    long add(String key, long delta);

    /**
     * One page of the keys that start with {@code prefix}, after {@code after}, in byte order of
     * their UTF-8, read at one point. A page may hold fewer than {@code limit} keys and still have
     * {@link KeyListing#more() more}: the Holdfast server ends it at {@link #MAX_PAGE_BYTES} of
     * keys and values. Follow {@link KeyListing#next()} until it is null.
     *
     * @param prefix "" for every key
     * @param after "" (or null) for the first page; else the last key of the page before ({@link
     *     KeyListing#next()})
     * @param limit 1 to {@link #MAX_PAGE}
     */
    KeyListing list(String prefix, String after, int limit);

    /**
     * {@link #list(String, String, int)}, keys only when {@code keysOnly} (etcd's {@code
     * --keys-only}): each entry has its key, version and owner, and an empty value. The Holdfast
     * server does not send the values (protocol version 9; an older server sends them and the
     * client drops them); a store provider reads them and drops them.
     */
    default KeyListing list(String prefix, String after, int limit, boolean keysOnly) {
        KeyListing page = list(prefix, after, limit);
        if (!keysOnly) {
            return page;
        }
        java.util.List<KeyEntry> keys = new java.util.ArrayList<>(page.entries().size());
        for (KeyEntry e : page.entries()) {
            keys.add(new KeyEntry(e.key(), e.version(), new byte[0], e.owner()));
        }
        return new KeyListing(keys, page.more(), page.position());
    }

    /** The first page of up to {@link #MAX_PAGE} keys under {@code prefix}. */
    default KeyListing list(String prefix) {
        return list(prefix, "", MAX_PAGE);
    }

    /**
     * Follows every key under {@code prefix}: first a {@link WatchEvent.Type#STATE} with the keys
     * ({@link WatchEvent#keys()}), then each write ({@code REGISTER_SET}) and deletion ({@code
     * REGISTER_DELETED} with its cause) in the order the service made them; after a gap, a new
     * {@code STATE}. The same as {@link LockClient#watch(WatchTarget, WatchListener)} with {@link
     * WatchTarget#keys(String)}.
     */
    Watch watch(String prefix, WatchListener listener);

    /**
     * Follows every key under {@code prefix} from {@code fromPosition}, a position the service gave
     * (a listing's {@link KeyListing#position()}, an event's {@link WatchEvent#position()}): each
     * write and deletion after it, in order; or, when the service no longer has every change since
     * (it keeps about the last 65,536), a {@link WatchEvent.Type#STATE} first and the changes after
     * that. So a listing followed by a watch from its position misses nothing: a change made between
     * them is told (etcd's {@code Watch(WithRev(rev + 1))} after a {@code Range} at {@code rev}).
     *
     * <p>On the Holdfast server and {@code mem:}. A provider whose listings have no position ("")
     * starts with a {@code STATE}, as {@link #watch(String, WatchListener)} does: a change may then
     * be told twice, never missed.
     *
     * @param fromPosition the position; null or "" to start with a {@code STATE}
     * @throws InvalidArgumentException when {@code fromPosition} is not a position the service gives
     */
    default Watch watch(String prefix, String fromPosition, WatchListener listener) {
        return watch(prefix, listener);
    }

    /**
     * Runs a transaction in one step.
     *
     * @return which branch ran and each op's result
     * @throws ConflictException when an op of the branch that ran was refused for a version; its
     *     message names the branch and the op ("then op 2: ..."); nothing changed
     * @throws UnsupportedFeatureException without {@link Capability#TRANSACTIONS}
     */
    TxnResult commit(Txn txn);

    /**
     * Checks a value against {@link #MAX_VALUE_BYTES}.
     *
     * @throws InvalidArgumentException for null or a value too large
     */
    static byte[] checkValue(byte[] value) {
        if (value == null) {
            throw new InvalidArgumentException("the value must not be null");
        }
        if (value.length > MAX_VALUE_BYTES) {
            throw new InvalidArgumentException(
                    "the value is " + value.length + " bytes; the limit is " + MAX_VALUE_BYTES);
        }
        return value;
    }
}
