package io.holdfast.redis;

import io.holdfast.ClientOptions;
import io.holdfast.ConflictException;
import io.holdfast.Counters;
import io.holdfast.ExpectedVersions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.KeyEntry;
import io.holdfast.KeyListing;
import io.holdfast.Keys;
import io.holdfast.PutOptions;
import io.holdfast.QuotaExceededException;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.Watch;
import io.holdfast.WatchListener;
import io.holdfast.store.KeyRules;
import io.holdfast.store.StoreKeys;
import io.lettuce.core.ScriptOutputType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keys on one Redis ({@link Keys}): the registers' hashes ({@code <prefix>reg:<key>}, so a key and
 * a register of the same name are one record) with an owner and an expiry beside the value and
 * version, a sorted set of every key's name for lists in byte order, and a record of this client's
 * session for the keys attached to it. The layout is in {@code keys-lib.lua}.
 *
 * <p><b>What it guarantees.</b> Every call is one Lua script, so Redis runs it in one step: a
 * transaction reads its compares and checks every op of the branch that runs before it applies any
 * (get, put, delete and add are transactions of one op); a list reads its page in one step. A
 * fence compare reads the lock's holders hash as a fenced register write does: the grant with that
 * token, this client's session, unexpired by Redis's {@code TIME}. A key with a time to live, or
 * attached to a session whose record has lapsed, is absent to every script from that millisecond
 * of Redis's clock on; each script first deletes a bounded number of such keys (a sorted set by
 * expiry each: keys, sessions), keeping the name index in step, and tells their watchers. Writes
 * publish on the key's watch channel ({@link RedisWatches}). A write sent again with the same id
 * (Lettuce re-sends after a reconnect) is answered as the first time, for two minutes.
 *
 * <p><b>Sessions.</b> The provider's locks have no session record in Redis (each grant lives by
 * its own renewals), so this class keeps one from the client's connect on: {@code
 * <prefix>sessions} holds this client's session id with an expiry of the session TTL, renewed every
 * third of it until the client closes (which deletes its keys in one step) or crashes (its keys
 * lapse with the record, by Redis's clock); the renewals run on the options' scheduler when one is
 * given. A {@code SessionAlive} compare reads this record. The keys of a session are deleted in the step its record lapses, not
 * in the step its grants lapse: both are kept alive by the same client at the same period, so they
 * go within one period of each other, but a store reader can see one without the other meanwhile.
 *
 * <p><b>What it does not guarantee.</b> What Redis's replication and persistence do not: a write
 * acknowledged by a primary that fails before a replica has it is lost (with {@code replicas=N}
 * every write waits for N replicas first, as grants do). Scripts name keys they do not declare, so
 * they run on one Redis, not a Redis Cluster. Positions of lists are "" (Redis keeps no order of
 * changes), and a watch of keys is the client's polling feed woken by pub/sub ({@link #watch}),
 * which cannot tell why a key went.
 */
final class RedisKeyStore extends StoreKeys {
    private static final Logger log = LoggerFactory.getLogger(RedisKeyStore.class);
    private static final String LIBRARY = "keys-lib";
    static final LuaScript TXN = LuaScript.load("keys-txn", LIBRARY, ScriptOutputType.MULTI);
    private static final LuaScript LIST = LuaScript.load("keys-list", LIBRARY, ScriptOutputType.MULTI);
    private static final LuaScript SESSION = LuaScript.load("keys-session", LIBRARY, ScriptOutputType.INTEGER);
    private static final String[] NO_KEYS = new String[0];
    private static final String UNUSED = ".";

    private final RedisBackend backend;
    private final Duration sessionTtl;
    private final Optional<ScheduledExecutorService> scheduler;
    /** The thread of this class's own, when the options give no scheduler. */
    private ScheduledExecutorService ownThread;

    private ScheduledFuture<?> heartbeat;
    private boolean closed;

    /** @param options the session TTL, and the scheduler of the renewals if one is given */
    RedisKeyStore(RedisBackend backend, ClientOptions options) {
        super(backend.sessionId());
        this.backend = backend;
        this.sessionTtl = options.sessionTtl();
        this.scheduler = options.scheduler();
    }

    @Override
    public Optional<KeyEntry> get(String key) {
        List<Object> r = txn("read key " + key, "", Txn.when().then(Txn.get(key)), false);
        long version = (Long) r.get(2);
        return version == 0 ? Optional.empty() : Optional.of(entry(key, version, (String) r.get(3), (String) r.get(4)));
    }

    /** A register's read: the key as {@link #get} sees it, without its owner. */
    Optional<io.holdfast.Versioned> read(String key) {
        return get(key).map(e -> new io.holdfast.Versioned(key, e.version(), e.value()));
    }

    /**
     * A write of a register, fenced by {@code lock}'s grant {@code token} of this session when
     * {@code lock} is not null.
     *
     * @throws ConflictException when the version differs or the fence no longer holds
     */
    io.holdfast.Versioned writeRegister(String key, long expectedVersion, byte[] value, String lock, long token) {
        Txn.Compare[] fence =
                lock == null ? new Txn.Compare[0] : new Txn.Compare[] {new Txn.Compare.Fence(lock, token)};
        Txn write = Txn.when(fence)
                .then(Txn.put(key, value, PutOptions.ifVersion(expectedVersion)))
                .otherwise(Txn.get(key));
        List<Object> r = write("write register " + key, write, false);
        long version = (Long) r.get(2);
        if ((Long) r.get(1) == 0) {
            throw new ConflictException("fencing token " + token + " is no longer a current grant of " + lock, version);
        }
        return new io.holdfast.Versioned(key, version, value);
    }

    /** One run of {@code keys-txn.lua}, for a single write as for a commit. */
    @Override
    protected TxnResult run(Txn t, boolean single) {
        boolean writes = t.then().stream().anyMatch(op -> !(op instanceof Txn.Op.Get))
                || t.otherwise().stream().anyMatch(op -> !(op instanceof Txn.Op.Get));
        String what = single ? "write key " + t.then().get(0).key() : "commit a transaction";
        List<Object> r = writes ? write(what, t, !single) : txn(what, "", t, !single);
        boolean then = (Long) r.get(1) == 1;
        List<Txn.Op> ops = then ? t.then() : t.otherwise();
        List<TxnResult.OpResult> results = new ArrayList<>(ops.size());
        for (int i = 0; i < ops.size(); i++) {
            long version = (Long) r.get(2 + 3 * i);
            String value = (String) r.get(3 + 3 * i);
            boolean get = ops.get(i) instanceof Txn.Op.Get;
            String counter = get ? "" : (String) r.get(4 + 3 * i);
            results.add(new TxnResult.OpResult(
                    version,
                    get && version > 0 ? Base64.getDecoder().decode(value) : null,
                    counter.isEmpty()
                            ? 0
                            : Counters.decode(
                                    ops.get(i).key(), Base64.getDecoder().decode(counter))));
        }
        return new TxnResult(then, results);
    }

    @Override
    public KeyListing list(String prefix, String after, int limit) {
        List<Object> r = backend.run(
                LIST, "list keys under " + prefix, NO_KEYS, backend.prefix(), prefix, after, Integer.toString(limit));
        List<KeyEntry> entries = new ArrayList<>();
        for (int i = 1; i + 3 < r.size(); i += 4) {
            String owner = (String) r.get(i + 3);
            entries.add(entry((String) r.get(i), (Long) r.get(i + 1), (String) r.get(i + 2), owner));
        }
        return new KeyListing(entries, (Long) r.get(0) == 1, "");
    }

    /**
     * Refused: Redis keeps no record of changes to follow, so the client's polling feed watches keys
     * (woken by the keys' pub/sub channels, {@link RedisWatches}).
     *
     * @throws UnsupportedFeatureException always
     */
    @Override
    public Watch watch(String prefix, WatchListener listener) {
        throw new UnsupportedFeatureException("redis: a watch of keys is the client's polling feed");
    }

    /** A transaction that writes: under a write id of its own, then waited for by replicas. */
    private List<Object> write(String what, Txn t, boolean labelled) {
        List<Object> r = txn(what, UUID.randomUUID().toString(), t, labelled);
        backend.awaitReplicas(what);
        return r;
    }

    /**
     * Runs keys-txn.lua; answers its reply when the branch's ops were applied, else throws its
     * refusal in the words of {@link KeyRules} and {@link Counters} (named by branch and op when
     * {@code labelled}).
     */
    private List<Object> txn(String what, String writeId, Txn t, boolean labelled) {
        List<String> args = new ArrayList<>();
        args.add(backend.prefix());
        args.add(backend.sessionId());
        args.add(Long.toString(Math.max(1, sessionTtl.toMillis())));
        args.add(writeId);
        args.add(Integer.toString(t.compares().size()));
        args.add(Integer.toString(t.then().size()));
        args.add(Integer.toString(t.otherwise().size()));
        args.add(Integer.toString(MAX_KEYS_PER_SESSION));
        t.compares().forEach(c -> compare(c, args));
        t.then().forEach(op -> op(op, args));
        t.otherwise().forEach(op -> op(op, args));
        List<Object> r = backend.run(TXN, what, NO_KEYS, args.toArray(String[]::new));
        long status = (Long) r.get(0);
        if (status == 1) {
            return r;
        }
        if (status == -3) {
            // The script answers how many keys the session would own: a single put's refusal
            // reads as the server's; a transaction's names its total.
            long would = (Long) r.get(1);
            if (!labelled) {
                KeyRules.attachOne(backend.sessionId(), would - 1, MAX_KEYS_PER_SESSION);
            }
            throw new QuotaExceededException("session " + backend.sessionId() + " would own " + would
                    + " keys after this transaction; the limit keys-per-session is " + MAX_KEYS_PER_SESSION);
        }
        boolean then = (Long) r.get(1) == 1;
        int index = ((Long) r.get(2)).intValue() - 1;
        String key = (String) r.get(3);
        RuntimeException refused = status == -2
                ? notCounted(key, (Txn.Op.Add) (then ? t.then() : t.otherwise()).get(index), (String) r.get(4))
                : ExpectedVersions.conflict(key, (Long) r.get(5), (Long) r.get(4));
        throw labelled ? KeyRules.named(refused, KeyRules.label(then, index)) : refused;
    }

    /** The refusal of an add the script did not count, given the value the key held (base64). */
    private static RuntimeException notCounted(String key, Txn.Op.Add add, String held) {
        String why = Counters.refusal(key, Base64.getDecoder().decode(held), add.delta());
        if (why == null) {
            throw new IllegalStateException("keys-txn.lua refused adding " + add.delta() + " to " + key
                    + ", which counts: the script and Counters disagree");
        }
        return new InvalidArgumentException(why);
    }

    private static void compare(Txn.Compare c, List<String> args) {
        if (c instanceof Txn.Compare.Version v) {
            add(args, "V", v.key(), v.order().name(), Long.toString(v.version()), UNUSED);
        } else if (c instanceof Txn.Compare.Value v) {
            add(args, "D", v.key(), base64(v.value()), UNUSED, UNUSED);
        } else if (c instanceof Txn.Compare.Absent a) {
            add(args, "A", a.key(), UNUSED, UNUSED, UNUSED);
        } else if (c instanceof Txn.Compare.Fence f) {
            add(args, "F", f.lock(), Long.toString(f.token()), UNUSED, UNUSED);
        } else if (c instanceof Txn.Compare.Holder h) {
            add(args, "H", h.lock(), h.sessionId(), UNUSED, UNUSED);
        } else {
            add(args, "S", ((Txn.Compare.SessionAlive) c).sessionId(), UNUSED, UNUSED, UNUSED);
        }
    }

    private static void op(Txn.Op op, List<String> args) {
        if (op instanceof Txn.Op.Put p) {
            String lifetime = switch (p.options().lifetime()) {
                        case ATTACH -> "1:";
                        case DETACH -> "0:";
                        case KEEP -> "k:";
                    }
                    + p.options().ttl().toMillis();
            add(args, "P", p.key(), base64(p.value()), Long.toString(p.options().expectedVersion()), lifetime);
        } else if (op instanceof Txn.Op.Delete d) {
            add(args, "X", d.key(), Long.toString(d.expectedVersion()), UNUSED, UNUSED);
        } else if (op instanceof Txn.Op.Add a) {
            add(args, "C", a.key(), base64(Counters.encode(a.delta())), UNUSED, UNUSED);
        } else {
            add(args, "G", op.key(), UNUSED, UNUSED, UNUSED);
        }
    }

    private static void add(List<String> args, String kind, String key, String a, String b, String c) {
        args.add(kind);
        args.add(key);
        args.add(a);
        args.add(b);
        args.add(c);
    }

    private static String base64(byte[] value) {
        return Base64.getEncoder().encodeToString(value);
    }

    private static KeyEntry entry(String key, long version, String value, String owner) {
        return new KeyEntry(
                key, version, Base64.getDecoder().decode(value), owner == null || owner.isEmpty() ? null : owner);
    }

    // ---- the session's record

    /**
     * Begins the session's record and keeps it alive every third of its TTL until {@link #close}.
     * A failure to reach Redis now is logged: the renewals begin it.
     */
    synchronized void start() {
        if (heartbeat != null || closed) {
            return;
        }
        ScheduledExecutorService on = scheduler.orElseGet(() -> {
            ownThread = Executors.newSingleThreadScheduledExecutor(
                    io.holdfast.internal.DaemonThreads.named("holdfast-redis-session"));
            return ownThread;
        });
        long every = Math.max(1, sessionTtl.toMillis() / 3);
        heartbeat = on.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.MILLISECONDS);
        try {
            session("renew", "begin the session's record");
        } catch (RuntimeException e) {
            log.debug("redis: could not begin the session's record; its renewals will", e);
        }
    }

    private void renew() {
        try {
            long alive = session("renew", "renew the session's record");
            if (alive == 0) {
                log.warn(
                        "redis: session {} had lapsed before its renewal; the keys attached to it are gone",
                        backend.sessionId());
            }
        } catch (RuntimeException e) {
            log.debug("redis: could not renew the session's record; trying again", e);
        }
    }

    private long session(String action, String what) {
        return backend.<Long>run(
                SESSION,
                what,
                NO_KEYS,
                backend.prefix(),
                backend.sessionId(),
                action,
                Long.toString(Math.max(1, sessionTtl.toMillis())));
    }

    /**
     * Stops the renewals; when {@code end}, deletes the session's keys in one step (a failure is
     * logged: they lapse with the record).
     */
    void close(boolean end) {
        ScheduledFuture<?> running;
        ScheduledExecutorService own;
        synchronized (this) {
            closed = true;
            running = heartbeat;
            own = ownThread;
            heartbeat = null;
            ownThread = null;
        }
        if (running == null) {
            return;
        }
        running.cancel(false);
        if (own != null) {
            own.shutdownNow();
        }
        if (end) {
            try {
                session("end", "end the session and its keys");
            } catch (RuntimeException e) {
                log.debug("redis: could not delete the session's keys; they lapse with its record", e);
            }
        }
    }
}
