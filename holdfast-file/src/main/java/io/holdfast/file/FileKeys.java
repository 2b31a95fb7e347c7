package io.holdfast.file;

import io.holdfast.Counters;
import io.holdfast.KeyEntry;
import io.holdfast.KeyListing;
import io.holdfast.Keys;
import io.holdfast.PutOptions;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.Watch;
import io.holdfast.WatchListener;
import io.holdfast.store.Deadline;
import io.holdfast.store.KeyRules;
import io.holdfast.store.StoreKeys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Keys in the store directory ({@link KeyFiles}), for one client. Arguments are trusted: the
 * client checks them first ({@code CheckedKeys}).
 *
 * <p><b>What it guarantees.</b> Every call, reads and lists included, runs on the directory's I/O
 * thread under the counter file's lock, the mutex of every grant and register write of every
 * process: it first applies a transaction journal a crash left ({@link KeyFiles}), reads what it
 * needs, and writes what changed (one key: its file replaced by a rename; several: through the
 * journal). So every call is one step in one order across the processes, and a transaction is in
 * all of its keys or none, across a crash too; a single write is a transaction of one op ({@link
 * StoreKeys}). A key past its time to live is absent to every
 * call, and the call that finds it deletes its file; expiry is the host's wall clock ({@code
 * clock}), the only clock the processes share. A write wakes this JVM's key watches ({@link
 * #SIGNAL}).
 *
 * <p>A key attached to the session records it as its owner; the session is this client's, alive
 * while its session file is locked ({@link SessionFiles}): from its opening until it closes or its
 * process dies. A key whose owner has ended is absent to every call from that moment (each call
 * asks the session file), and the call that finds it deletes its file.
 *
 * <p><b>What it does not.</b> Compare who holds a lock in a transaction (another process's grants
 * are not known by session here; a {@link Txn.Compare.Fence} of this client's own grant is
 * answered), end a session that is alive but stuck (a stopped process keeps its keys, as it keeps
 * its locks), or keep positions: listings answer "". A listing reads every key file whose name may
 * match the prefix, under the lock: its cost grows with the keys stored under the prefix.
 */
final class FileKeys extends StoreKeys {
    /** What key writes are signalled as ({@link Signals}): no lock name has a control character. */
    static final String SIGNAL = "\u0002keys";

    /** A call's body, on the I/O thread under the lock. */
    private interface Body<T> {
        T run(Step step) throws IOException;
    }

    private final Directory directory;
    private final KeyFiles files;
    private final Clock clock;
    private final Supplier<Deadline> deadline;
    private final Runnable checkAlive;
    /** This client's keys attached to its session, as far as it knows (I/O thread only). */
    private int attached;

    FileKeys(
            Directory directory,
            boolean fsync,
            Clock clock,
            String session,
            Supplier<Deadline> deadline,
            Runnable checkAlive) {
        super(session);
        this.directory = directory;
        this.files = new KeyFiles(directory.root(), fsync);
        this.clock = clock;
        this.deadline = deadline;
        this.checkAlive = checkAlive;
    }

    @Override
    public Optional<KeyEntry> get(String key) {
        return locked("reading key " + key, step -> step.current(key)).map(KeyFiles.Entry::toKeyEntry);
    }

    @Override
    public KeyListing list(String prefix, String after, int limit) {
        byte[] wanted = prefix.getBytes(StandardCharsets.UTF_8);
        List<KeyFiles.Entry> found = locked("listing keys " + prefix + "*", step -> {
            List<KeyFiles.Entry> matching = new ArrayList<>();
            for (String name : files.names()) {
                if (KeyFiles.mayStartWith(name, wanted)) {
                    step.read(name).ifPresent(matching::add);
                }
            }
            return matching;
        });
        return KeyFiles.page(found, wanted, after, limit);
    }

    /**
     * Refused: the file provider keeps no record of changes, so its client polls the keys instead
     * ({@code StoreLockClient.watch}), woken by writes in this JVM ({@link #SIGNAL}).
     */
    @Override
    public Watch watch(String prefix, WatchListener listener) {
        throw new io.holdfast.UnsupportedFeatureException(
                "the file provider keeps no record of changes: its client polls");
    }

    /** One step under the lock ({@link #locked}), for a single write as for a commit. */
    @Override
    protected TxnResult run(Txn txn, boolean single) {
        String what = single ? "writing key " + txn.then().get(0).key() : "committing a transaction";
        return locked(what, step -> {
            boolean holds = true;
            for (Txn.Compare compare : txn.compares()) {
                holds &= step.holds(compare);
            }
            return KeyRules.branch(txn, holds, !single, step::apply);
        });
    }

    /**
     * Runs {@code body} as one step: on the I/O thread, under the counter file's lock, after any
     * journal a crash left; writes what it changed if it returns.
     */
    private <T> T locked(String what, Body<T> body) {
        checkAlive.run();
        Deadline by = deadline.get();
        Step step = new Step();
        T result = directory.call(
                what + " in " + directory.root(),
                by,
                () -> directory.exclusively(by, () -> {
                    Optional<Map<String, KeyFiles.Entry>> left = files.readJournal();
                    if (left.isPresent()) {
                        applyAll(left.get());
                        files.deleteJournal();
                    }
                    T r = body.run(step);
                    step.write();
                    return r;
                }),
                orphan -> {});
        if (!step.changes.isEmpty()) {
            directory.signals().signal(SIGNAL);
        }
        return result;
    }

    private void applyAll(Map<String, KeyFiles.Entry> changes) throws IOException {
        for (Map.Entry<String, KeyFiles.Entry> change : changes.entrySet()) {
            files.write(change.getKey(), change.getValue());
        }
    }

    /** The reads and changes of one call; the changes are written together at its end. */
    private final class Step {
        /** File name to its new entry; null for a deletion. */
        final Map<String, KeyFiles.Entry> changes = new LinkedHashMap<>();
        /** Whether each session seen so far is alive, read once per step. */
        private final Map<String, Boolean> sessions = new HashMap<>();

        /** The key as this step sees it: its own changes first, then the file; expired is absent. */
        Optional<KeyFiles.Entry> current(String key) throws IOException {
            return read(KeyFiles.fileName(key));
        }

        Optional<KeyFiles.Entry> read(String name) throws IOException {
            if (changes.containsKey(name)) {
                return Optional.ofNullable(changes.get(name));
            }
            Optional<KeyFiles.Entry> found = files.read(name);
            if (found.isPresent() && gone(found.get())) {
                changes.put(name, null); // expired, or its session ended: deleted by this step
                return Optional.empty();
            }
            return found;
        }

        private boolean gone(KeyFiles.Entry e) throws IOException {
            if (e.expiresAt() != 0 && e.expiresAt() <= clock.millis()) {
                return true;
            }
            return e.owner() != null && !alive(e.owner());
        }

        boolean alive(String owner) throws IOException {
            Boolean known = sessions.get(owner);
            if (known == null) {
                known = directory.sessions().alive(owner);
                sessions.put(owner, known);
            }
            return known;
        }

        /**
         * Attaches a key to this client's session (whose file the client opened): refuses the key
         * past {@link Keys#MAX_KEYS_PER_SESSION}, counted again from the files when this client's
         * own count reaches it (another process may have deleted some).
         */
        private void attach(String key) throws IOException {
            if (current(key).map(e -> sessionId().equals(e.owner())).orElse(false)) {
                return;
            }
            if (attached >= MAX_KEYS_PER_SESSION) {
                attached = 0;
                for (String name : files.names()) {
                    if (read(name).map(e -> sessionId().equals(e.owner())).orElse(false)) {
                        attached++;
                    }
                }
                KeyRules.attachOne(sessionId(), attached, MAX_KEYS_PER_SESSION);
            }
            checkAlive.run(); // on the I/O thread: no key attached to a session that ended meanwhile
            attached++;
        }

        long version(String key) throws IOException {
            return current(key).map(KeyFiles.Entry::version).orElse(0L);
        }

        long put(String key, byte[] value, PutOptions options) throws IOException {
            long found = version(key);
            KeyRules.expect(key, options.expectedVersion(), found);
            if (options.lifetime() == PutOptions.Lifetime.KEEP) { // its session, its expiry, as an add keeps them
                Optional<KeyFiles.Entry> was = current(key);
                return set(new KeyFiles.Entry(
                                key,
                                found + 1,
                                value,
                                was.map(KeyFiles.Entry::expiresAt).orElse(0L),
                                was.map(KeyFiles.Entry::owner).orElse(null)))
                        .version();
            }
            long expiresAt =
                    options.ttl().isZero() ? 0 : clock.millis() + options.ttl().toMillis();
            String owner = null;
            if (options.attached()) {
                attach(key);
                owner = sessionId();
            }
            return set(new KeyFiles.Entry(key, found + 1, value, expiresAt, owner))
                    .version();
        }

        long delete(String key, long expected) throws IOException {
            long found = version(key);
            KeyRules.expect(key, expected, found);
            if (found != 0) {
                changes.put(KeyFiles.fileName(key), null);
            }
            return found;
        }

        TxnResult.OpResult add(String key, long delta) throws IOException {
            Optional<KeyFiles.Entry> found = current(key);
            long sum = Counters.add(key, found.map(KeyFiles.Entry::value).orElse(null), delta);
            long version = found.map(KeyFiles.Entry::version).orElse(0L) + 1;
            long expiresAt = found.map(KeyFiles.Entry::expiresAt).orElse(0L);
            String owner = found.map(KeyFiles.Entry::owner).orElse(null);
            set(new KeyFiles.Entry(key, version, Counters.encode(sum), expiresAt, owner));
            return new TxnResult.OpResult(version, null, sum);
        }

        KeyFiles.Entry set(KeyFiles.Entry entry) {
            changes.put(KeyFiles.fileName(entry.key()), entry);
            return entry;
        }

        boolean holds(Txn.Compare compare) throws IOException {
            String key = KeyRules.keyOf(compare);
            if (key != null) {
                Optional<KeyFiles.Entry> e = current(key);
                return KeyRules.holds(
                        compare,
                        e.map(KeyFiles.Entry::version).orElse(0L),
                        e.map(KeyFiles.Entry::value).orElse(null));
            } else if (compare instanceof Txn.Compare.Fence f) {
                return directory.holds(f.lock(), f.token(), sessionId());
            } else if (compare instanceof Txn.Compare.SessionAlive a) {
                return alive(a.sessionId());
            }
            throw new UnsupportedFeatureException("file: a transaction cannot compare " + compare
                    + ": another process's grants are not known by session here (compare a fence of this"
                    + " client's own lease instead)");
        }

        TxnResult.OpResult apply(Txn.Op op) throws IOException {
            if (op instanceof Txn.Op.Put p) {
                return new TxnResult.OpResult(put(p.key(), p.value(), p.options()), null, 0);
            } else if (op instanceof Txn.Op.Delete d) {
                return new TxnResult.OpResult(delete(d.key(), d.expectedVersion()), null, 0);
            } else if (op instanceof Txn.Op.Add a) {
                return add(a.key(), a.delta());
            }
            Optional<KeyFiles.Entry> e = current(op.key());
            return new TxnResult.OpResult(
                    e.map(KeyFiles.Entry::version).orElse(0L),
                    e.map(KeyFiles.Entry::value).orElse(null),
                    0);
        }

        /** Writes the changes: one file by a rename, several through the journal. */
        void write() throws IOException {
            if (changes.size() == 1) {
                applyAll(changes);
            } else if (!changes.isEmpty()) {
                files.writeJournal(changes);
                applyAll(changes);
                files.deleteJournal();
            }
        }
    }
}
