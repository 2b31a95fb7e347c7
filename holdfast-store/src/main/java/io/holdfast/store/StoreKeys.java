package io.holdfast.store;

import io.holdfast.KeyEntry;
import io.holdfast.Keys;
import io.holdfast.PutOptions;
import io.holdfast.Txn;
import io.holdfast.TxnResult;

/**
 * The keys of a store provider ({@link StoreBackend#keys()}) whose single writes are transactions:
 * a {@link #put}, a {@link #delete} and an {@link #add} are each a {@link Txn} of that one op, run
 * by the provider's {@link #run} as it runs every {@link #commit}. So a single write keeps every rule
 * of an op of a transaction (its expected version, the key's version after it, its lifetime
 * attached to the session or of a time to live, a counter's arithmetic of {@link
 * io.holdfast.Counters}, the limit of keys per session) in the one step of the store that a
 * transaction takes, and is refused with the same exceptions, only not named by branch and op
 * ({@code "then op 1: "}): a single write names no op, as the server's do.
 *
 * <p>A provider supplies {@link #run} (one transaction, atomically, in its store), the reads
 * ({@link #get}, {@link #list}) and {@link #watch}. Arguments are trusted: the client checks them
 * first ({@code CheckedKeys}).
 *
 * <p>Guarantees: a single write costs what a transaction of one op costs in the provider's store,
 * no more. A put answers the key as written, owned by {@link #sessionId()} when attached. A failure
 * story: a put whose expected version is stale is refused by the provider's transaction with
 * {@link io.holdfast.ConflictException} ({@code "K is at version 3, not 2"}), and nothing changed.
 */
public abstract class StoreKeys implements Keys {
    private final String sessionId;

    /** @param sessionId this client's session, which an attached key is written with ({@link KeyEntry#owner()}) */
    protected StoreKeys(String sessionId) {
        this.sessionId = sessionId;
    }

    /** This client's session: the owner of the keys it attaches. */
    protected final String sessionId() {
        return sessionId;
    }

    /**
     * Runs {@code txn} in one step of the store: every compare read and every op of the branch that
     * runs applied at one point, or nothing.
     *
     * @param single whether {@code txn} is a single write ({@link #put}, {@link #delete}, {@link
     *     #add}: one op in {@link Txn#then()}, no compares): its refusal then names no branch or op;
     *     else a {@link #commit}, whose refusals are named {@code "then op 2: ..."} ({@link
     *     KeyRules#label})
     * @return which branch ran and each op's result
     */
    protected abstract TxnResult run(Txn txn, boolean single);

    @Override
    public final KeyEntry put(String key, byte[] value, PutOptions options) {
        long version = single(Txn.put(key, value, options)).version();
        return new KeyEntry(key, version, value, options.attached() ? sessionId : null);
    }

    @Override
    public final long delete(String key, long expectedVersion) {
        return single(Txn.delete(key, expectedVersion)).version();
    }

    @Override
    public final long add(String key, long delta) {
        return single(Txn.add(key, delta)).counter();
    }

    @Override
    public final TxnResult commit(Txn txn) {
        return run(txn, false);
    }

    private TxnResult.OpResult single(Txn.Op op) {
        return run(Txn.when().then(op), true).results().get(0);
    }
}
