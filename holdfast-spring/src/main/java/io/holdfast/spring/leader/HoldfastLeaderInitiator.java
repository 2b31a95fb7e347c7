package io.holdfast.spring.leader;

import io.holdfast.AcquireOptions;
import io.holdfast.Capability;
import io.holdfast.Election;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Leadership;
import io.holdfast.LockClient;
import io.holdfast.LockTimeoutException;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.internal.DaemonThreads;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.ApplicationEventPublisherAware;
import org.springframework.context.Lifecycle;
import org.springframework.context.SmartLifecycle;

/**
 * Campaigns on a Holdfast {@link Election} for as long as the Spring context runs, and runs the election's
 * {@link ClusterLeader} beans while this node leads: the Holdfast counterpart of Spring Integration's {@code
 * LockRegistryLeaderInitiator}, with an epoch. Auto-configured when {@code holdfast.leader.election} is set;
 * define more of them as beans for more elections.
 *
 * <p>From {@link #start()}, a thread of its own ({@code holdfast-leader-<election>}) campaigns. Elected, it starts
 * the beans (lowest phase first) and publishes {@link LeadershipGrantedEvent}; when the leadership ends it stops
 * them (highest phase first), publishes {@link LeadershipRevokedEvent}, resigns, and campaigns again.
 *
 * <p><b>Guarantees.</b> The beans run only between a grant and the end of that leadership: a loss the client
 * reports ({@link Leadership#onLost}: session expired, an operator revoked it) wakes the thread at once, and a
 * leadership that ended without a report (the client closed under it) is noticed within 200 ms. {@link #stop()}
 * (the context stopping or closing) stops the beans before it resigns, so the next node starts its copies only
 * after these have stopped, and returns once that is done (or after 30 s). Each grant's epoch is higher than
 * every earlier one of the election. A failed campaign, or a bean whose {@code start()} throws (the beans started
 * so far are stopped, and this node resigns), is retried after {@link #setRetryDelay the retry delay}.
 *
 * <p><b>Not guaranteed.</b> That the beans stop before another node's start, when this node cannot hear the
 * service: a process paused past its session TTL runs on until it wakes. The epoch ({@link #leadership()}) is
 * what lets storage refuse the old leader's writes. A client whose session expired or that was closed cannot
 * campaign again: the initiator logs it and stays a follower; a new session needs a new {@link LockClient}
 * (restart the application). Bean callbacks and event listeners run on the initiator's thread: one that blocks
 * holds up the next campaign, and a {@code stop()} that blocks holds up the resignation.
 *
 * <p><b>Failure story.</b> An operator revokes the election's lock on the leading node ({@code holdfast revoke
 * services/indexer}). The service pushes the loss to the client, the initiator's thread wakes, stops the indexer
 * bean and publishes a revoked event with {@code lost() == true}; meanwhile the next node was elected with a
 * higher epoch and started its indexer. This node queues as a candidate again.
 */
public class HoldfastLeaderInitiator implements SmartLifecycle, ApplicationEventPublisherAware {
    private static final Logger log = LoggerFactory.getLogger(HoldfastLeaderInitiator.class);
    /** How often a leader checks a leadership that might have ended without a loss report (a closed client). */
    private static final long CHECK_MILLIS = 200;
    /** The longest {@link #stop()} waits for the beans to stop. */
    private static final long STOP_MILLIS = 30_000;

    private final LockClient client;
    private final Election election;
    private final String value;
    private final LeaderBeans beans = new LeaderBeans();
    private volatile ApplicationEventPublisher publisher = event -> {};
    private volatile Duration retryDelay = Duration.ofSeconds(1);
    private int phase = Integer.MAX_VALUE - 1000;
    private boolean autoStartup = true;

    private final Object monitor = new Object();
    /** The campaign started by the last {@link #start()}; null when stopped. Guarded by {@link #monitor}. */
    private Run run;

    private volatile Leadership leading;

    /**
     * An initiator for the election {@code election} on {@code client}.
     *
     * @param value what this node proclaims as leader (an address, a host name); null for the host name
     * @throws InvalidArgumentException if the name is not a valid lock name, or the value is over 32 KiB
     * @throws UnsupportedFeatureException if the provider lacks what elections need (fenced registers and
     *     inspection: not PostgreSQL advisory locks, not the file provider)
     */
    public HoldfastLeaderInitiator(LockClient client, String election, String value) {
        this.client = Objects.requireNonNull(client, "client");
        for (Capability needed : List.of(Capability.FENCED_REGISTERS, Capability.INSPECT)) {
            if (!client.capabilities().contains(needed)) {
                throw new UnsupportedFeatureException(
                        "leader election needs " + needed + ", which this provider does not offer");
            }
        }
        this.election = client.election(election);
        this.value = value == null ? hostName() : value;
        if (this.value.getBytes(StandardCharsets.UTF_8).length > Election.MAX_VALUE_BYTES) {
            throw new InvalidArgumentException("the value is over " + Election.MAX_VALUE_BYTES + " bytes of UTF-8");
        }
    }

    /** The election's name. */
    public String getElection() {
        return election.name();
    }

    /** What this node proclaims when it leads. */
    public String getValue() {
        return value;
    }

    /**
     * Adds a bean to start while leading and stop when the leadership ends. Added while this node leads, it is
     * started from the next leadership on. The {@link ClusterLeader} beans are added at startup.
     */
    public void addLifecycle(Lifecycle bean) {
        add(String.valueOf(bean), bean);
    }

    /** As {@link #addLifecycle}, with the bean's name for the logs. */
    void add(String name, Lifecycle bean) {
        beans.add(name, bean);
    }

    /** The beans this initiator runs while leading. */
    public List<Lifecycle> getLifecycles() {
        return beans.lifecycles();
    }

    /**
     * The current leadership of this node, while it is valid as far as the client knows: its epoch for
     * storage, its lease for fenced writes ({@code VersionedRegister.compareAndSet(version, value, lease)}).
     */
    public Optional<Leadership> leadership() {
        Leadership l = leading;
        return l != null && l.isValid() ? Optional.of(l) : Optional.empty();
    }

    /** Whether this node leads the election now, as far as its client knows. */
    public boolean isLeader() {
        return leadership().isPresent();
    }

    /** How long to wait after a failed campaign, or a bean that failed to start, before campaigning again. */
    public void setRetryDelay(Duration retryDelay) {
        if (retryDelay == null || retryDelay.isNegative() || retryDelay.compareTo(Duration.ofMinutes(10)) > 0) {
            throw new InvalidArgumentException("retryDelay must be between 0 and 10m, not " + retryDelay);
        }
        this.retryDelay = retryDelay;
    }

    public void setPhase(int phase) {
        this.phase = phase;
    }

    public void setAutoStartup(boolean autoStartup) {
        this.autoStartup = autoStartup;
    }

    @Override
    public void setApplicationEventPublisher(ApplicationEventPublisher publisher) {
        this.publisher = Objects.requireNonNull(publisher, "publisher");
    }

    @Override
    public int getPhase() {
        return phase;
    }

    @Override
    public boolean isAutoStartup() {
        return autoStartup;
    }

    @Override
    public boolean isRunning() {
        synchronized (monitor) {
            return run != null;
        }
    }

    /** Starts campaigning on a thread of its own; returns at once. */
    @Override
    public void start() {
        synchronized (monitor) {
            if (run != null) {
                return;
            }
            run = new Run();
            run.thread.start();
        }
    }

    /**
     * Stops campaigning; if this node leads, stops the beans and then resigns. Waits for that (at most 30 s),
     * unless called from a bean's callback on the initiator's own thread.
     */
    @Override
    public void stop() {
        Run stopping;
        synchronized (monitor) {
            stopping = run;
            if (stopping == null) {
                return;
            }
            run = null;
            stopping.stopped = true;
            stopping.term.countDown();
            if (stopping.campaigning) {
                stopping.thread.interrupt(); // withdraws the candidacy; never sent while beans start or stop
            }
        }
        if (Thread.currentThread() == stopping.thread) {
            return;
        }
        try {
            stopping.thread.join(STOP_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (stopping.thread.isAlive()) {
            log.warn("election {}: the leader's beans are still stopping after {} ms", getElection(), STOP_MILLIS);
        }
    }

    /** One campaign, from {@link #start()} to {@link #stop()}: its thread and what stops it. */
    private final class Run implements Runnable {
        final Thread thread = DaemonThreads.thread(this, "holdfast-leader-" + getElection());
        /** Counted down when the current leadership ends: lost, or stop(). */
        volatile CountDownLatch term = new CountDownLatch(1);
        /** Guarded by the monitor: set by stop(). */
        boolean stopped;
        /** Guarded by the monitor: the thread waits only for the service or the retry delay, and may be interrupted. */
        boolean campaigning;

        @Override
        public void run() {
            try {
                campaignUntilStopped();
            } finally {
                Leadership held = leading; // null, unless an Error escaped a bean: then give the leadership up
                if (held != null) {
                    leading = null;
                    resign(held);
                }
            }
        }

        private void campaignUntilStopped() {
            while (!stopped()) {
                if (!client.isOpen()) {
                    log.error(
                            "election {}: the client's session is over (expired or closed); this node no longer"
                                    + " campaigns. Restart the application for a new session.",
                            getElection());
                    return;
                }
                Leadership won = interruptibly(this::campaign);
                if (won != null && !lead(won)) {
                    interruptibly(this::retryDelay);
                }
            }
        }

        private boolean stopped() {
            synchronized (monitor) {
                return stopped;
            }
        }

        private Leadership campaign() throws InterruptedException {
            try {
                return election.campaign(value, AcquireOptions.waitUpTo(AcquireOptions.MAX_DURATION));
            } catch (LockTimeoutException e) {
                return null; // a day without being elected: campaign again
            } catch (RuntimeException e) {
                if (client.isOpen() && !stopped()) {
                    log.warn(
                            "election {}: campaigning failed, again in {}: {}",
                            getElection(),
                            retryDelay,
                            e.toString());
                    retryDelay();
                }
                return null;
            }
        }

        private Leadership retryDelay() throws InterruptedException {
            TimeUnit.NANOSECONDS.sleep(retryDelay.toNanos());
            return null;
        }

        /** Runs a wait that {@link #stop()} may interrupt; null when interrupted or stopped. */
        private Leadership interruptibly(Waiting waiting) {
            synchronized (monitor) {
                if (stopped) {
                    return null;
                }
                campaigning = true;
            }
            try {
                return waiting.call();
            } catch (InterruptedException e) {
                return null; // stop() withdrew the candidacy
            } finally {
                synchronized (monitor) {
                    campaigning = false;
                }
                Thread.interrupted(); // an interrupt from stop() is spent: the beans' callbacks must not see it
            }
        }

        /** Leads until the leadership ends or stop(); false if a bean failed to start. */
        private boolean lead(Leadership won) {
            CountDownLatch ended = new CountDownLatch(1);
            term = ended; // before the check: a stop() after it counts this one down
            won.onLost(e -> {
                log.warn("election {}: leadership (epoch {}) lost: {}", getElection(), won.epoch(), e.getMessage());
                ended.countDown();
            });
            if (stopped()) {
                resign(won);
                return true;
            }
            leading = won;
            List<Lifecycle> started = beans.start(getElection(), won.epoch(), retryDelay);
            if (started == null) {
                leading = null;
                resign(won);
                return false;
            }
            log.info("election {}: leading, epoch {} ({} beans started)", getElection(), won.epoch(), started.size());
            publish(new LeadershipGrantedEvent(HoldfastLeaderInitiator.this, getElection(), won.epoch(), value));
            while (won.isValid()) {
                try {
                    if (ended.await(CHECK_MILLIS, TimeUnit.MILLISECONDS)) {
                        break;
                    }
                } catch (InterruptedException e) {
                    Thread.interrupted(); // stop() does not interrupt a leader; whoever did, it is not the end
                }
            }
            boolean taken = !won.isValid();
            leading = null;
            beans.stop(getElection(), started);
            publish(new LeadershipRevokedEvent(HoldfastLeaderInitiator.this, getElection(), won.epoch(), value, taken));
            resign(won);
            log.info(
                    "election {}: {} epoch {}, its beans stopped",
                    getElection(),
                    taken ? "lost" : "resigned",
                    won.epoch());
            return true;
        }
    }

    /** A wait of the campaign thread that stop() may interrupt. */
    private interface Waiting {
        Leadership call() throws InterruptedException;
    }

    private void resign(Leadership won) {
        try {
            won.resign();
        } catch (RuntimeException e) {
            // Lost already (LockLostException), or the service did not answer: the lease ends with the session.
            log.debug("election {}: resigning epoch {}: {}", getElection(), won.epoch(), e.toString());
        }
    }

    private void publish(LeadershipEvent event) {
        try {
            publisher.publishEvent(event);
        } catch (RuntimeException e) {
            log.warn("election {}: a listener of {} failed", getElection(), event, e);
        }
    }

    /** This machine's host name, the default value a leader proclaims. */
    static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            String env = System.getenv("HOSTNAME");
            return env == null || env.isBlank() ? "unknown-host" : env;
        }
    }

    @Override
    public String toString() {
        return "HoldfastLeaderInitiator[" + getElection() + ", " + value + (isLeader() ? ", leading" : "") + "]";
    }
}
