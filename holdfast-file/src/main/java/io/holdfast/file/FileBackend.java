package io.holdfast.file;

import io.holdfast.Admin;
import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.LockInfo;
import io.holdfast.RetryPolicy;
import io.holdfast.UnavailableException;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.internal.Backoffs;
import io.holdfast.store.Deadline;
import io.holdfast.store.Grant;
import io.holdfast.store.LockRequest;
import io.holdfast.store.LossSink;
import io.holdfast.store.StoreBackend;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One client's view of a store directory: the {@link StoreBackend} primitives over {@link
 * Directory}. Holds no lock state of its own; its session id marks its grants in the directory's
 * in-JVM table.
 *
 * <p>No session, no expiry: a grant lasts until it is released or the process dies (the OS then
 * drops its file locks), so nothing is renewed ({@link #renewEvery} is null) and lease timeouts
 * are not offered.
 */
final class FileBackend implements StoreBackend {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Set<Capability> CAPABILITIES = EnumSet.of(
            Capability.READ_WRITE,
            Capability.CHECK_FENCE,
            Capability.REGISTERS,
            Capability.FENCED_REGISTERS,
            Capability.KEYS,
            Capability.SESSION_KEYS,
            Capability.KEY_TTL,
            Capability.TRANSACTIONS);

    private final Directory directory;
    private final FileStoreUri uri;
    private final ClientOptions options;
    private final String sessionId;
    private final AtomicBoolean abandoned = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile LossSink sink;
    private final FileKeys keys;
    /** Per watching thread (one per watch): the signal count of each register when it last woke. */
    private final ThreadLocal<Map<String, Long>> seen = ThreadLocal.withInitial(HashMap::new);

    FileBackend(FileStoreUri uri, ClientOptions options) {
        this.uri = uri;
        this.options = options;
        this.directory = Directory.open(uri.directory(), uri.create());
        byte[] id = new byte[16];
        RANDOM.nextBytes(id);
        this.sessionId =
                "file-" + ProcessHandle.current().pid() + "-" + HexFormat.of().formatHex(id);
        // Keys expire by the host's wall clock: the one clock every process of the directory reads.
        this.keys = new FileKeys(
                directory,
                uri.fsync(),
                java.time.Clock.systemUTC(),
                sessionId,
                this::requestDeadline,
                this::checkAlive);
        try {
            Deadline by = requestDeadline();
            directory.call(
                    "opening session " + sessionId + " in " + directory.root(),
                    by,
                    () -> directory.exclusively(by, () -> {
                        directory.sessions().open(sessionId);
                        return null;
                    }),
                    null);
        } catch (RuntimeException e) {
            directory.closeReference();
            throw e;
        }
    }

    @Override
    public String provider() {
        return "file";
    }

    @Override
    public Set<Capability> capabilities() {
        return CAPABILITIES;
    }

    @Override
    public String sessionId() {
        return sessionId;
    }

    @Override
    public void start(LossSink sink) {
        this.sink = sink;
    }

    @Override
    public io.holdfast.store.StoreRegisters registers() {
        return new FileRegisters(directory, uri.fsync(), this::requestDeadline);
    }

    @Override
    public FileKeys keys() {
        return keys;
    }

    private Deadline requestDeadline() {
        return Deadline.after(options.ticker(), options.requestTimeout());
    }

    private void checkAlive() {
        if (abandoned.get()) {
            throw new UnavailableException("file: this client has crashed (test); it no longer touches the store");
        }
        if (closed.get()) {
            throw new UnavailableException("file: this client is closed");
        }
    }

    @Override
    public Optional<Grant> tryAcquire(LockRequest request) {
        checkAlive();
        Deadline deadline = requestDeadline();
        return directory.call(
                "acquiring " + request.describe() + " in " + directory.root(),
                deadline,
                () -> {
                    checkAlive(); // on the I/O thread: no grant for a client that crashed meanwhile
                    return directory.grant(request, sessionId, options.clientName(), uri.fsync(), deadline);
                },
                orphan -> orphan.ifPresent(directory::release));
    }

    /**
     * Polls {@link #tryAcquire} with a pause growing from 2 ms to the URI's {@code maxPoll} ({@link
     * Backoffs#lockPoll}); a release in this JVM ends the pause at once (waiters in other
     * processes only poll).
     */
    @Override
    public Optional<Grant> acquire(LockRequest request, Deadline deadline) throws InterruptedException {
        RetryPolicy pauses = Backoffs.lockPoll(uri.maxPoll());
        int polls = 0;
        Signals signals = directory.signals();
        while (true) {
            long seen = signals.version(request.name());
            Optional<Grant> grant = tryAcquire(request);
            if (grant.isPresent()) {
                return grant;
            }
            long remaining = deadline.remainingNanos();
            if (remaining <= 0) {
                return Optional.empty();
            }
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted while waiting for " + request.describe());
            }
            signals.await(
                    request.name(),
                    seen,
                    Math.min(pauses.delayBefore(++polls, () -> 0.0).toNanos(), remaining));
        }
    }

    /**
     * A register watch sleeps until a write of the register in this JVM ({@link Signals}) or the
     * pause ends, a key watch until a write of any key in this JVM: writes by other processes are
     * seen by polling. Locks cannot be watched here (no {@link Capability#INSPECT}), so other
     * targets never come; they would sleep the pause.
     */
    @Override
    public void awaitWatched(io.holdfast.WatchTarget target, long maxNanos) throws InterruptedException {
        String key;
        if (target.kind() == io.holdfast.WatchTarget.Kind.REGISTER) {
            key = Signals.register(target.name());
        } else if (target.kind() == io.holdfast.WatchTarget.Kind.KEYS) {
            key = FileKeys.SIGNAL;
        } else {
            StoreBackend.super.awaitWatched(target, maxNanos);
            return;
        }
        Signals signals = directory.signals();
        Map<String, Long> mine = seen.get();
        Long last = mine.get(key);
        long now = signals.version(key);
        if (last != null && last == now) {
            // Nothing since this thread's previous sleep ended: a write while it read would show.
            signals.await(key, now, maxNanos);
        }
        mine.put(key, signals.version(key));
    }

    @Override
    public Duration maxPollInterval() {
        return uri.maxPoll();
    }

    /** Nothing expires, so nothing is renewed. */
    @Override
    public Duration renewEvery(Grant grant) {
        return null;
    }

    /** Never called by the client (see {@link #renewEvery}); answers whether the grant is still held here. */
    @Override
    public boolean renew(Grant grant) {
        checkAlive();
        return directory.call(
                "checking " + grant.request().describe(), requestDeadline(), () -> directory.holds(grant), null);
    }

    /**
     * Releases through the JVM's open channel on the lock file, so it works even while the
     * directory's path cannot be reached.
     */
    @Override
    public boolean release(Grant grant) {
        checkAlive();
        return directory.call(
                "releasing " + grant.request().describe(), requestDeadline(), () -> directory.release(grant), null);
    }

    @Override
    public Admin admin() {
        return new FenceChecks();
    }

    /**
     * A simulated process death: this client's file locks, its session file's among them, are
     * dropped as the OS drops a dead process's (at once, with nothing written), its leases are
     * told they are lost, and nothing more reaches the directory.
     */
    @Override
    public void abandon() {
        if (!abandoned.compareAndSet(false, true)) {
            return;
        }
        dropAll(false);
        LossSink s = sink;
        if (s != null) {
            s.allLost("its process died (simulated crash), so the OS released its file locks");
        }
    }

    /**
     * Frees this client's share of the directory and ends its session: its session file goes, and
     * with it every key attached to it. Anything it still holds (the client releases
     * first; a release that failed, or a grant that raced a crash, leaves some) is dropped the way
     * process exit would drop it: OS locks released, nothing written.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            dropAll(true);
        } finally {
            directory.closeReference();
        }
    }

    /** Ends the session (its file deleted with {@code deleteSession}, as a close does) and drops its grants. */
    private List<Grant> dropAll(boolean deleteSession) {
        try {
            return directory.call(
                    "dropping the locks of " + sessionId,
                    requestDeadline(),
                    () -> {
                        directory.sessions().end(sessionId, deleteSession);
                        directory.signals().signal(FileKeys.SIGNAL); // its keys are gone: watches here look
                        return directory.drop(sessionId);
                    },
                    null);
        } catch (UnavailableException e) {
            return List.of();
        }
    }

    @Override
    public String toString() {
        return "FileBackend[" + directory.root() + ", " + sessionId + "]";
    }

    /** {@link Capability#CHECK_FENCE} only; the client refuses the other calls before they get here. */
    private final class FenceChecks implements Admin {
        @Override
        public List<LockInfo> locks(String prefix, int limit) {
            throw new UnsupportedFeatureException("the file provider does not support listing locks");
        }

        @Override
        public Optional<LockInfo> describe(String name) {
            throw new UnsupportedFeatureException("the file provider does not support describing locks");
        }

        @Override
        public int revoke(String name) {
            throw new UnsupportedFeatureException("the file provider does not support revoking locks");
        }

        @Override
        public boolean isCurrentHolder(String name, long fencingToken) {
            checkAlive();
            Deadline deadline = requestDeadline();
            return directory.call(
                    "checking token " + fencingToken + " of " + name,
                    deadline,
                    () -> directory.isCurrentHolder(name, fencingToken, deadline),
                    null);
        }
    }
}
