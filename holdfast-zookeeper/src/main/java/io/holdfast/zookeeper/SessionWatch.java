package io.holdfast.zookeeper;

import io.holdfast.Ticker;
import io.holdfast.internal.DaemonThreads;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.ZooKeeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps {@link SessionContact} fed and acts on it: a probe (an {@code exists} of the root, on the
 * session's own ZooKeeper handle) every quarter of the session timeout, and a check, several
 * times per margin, that gives up every grant of the client once the session's contact has lapsed.
 * Both run on a thread of their own, so a blocked ZooKeeper call elsewhere never delays the check.
 *
 * <p><b>What it guarantees.</b> Every grant is reported lost at most a quarter of the margin (and
 * at most 250 ms) after {@link SessionContact#validUntilNanos()} has passed on the client's clock,
 * so before the server can expire the session, whatever ZooKeeper's own client believes about its
 * connection. A new session (after an expiry) is probed at once.
 *
 * <p><b>What it does not.</b> It does not keep the session alive (ZooKeeper's client pings) and
 * does not delete anything: {@link Holdings} does, when told.
 *
 * <p><b>A failure story.</b> The process is paused (a long GC) past the margin: when it resumes, the
 * check is overdue and runs at once, reporting the loss; until it has run, a lease's {@code
 * isValid()} still reads its state, which is why {@link ZooKeeperBackend#validUntilNanos()} is the
 * moment to read where the engine can.
 */
final class SessionWatch implements ConnectionStateListener {
    private static final Logger log = LoggerFactory.getLogger(SessionWatch.class);
    private static final int MAX_PROBES_IN_FLIGHT = 3;

    private final CuratorFramework curator;
    private final Ticker ticker;
    private final SessionContact contact;
    private final Consumer<String> allLost;
    private final BooleanSupplier abandoned;
    private final ScheduledExecutorService thread;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile long lastProbeNanos;

    /**
     * @param allLost told, with the reason, when the contact lapses
     * @param abandoned once true, nothing is sent any more (a simulated crash); the check goes on
     */
    SessionWatch(
            CuratorFramework curator,
            Ticker ticker,
            SessionContact contact,
            Consumer<String> allLost,
            BooleanSupplier abandoned,
            String threadName) {
        this.curator = curator;
        this.ticker = ticker;
        this.contact = contact;
        this.allLost = allLost;
        this.abandoned = abandoned;
        this.thread = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named(threadName));
    }

    /** Starts probing and checking, for a session of (about) this timeout. */
    void start(long timeoutMillis) {
        long checkMillis = Math.max(
                10,
                Math.min(
                        250,
                        TimeUnit.NANOSECONDS.toMillis(SessionContact.marginNanos(timeoutMillis * 1_000_000L)) / 4));
        lastProbeNanos = ticker.nanos();
        try {
            thread.scheduleWithFixedDelay(this::tick, checkMillis, checkMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closed) {
            // closed before it started
        }
    }

    /** Stops probing and checking. */
    void close() {
        thread.shutdownNow();
    }

    @Override
    public void stateChanged(CuratorFramework client, ConnectionState state) {
        if (state != ConnectionState.RECONNECTED && state != ConnectionState.CONNECTED) {
            return;
        }
        ZooKeeper handle = Holdings.handle(curator);
        if (handle == null) {
            return;
        }
        // A new session: nothing is known of when the server made it, so it vouches for nothing
        // until its first probe is answered.
        contact.beginIfNew(handle.getSessionId(), handle.getSessionTimeout());
        try {
            thread.execute(this::probe);
        } catch (RejectedExecutionException closed) {
            // closing
        }
    }

    private void tick() {
        try {
            if (contact.lapsed()) {
                long timeout = contact.timeoutMillis();
                allLost.accept("ZooKeeper answered none of this client's requests for "
                        + (timeout - TimeUnit.NANOSECONDS.toMillis(SessionContact.marginNanos(timeout * 1_000_000L)))
                        + " ms, and the server may expire the session " + timeout + " ms after it last heard from it");
            }
            long timeoutNanos = TimeUnit.MILLISECONDS.toNanos(contact.timeoutMillis());
            if (ticker.nanos() - lastProbeNanos >= timeoutNanos / 4) {
                probe();
            }
        } catch (RuntimeException e) {
            log.debug("zookeeper: a session check failed", e);
        }
    }

    /** Sends one probe on the current handle; its answer counts for that handle's session only. */
    private void probe() {
        if (abandoned.getAsBoolean()) {
            return;
        }
        ZooKeeper handle = Holdings.handle(curator);
        if (handle == null || !handle.getState().isConnected()) {
            return;
        }
        if (inFlight.incrementAndGet() > MAX_PROBES_IN_FLIGHT) {
            inFlight.decrementAndGet();
            return;
        }
        long session = handle.getSessionId();
        long sent = ticker.nanos();
        lastProbeNanos = sent;
        try {
            handle.exists(
                    "/",
                    false,
                    (rc, path, ctx, stat) -> {
                        inFlight.decrementAndGet();
                        if (rc == Code.OK.intValue() || rc == Code.NONODE.intValue()) {
                            contact.answered(session, sent);
                        }
                    },
                    null);
        } catch (RuntimeException e) {
            inFlight.decrementAndGet();
            log.debug("zookeeper: a session probe could not be sent", e);
        }
    }
}
