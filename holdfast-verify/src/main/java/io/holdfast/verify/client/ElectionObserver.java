package io.holdfast.verify.client;

import io.holdfast.Election;
import io.holdfast.LockClient;
import io.holdfast.Watch;
import io.holdfast.verify.history.Call;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows one election with {@link Election#observe} and records every report as an OBSERVED
 * notice (phase {@value Workload#PHASE}): the leader's epoch (0 when nobody leads) and the value
 * it proclaimed (null when not yet).
 *
 * <p><b>Guarantees.</b> Every report the observation makes is recorded, in the order it was made,
 * with the time it was made. When the observation ends (its client closed after its session
 * expired, or the service refused it), a new one starts on the current client within 200 ms.
 *
 * <p><b>Not guaranteed.</b> That every leadership is reported: where watches poll, a leadership
 * that begins and ends between two reads is not, and none is while the process is paused. The
 * checker asks only that what is reported be true and in order.
 *
 * <p><b>Failure story.</b> The process is paused past its session's TTL; its client finds the
 * session expired and closes, which ends the watch. The next look finds it closed, asks for the
 * current client (a new session) and observes again: the first report is the leader now, whose
 * epoch is at least the last one reported before.
 */
public final class ElectionObserver {
    private static final Logger LOG = LoggerFactory.getLogger(ElectionObserver.class);
    private static final long LOOK_MILLIS = 100;
    private static final long RETRY_MILLIS = 200;

    private final Recorder rec;
    private final Supplier<LockClient> client;
    private final String election;
    private volatile boolean stopping;
    private Thread thread;

    /**
     * @param rec where its reports go
     * @param client the current client (asked again when an observation ends)
     * @param election the election's name
     */
    public ElectionObserver(Recorder rec, Supplier<LockClient> client, String election) {
        this.rec = rec;
        this.client = client;
        this.election = election;
    }

    /** Starts observing on a daemon thread. @throws IllegalStateException if started before */
    public synchronized void start() {
        if (thread != null) {
            throw new IllegalStateException("the observer of " + election + " was started already");
        }
        thread = new Thread(this::run, "observe-" + election);
        thread.setDaemon(true);
        thread.start();
    }

    /** Stops observing and waits for the thread (its last report may still be recorded). */
    public void stop() throws InterruptedException {
        stopping = true;
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            t.interrupt();
            t.join(5_000);
        }
    }

    private void run() {
        while (!stopping) {
            Watch watch = null;
            try {
                watch = client.get().election(election).observe(this::told);
                while (!stopping && watch.isOpen()) {
                    TimeUnit.MILLISECONDS.sleep(LOOK_MILLIS);
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.debug("observing {} failed; again in {} ms", election, RETRY_MILLIS, e);
            } finally {
                if (watch != null) {
                    watch.close();
                }
            }
            try {
                TimeUnit.MILLISECONDS.sleep(RETRY_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void told(Optional<Election.Leader> leader) {
        rec.record(
                Workload.PHASE,
                new Call.Observed(
                        election,
                        leader.map(Election.Leader::epoch).orElse(0L),
                        leader.map(Election.Leader::value).orElse(null)));
    }
}
