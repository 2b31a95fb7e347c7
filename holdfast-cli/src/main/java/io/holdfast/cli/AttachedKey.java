package io.holdfast.cli;

import io.holdfast.HoldfastException;
import io.holdfast.LockClient;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.Watch;
import io.holdfast.WatchEvent;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What {@code holdfast kv put KEY VALUE --attach} does after its write: keeps the session, and so the attached key,
 * until SIGINT/SIGTERM or {@code --for} passed (then closes the client, which ends the session and deletes the key:
 * exit 0), or until the session ends without it (an operator's {@code holdfast sessions end}, an outage longer than
 * the session's TTL): then one line naming the cause and {@value ExitCodes#BACKEND_UNAVAILABLE}, as every command
 * whose session expired.
 *
 * <p>It learns of the end in two ways: a watch of KEY, whose {@code REGISTER_DELETED} with a session's cause comes as
 * soon as the service applied the end (and which survives a leader change or a restart within the TTL, as every
 * watch does), and, where the backend cannot watch keys or refused the watch, the client's own view of its session,
 * looked at every {@link #LOOK} (its heartbeats find an ended session within a quarter of the TTL, and an outage
 * after a whole TTL). Not covered: another client deleting or overwriting KEY while the session lives; the command
 * goes on holding its session then.
 */
final class AttachedKey implements WatchListener {
    /** How often the client's session is looked at, besides the watch. */
    static final Duration LOOK = Duration.ofSeconds(1);
    /** How many looks a lost session is left to the watch, which knows why it was lost. */
    private static final int LOOKS_FOR_THE_WATCH = 3;
    /** How long a signal waits for the client's close (the key's deletion) before the JVM exits. */
    private static final Duration CLOSE_ON_SIGNAL = Duration.ofSeconds(5);

    private final LockClient client;
    private final String key;
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile CliFailure lost;

    private AttachedKey(LockClient client, String key) {
        this.client = client;
        this.key = key;
    }

    /**
     * Holds KEY's session until stopped (SIGINT/SIGTERM), {@code holdFor} passed (null: no limit), or the session
     * ended; closes the client in the first two cases.
     *
     * @throws CliFailure ({@value ExitCodes#BACKEND_UNAVAILABLE}) naming the cause when the session ended by itself
     */
    static void hold(LockClient client, String key, Duration holdFor) throws InterruptedException {
        AttachedKey held = new AttachedKey(client, key);
        CountDownLatch closed = new CountDownLatch(1);
        Thread hook = new Thread(
                () -> {
                    held.done.countDown();
                    try {
                        closed.await(CLOSE_ON_SIGNAL.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                },
                "holdfast-kv-put-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        Watch watch = held.watch();
        try {
            held.await(holdFor, watch);
            if (held.lost != null) {
                throw held.lost;
            }
            client.close();
        } finally {
            if (watch != null) {
                watch.close();
            }
            closed.countDown();
            HeldChild.removeOnSignal(hook);
        }
    }

    /** A watch of KEY, or null where the backend cannot watch keys (the session is then looked at only). */
    private Watch watch() {
        try {
            return client.watch(WatchTarget.keys(key), this);
        } catch (UnsupportedFeatureException e) {
            return null;
        }
    }

    /**
     * Waits until stopped, {@code holdFor} passed or the session was lost, looking at the session every {@link #LOOK}.
     * A session the client no longer has is reported by the watch, with its reason, within a look or two; after
     * {@link #LOOKS_FOR_THE_WATCH} it is reported here.
     */
    private void await(Duration holdFor, Watch watch) throws InterruptedException {
        long start = System.nanoTime();
        int looksClosed = 0;
        while (lost == null) {
            long left = holdFor == null ? LOOK.toNanos() : holdFor.toNanos() - (System.nanoTime() - start);
            if (left <= 0 || done.await(Math.min(left, LOOK.toNanos()), TimeUnit.NANOSECONDS)) {
                return;
            }
            boolean watching = watch != null && watch.isOpen();
            if (!client.isOpen() && (!watching || ++looksClosed > LOOKS_FOR_THE_WATCH)) {
                lose("its session " + client.sessionId() + " ended (its client no longer has it)");
            }
        }
    }

    @Override
    public void onEvent(WatchEvent event) {
        if (event.type() == WatchEvent.Type.REGISTER_DELETED
                && event.name().equals(key)
                && client.sessionId().equals(event.sessionId())
                && (event.cause() == WatchEvent.Cause.SESSION_EXPIRED
                        || event.cause() == WatchEvent.Cause.SESSION_CLOSED)) {
            lose("its session " + event.sessionId() + " ended (" + event.cause() + ")");
        }
    }

    /** The watch ended: because the session did (its client says why), else it was refused: the session is still looked at. */
    @Override
    public void onEnd(HoldfastException cause) {
        if (cause != null && !client.isOpen()) {
            String message = cause.getMessage();
            int why = message.indexOf("the session ");
            lose(why < 0 ? message : message.substring(why));
        }
    }

    private void lose(String why) {
        if (lost == null && done.getCount() > 0) {
            lost = new CliFailure(ExitCodes.BACKEND_UNAVAILABLE, key + " is gone: " + why);
        }
        done.countDown();
    }
}
