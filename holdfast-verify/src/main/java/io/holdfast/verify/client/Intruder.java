package io.holdfast.verify.client;

import io.holdfast.HolderInfo;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.LockInfo;
import io.holdfast.client.HoldfastProvider;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.model.Command;
import io.holdfast.model.LockService;
import io.holdfast.model.Reply;
import io.holdfast.model.SessionIds;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Result;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A process that tries to release leases it does not hold (process id {@code x1}): it reads a
 * holder of a workload name through {@link io.holdfast.Admin#describe} and asks the service to
 * release that holder's grant (name and token) in the intruder's own session, recording a
 * FOREIGN_RELEASE (phase {@value Workload#PHASE}). A correct service refuses every such request
 * (FAIL NOT_OWNER); an OK is a violation for the checkers.
 *
 * <p><b>In the final phase</b> the harness also has it attack a lock it knows a client holds ({@link
 * #attempt(String, String)} with phase {@value ClientMain#FINAL}): its random attempts in the
 * workload find a holder only while one holds, and on a loaded machine a describe saw one in 1 to 3
 * of 34 to 41 tries (2026-11-30, load 17-24: holds last 1 to 30 ms, a describe 200-250 ms), so that
 * a service that obeyed them went unseen in runs of 5 and 10 s. The final attack makes every run
 * test the ownership check at least once.
 *
 * <p><b>How it reaches the service.</b> The public API can only release leases the caller holds,
 * so the intruder speaks the client protocol itself through the {@link LockService} that {@code
 * holdfast-client} uses underneath ({@link ClusterTransport} for {@code holdfast://}, following the
 * leader like the real client; {@link LocalTransport} for {@code mem:}). The protocol's Release
 * carries an invocation (session id, seq), so the intruder opens a session of its own ({@link
 * Command.OpenSession} with a random id, TTL as given), keeps it alive with heartbeats every third
 * of the TTL, and opens a new one when the service says it expired. It never sends the victim's
 * session id: the test is whether the service checks that the releasing session owns the grant.
 *
 * <p>Results: reply Ok is {@code Released}; a refusal is {@code Refused} with its error code ({@code
 * NOT_OWNER} normally, {@code SESSION_EXPIRED} when the intruder's own session had expired: refused
 * as well); a failure to get an answer, or an unexpected reply, is {@code Unknown}. A describe that fails or finds no holder is
 * not recorded.
 */
public final class Intruder {
    /** The names it attacks: every lock and semaphore of the workload. */
    public static final List<String> TARGETS = List.of("lock-0", "lock-1", "lock-2", "rw-0", "sem-0");

    private static final Logger LOG = LoggerFactory.getLogger(Intruder.class);

    private final Recorder rec;
    private final Supplier<LockClient> client;
    private final LockService service;
    private final Duration ttl;
    private final Duration bound;
    private final Random random;
    private final AtomicLong protocolSeq = new AtomicLong();
    private final AtomicLong attempts = new AtomicLong();
    private final ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "intruder-heartbeats");
        t.setDaemon(true);
        return t;
    });
    private volatile String sessionId;
    private volatile boolean stopping;
    private Thread thread;

    /**
     * @param rec where its events go
     * @param client a client of the same service, for {@code describe}
     * @param service the protocol connection its own session and releases go through (closed by
     *     {@link #close()})
     * @param ttl its session's TTL
     * @param seed the seed of its choices
     * @param bound how long one call may take before it is given up (UNKNOWN NO_ANSWER)
     */
    public Intruder(
            Recorder rec, Supplier<LockClient> client, LockService service, Duration ttl, long seed, Duration bound) {
        this.rec = rec;
        this.client = client;
        this.service = service;
        this.ttl = ttl;
        this.bound = bound;
        this.random = new Random(seed);
    }

    /**
     * The protocol connection for a client URI: {@code holdfast://…} over gRPC, {@code mem:NAME}
     * in this JVM.
     *
     * @throws InvalidArgumentException for any other URI
     */
    public static LockService serviceFor(String uri, Duration requestTimeout) {
        if (uri.startsWith("holdfast://")) {
            return new ClusterTransport(HoldfastProvider.members(uri), requestTimeout);
        }
        if (uri.startsWith("mem:")) {
            String name = uri.substring("mem:".length());
            if (name.startsWith("//")) {
                name = name.substring(2);
            }
            return new LocalTransport(LocalNode.named(name.isEmpty() ? "default" : name));
        }
        throw new InvalidArgumentException("the intruder speaks to holdfast:// and mem: services only, not " + uri);
    }

    /**
     * Opens its session (and so its connection) and reads one lock's holders, without recording
     * anything: done before the run's workload starts, so that its first foreign release is not
     * held up by a connection, a session and cold code (on a busy machine the first one came 6 s
     * after {@code start}, after the scenario's 5 s workload). Failures are left for the attempts
     * to meet again.
     */
    public void warmUp() {
        session();
        try {
            client.get().admin().describe(TARGETS.get(0));
        } catch (RuntimeException e) {
            LOG.debug("describe {} failed", TARGETS.get(0), e);
        }
    }

    /** Whether {@link #start()} was called. */
    public synchronized boolean started() {
        return thread != null;
    }

    /** Runs {@link #run()} on a daemon thread. */
    public synchronized void start() {
        if (thread != null) {
            throw new IllegalStateException("the intruder was started already");
        }
        thread = new Thread(this::run, "intruder-" + rec.process());
        thread.setDaemon(true);
        thread.start();
    }

    /** Lets the current attempt finish and stops the loop. Idempotent. */
    public void stop() throws InterruptedException {
        stopping = true;
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            t.join(2 * bound.toMillis() + 1_000);
            if (t.isAlive()) {
                t.interrupt();
                t.join();
            }
        }
    }

    /** Attempts until stopped, 20 to 100 ms apart. */
    public void run() {
        while (!stopping) {
            try {
                attempt(TARGETS.get(random.nextInt(TARGETS.size())));
            } catch (RuntimeException | Error e) {
                LOG.warn("intruder attempt failed", e);
            }
            try {
                TimeUnit.MILLISECONDS.sleep(20 + random.nextInt(81));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Foreign releases recorded so far. */
    public long attempts() {
        return attempts.get();
    }

    /**
     * One attempt on {@code name}: describe it, pick a holder, send the release.
     *
     * @return the recorded result, or empty if nothing was sent (no holder, describe failed,
     *     no session)
     */
    public Optional<Result> attempt(String name) {
        return attempt(name, Workload.PHASE);
    }

    /**
     * One attempt on {@code name}, recorded with {@code phase}.
     *
     * @return the recorded result, or empty if nothing was sent (no holder, describe failed, no
     *     session)
     */
    public Optional<Result> attempt(String name, String phase) {
        List<HolderInfo> holders;
        try {
            holders = client.get().admin().describe(name).map(LockInfo::holders).orElse(List.of());
        } catch (RuntimeException e) {
            LOG.debug("describe {} failed", name, e);
            return Optional.empty();
        }
        if (holders.isEmpty()) {
            return Optional.empty();
        }
        HolderInfo victim = holders.get(random.nextInt(holders.size()));
        String sid = session();
        if (sid == null) {
            return Optional.empty();
        }
        return Optional.of(release(sid, name, victim.fencingToken(), phase));
    }

    /** Sends a release of (name, token) in session {@code sid} and records it (workload phase). */
    Result release(String sid, String name, long token) {
        return release(sid, name, token, Workload.PHASE);
    }

    private Result release(String sid, String name, long token, String phase) {
        attempts.incrementAndGet();
        Op invoke = rec.record(phase, new Call.ForeignRelease(name, token));
        Reply reply;
        try {
            long seq = protocolSeq.incrementAndGet();
            reply = service.submit(new Command.Release(new Command.Invocation(sid, seq, seq), name, token))
                    .get(bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return rec.complete(invoke, Ops.INTERRUPTED);
        } catch (Exception e) {
            return rec.complete(invoke, new Result.Unknown(Outcomes.errorName(e)));
        }
        if (reply instanceof Reply.Ok) {
            return rec.complete(invoke, new Result.Released());
        }
        if (reply instanceof Reply.Failed f) {
            if (f.code() == io.holdfast.ErrorCode.SESSION_EXPIRED) {
                sessionId = null;
            }
            return rec.complete(invoke, new Result.Refused(f.code().name()));
        }
        return rec.complete(invoke, new Result.Unknown("UNEXPECTED_REPLY " + reply));
    }

    /** The intruder's session, opened if needed; null if it cannot be opened now. */
    private synchronized String session() {
        if (sessionId != null) {
            return sessionId;
        }
        String id = SessionIds.newId();
        try {
            Reply r = service.submit(new Command.OpenSession(id, rec.process() + "-intruder", ttl.toMillis(), 0))
                    .get(bound.toMillis(), TimeUnit.MILLISECONDS);
            if (!(r instanceof Reply.Ok)) {
                LOG.warn("the service refused the intruder's session: {}", r);
                return null;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Exception e) {
            LOG.debug("opening the intruder's session failed", e);
            return null;
        }
        sessionId = id;
        long every = Math.max(100, ttl.toMillis() / 3);
        heartbeats.scheduleWithFixedDelay(() -> heartbeat(id), every, every, TimeUnit.MILLISECONDS);
        LOG.info("intruder session {}", id);
        return id;
    }

    private void heartbeat(String id) {
        if (!id.equals(sessionId)) {
            throw new IllegalStateException("session replaced"); // ends this schedule
        }
        service.keepAlive(id).whenComplete((r, e) -> {
            if (r instanceof Reply.Failed f && f.code() == io.holdfast.ErrorCode.SESSION_EXPIRED) {
                synchronized (this) {
                    if (id.equals(sessionId)) {
                        sessionId = null;
                    }
                }
            }
        });
    }

    /** Closes its session (best effort) and its connection. */
    public void close() {
        String sid = sessionId;
        sessionId = null;
        heartbeats.shutdownNow();
        if (sid != null) {
            try {
                long seq = protocolSeq.incrementAndGet();
                service.submit(new Command.CloseSession(new Command.Invocation(sid, seq, seq)))
                        .get(bound.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                LOG.debug("closing the intruder's session failed", e);
            }
        }
        service.close();
    }
}
